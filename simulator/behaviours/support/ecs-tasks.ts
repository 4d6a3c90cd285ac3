import { RunTaskCommand, StartTaskCommand, StopTaskCommand, type Task } from '@aws-sdk/client-ecs';
import type { BehaviourContext } from '../../behaviour';
import type { DeploymentEvents } from './ecs-deployment-events';
import { live, type Binding, type SimDeployment, type SimTask, type TaskDefinitionInfo, type TrackedService } from './ecs-model';
import type { ServiceTargets } from './ecs-service-targets';
import type { TaskDefinitions } from './ecs-task-definitions';
import { chooseInstance, instancesOf, type InstanceRoom } from './placement';

/**
 * Placing and stopping a service's tasks, as "How Amazon ECS places tasks on container instances"
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-placement.html) describes: only
 * instances with room (CPU, memory, host ports) take a task, dynamic host ports come from the
 * ephemeral range, and a task that cannot be placed is told as SERVICE_TASK_PLACEMENT_FAILURE.
 */

/** The ephemeral range ECS takes dynamic host ports from. */
const FIRST_DYNAMIC_PORT = 32_768;

export interface EcsTaskDeps {
  now: () => number;
  services: Map<string, TrackedService>;
  taskDefinitions: TaskDefinitions;
  targets: ServiceTargets;
  events: DeploymentEvents;
}

export function privateIp(t: Task | undefined): string {
  const details = t?.attachments?.flatMap((a) => a.details ?? []) ?? [];
  return details.find((d) => d.name === 'privateIPv4Address')?.value ?? '';
}

export function createEcsTasks({ now, services, taskDefinitions, targets, events }: EcsTaskDeps) {
  async function stopTask(ctx: BehaviourContext, svc: TrackedService, task: SimTask, stopCode: string, reason: string, o: { exitCode?: number; inMoto?: boolean } = {}) {
    if (task.lastStatus === 'STOPPED') return;
    task.lastStatus = 'STOPPED';
    task.stoppedAtMs = now();
    task.stopCode = stopCode;
    task.stoppedReason = reason;
    task.exitCode = o.exitCode;
    await targets.deregisterTargets(ctx, svc, task);
    if (o.inMoto === false) return;
    try {
      await ctx.aws(svc.region).ecs.send(new StopTaskCommand({ cluster: svc.cluster, task: task.taskArn, reason }));
    } catch (err) {
      ctx.log.debug({ err, task: task.taskArn }, 'StopTask in moto failed');
    }
  }

  function usedPorts(cluster: string, containerInstanceArn: string): Set<number> {
    const used = new Set<number>();
    for (const s of services.values()) {
      if (s.cluster !== cluster) continue;
      for (const t of s.tasks) if (live(t) && t.containerInstanceArn === containerInstanceArn) for (const b of t.bindings) used.add(b.hostPort);
    }
    return used;
  }

  function bindingsFor(info: TaskDefinitionInfo, cluster: string, containerInstanceArn: string): Binding[] {
    const used = usedPorts(cluster, containerInstanceArn);
    let next = FIRST_DYNAMIC_PORT;
    return info.containers.flatMap((c) =>
      c.portMappings.map((m) => {
        let hostPort = info.networkMode === 'bridge' ? (m.hostPort ?? 0) : m.containerPort;
        if (hostPort === 0) {
          while (used.has(next)) next += 1;
          hostPort = next;
        }
        used.add(hostPort);
        return { containerName: c.name, containerPort: m.containerPort, hostPort };
      }),
    );
  }

  function failTask(d: SimDeployment | undefined, how: string): void {
    if (!d) return;
    d.lastFailure = how;
    d.failedTasks += 1;
    d.breakerFailures += 1;
    d.updatedAtMs = now();
  }

  /** Places up to `count` tasks of deployment `d`; fewer when no container instance has room. */
  async function place(ctx: BehaviourContext, svc: TrackedService, d: SimDeployment, count: number): Promise<void> {
    const ecs = ctx.aws(svc.region).ecs;
    const info = await taskDefinitions.info(ctx, svc.region, d.taskDefinition);
    const rule = await taskDefinitions.failingRule(ctx, svc.region, d.taskDefinition);
    const instances: InstanceRoom[] = await instancesOf(ecs, svc.cluster);
    const group = `service:${svc.serviceName}`;
    for (let i = 0; i < count; i++) {
      const placed = svc.tasks.filter(live).map((t) => t.containerInstanceArn);
      let task: Task | undefined;
      let room: InstanceRoom | undefined;
      if (info.networkMode === 'awsvpc') {
        // moto's StartTask takes no network configuration: RunTask places awsvpc tasks (on moto's choice of instance).
        const out = await ecs.send(
          new RunTaskCommand({ cluster: svc.cluster, taskDefinition: d.taskDefinition, count: 1, startedBy: d.id, group, networkConfiguration: svc.spec.networkConfiguration as never }),
        );
        task = out.tasks?.[0];
        room = instances.find((x) => x.containerInstanceArn === task?.containerInstanceArn);
        if (!task) {
          reportPlacement(ctx, svc, 'no container instance met all of its requirements');
          return;
        }
      } else {
        const choice = chooseInstance(instances, info.needs, placed, svc.spec.placementStrategy, svc.spec.placementConstraints);
        if ('reason' in choice) {
          reportPlacement(ctx, svc, choice.reason);
          return;
        }
        room = choice.instance;
        const out = await ecs.send(
          new StartTaskCommand({ cluster: svc.cluster, taskDefinition: d.taskDefinition, containerInstances: [room.containerInstanceArn], startedBy: d.id, group }),
        );
        task = out.tasks?.[0];
        if (!task?.taskArn) return;
      }
      if (room) {
        room.cpu -= info.needs.cpu;
        room.memory -= info.needs.memory;
        for (const p of info.needs.hostPorts) room.ports.add(String(p));
      }
      svc.placementFailure = undefined;
      const containerInstanceArn = task.containerInstanceArn ?? room?.containerInstanceArn ?? '';
      svc.tasks.push({
        taskArn: task.taskArn ?? '',
        taskDefinitionArn: d.taskDefinition,
        deploymentId: d.id,
        startedBy: d.id,
        containerInstanceArn,
        targetId: info.networkMode === 'awsvpc' ? privateIp(task) : (room?.ec2InstanceId ?? ''),
        lastStatus: 'PENDING',
        createdAtMs: now(),
        containerName: info.containers[0]?.name ?? 'app',
        bindings: bindingsFor(info, svc.cluster, containerInstanceArn),
        adopted: false,
        failing: rule,
      });
    }
  }

  function reportPlacement(ctx: BehaviourContext, svc: TrackedService, reason: string): void {
    if (svc.placementFailure === reason) return;
    svc.placementFailure = reason;
    events.serviceAction(ctx, svc, 'SERVICE_TASK_PLACEMENT_FAILURE', `(service ${svc.serviceName}) was unable to place a task because no container instance met all of its requirements: ${reason}`);
  }

  return { stopTask, bindingsFor, failTask, place };
}

export type EcsTasks = ReturnType<typeof createEcsTasks>;
