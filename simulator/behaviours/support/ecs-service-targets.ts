import { DeregisterTargetsCommand, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { BehaviourContext } from '../../behaviour';
import type { SimTask, TrackedService } from './ecs-model';
import { targetState, type TargetRegistry, type TargetState } from './target-health';

/**
 * The targets ECS registers for a service's tasks, as "Use load balancing to distribute Amazon ECS
 * service traffic" (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-load-balancing.html)
 * says: each task in every target group of the service (instance id and host port), deregistered when
 * it stops; a task is in service once every one of its targets is healthy.
 */
export function createServiceTargets(now: () => number, targets: TargetRegistry) {
  /** moto keys a group's targets by id: keep one registration there while the registry has any on that id. */
  async function mirrorTarget(ctx: BehaviourContext, region: string, tg: string, id: string): Promise<void> {
    const left = targets.onId(tg, id);
    const elbv2 = ctx.aws(region).elbv2;
    try {
      if (left.length > 0) await elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: tg, Targets: [{ Id: id, Port: left[0]!.port }] }));
      else await elbv2.send(new DeregisterTargetsCommand({ TargetGroupArn: tg, Targets: [{ Id: id }] }));
    } catch (err) {
      ctx.log.debug({ err, tg, id }, 'target mirror in moto failed');
    }
  }

  async function registerTargets(ctx: BehaviourContext, svc: TrackedService, task: SimTask): Promise<void> {
    for (const lb of svc.spec.loadBalancers) {
      const b = task.bindings.find((x) => x.containerName === lb.containerName && x.containerPort === lb.containerPort);
      if (!b || !task.targetId) continue;
      targets.add({ targetGroupArn: lb.targetGroupArn, id: task.targetId, port: b.hostPort, registeredAtMs: now(), failing: task.failing?.mode === 'unhealthy', taskArn: task.taskArn });
      await mirrorTarget(ctx, svc.region, lb.targetGroupArn, task.targetId);
    }
  }

  async function deregisterTargets(ctx: BehaviourContext, svc: TrackedService, task: SimTask): Promise<void> {
    for (const t of targets.ofTask(task.taskArn)) {
      targets.remove(t.targetGroupArn, t.id, t.port);
      await mirrorTarget(ctx, svc.region, t.targetGroupArn, t.id);
    }
  }

  async function targetStates(ctx: BehaviourContext, svc: TrackedService, task: SimTask): Promise<{ tg: string; state: TargetState }[]> {
    const out = [];
    for (const t of targets.ofTask(task.taskArn)) {
      const hc = await targets.healthCheck(ctx.aws(svc.region).elbv2, t.targetGroupArn, now());
      out.push({ tg: t.targetGroupArn, state: targetState(t, hc, now()) });
    }
    return out;
  }

  /** RUNNING with every target healthy (a task without targets: RUNNING). */
  async function inService(ctx: BehaviourContext, svc: TrackedService, task: SimTask): Promise<boolean> {
    if (task.lastStatus !== 'RUNNING') return false;
    if (task.adopted) return true;
    return (await targetStates(ctx, svc, task)).every((s) => s.state.state === 'healthy');
  }

  return { mirrorTarget, registerTargets, deregisterTargets, targetStates, inService };
}

export type ServiceTargets = ReturnType<typeof createServiceTargets>;
