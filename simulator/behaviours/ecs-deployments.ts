import type { Task } from '@aws-sdk/client-ecs';
import type { Behaviour, BehaviourContext, BehaviourFactory } from '../behaviour';
import { awsSuccessResponse, type SimResponse } from '../protocol';
import { unflattenQuery } from '../query-params';
import { applyAlarmChanges, controlRoute, newEcsControl, resetEcsControl } from './support/ecs-deployments-control';
import { jsonResponse, parseJson, specOf, str } from './support/ecs-json';
import { describeDeployment, describeTask, live, specFields, type SimTask, type TrackedService } from './support/ecs-model';
import { createEcsWorld, serviceName as name } from './support/ecs-world';
import { rewriteTargetHealth, targetState } from './support/target-health';

/**
 * ECS services as ECS runs them, which moto does not (moto keeps one PRIMARY deployment that never
 * moves, places no service tasks and reports `runningCount = desiredCount` at once). Every
 * CreateService, and every UpdateService that changes the task definition, starts a deployment; its
 * tasks are placed on container instances with room (support/placement.ts) as moto tasks (StartTask,
 * so they hold CPU and memory there and drains see them), reach RUNNING `rolloutMs` later, and are
 * registered in the service's target groups, where their health is checked (support/target-health.ts).
 *
 * What it follows:
 *  - rolling update (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html):
 *    new tasks start while the running total stays within `maximumPercent` of the desired count (200
 *    by default); old tasks stop while the tasks in service (RUNNING, every target healthy) stay at or
 *    above `minimumHealthyPercent` (100 by default); the deployment is COMPLETED when only its own
 *    tasks are left, all in service;
 *  - load balancing (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-load-balancing.html):
 *    ECS registers each task (instance id and host port; dynamic in bridge mode) in every target group
 *    of the service and deregisters it when the task stops; the deregistration delay is not waited
 *    for here (target draining is the drain's part of the simulator);
 *  - `healthCheckGracePeriodSeconds` (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html):
 *    the scheduler ignores failed load balancer health checks for that long after a task started;
 *    after it, a task with an unhealthy target is stopped ("Task failed ELB health checks in
 *    (target-group ...)") and replaced;
 *  - the deployment circuit breaker (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html),
 *    only where `deploymentConfiguration.deploymentCircuitBreaker.enable` is set: tasks that fail to
 *    start or fail their health checks count, a task that becomes healthy resets the count; at the
 *    threshold (half the desired count, 3 to 200) the deployment is FAILED and launches no more tasks;
 *    with `rollback` the service goes back to the last completed task definition. Without the breaker
 *    ECS keeps replacing failed tasks, and says SERVICE_TASK_START_IMPAIRED once;
 *  - EventBridge (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_deployment_events.html,
 *    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_events.html):
 *    `ECS Deployment State Change` (SERVICE_DEPLOYMENT_IN_PROGRESS, _COMPLETED, _FAILED) and `ECS
 *    Service Action` (SERVICE_TASK_PLACEMENT_FAILURE, SERVICE_TASK_START_IMPAIRED), through ctx.events.
 *
 * DescribeServices also returns what moto drops (deploymentConfiguration, placement, grace period,
 * capacity provider strategy).
 * Tasks others put in a tracked service's group (RunTask/StartTask with `group: service:<name>`, as
 * fixtures and the drain's scheduler do) count as the service's; the scheduler's replacements (its
 * deployment id as `startedBy`) are registered like its own. Tasks stopped by others are noticed.
 *
 * The scheduler itself is support/ecs-world.ts; this module wires it to the API. The control routes
 * and their settings are support/ecs-deployments-control.ts.
 *
 * Control routes under /_sim/ecs-deployments:
 *   PUT  /config            { rolloutMs?, cluster? }             placement to RUNNING (with cluster: there only)
 *   POST /failing-revisions { match, mode?: exit|unhealthy, stopCode?, reason? }
 *   POST /alarm-schedule    { alarmName, state, reason?, afterMs }
 *   GET  /services          tracked services with deployments, tasks and their targets
 */

/** Calls that can change which groups a listener forwards to, or a group's health check. */
const ELB_CHANGES = new Set(['CreateListener', 'ModifyListener', 'DeleteListener', 'CreateRule', 'ModifyRule', 'DeleteRule', 'DeleteLoadBalancer', 'ModifyTargetGroup']);

export function createEcsDeploymentsBehaviour(now: () => number = Date.now): Behaviour {
  const control = newEcsControl();
  const world = createEcsWorld(now, { rolloutMs: (cluster) => control.clusterRolloutMs.get(cluster) ?? control.rolloutMs, failing: control.failing });
  const { services, targets, key, advance, startDeployment, adopt, stopTask, mirrorTarget, findTask } = world;

  async function advanceAll(ctx: BehaviourContext): Promise<void> {
    for (const svc of services.values()) await advance(ctx, svc);
    await applyAlarmChanges(ctx, control, now);
  }

  const ok = (res: SimResponse) => res.status === 200 && !res.headers['content-encoding'];
  const tracked = (region: string, p: Record<string, unknown>) => services.get(key(region, str(p.cluster) ?? 'default', str(p.service) ?? str(p.serviceName) ?? ''));

  async function afterEcs(req: { region: string; action: string; params: Record<string, unknown> }, res: SimResponse, ctx: BehaviourContext): Promise<SimResponse | void> {
    if (!ok(res)) return;
    const p = req.params;
    switch (req.action) {
      case 'CreateService': {
        const out = parseJson(res.body)?.service as Record<string, unknown> | undefined;
        const serviceArn = str(out?.serviceArn);
        const clusterArn = str(out?.clusterArn);
        const taskDefinition = str(out?.taskDefinition);
        if (!out || !serviceArn || !clusterArn || !taskDefinition) return;
        const desired = typeof out.desiredCount === 'number' ? out.desiredCount : 0;
        const svc: TrackedService = {
          region: req.region,
          cluster: name(clusterArn),
          clusterArn,
          serviceName: name(serviceArn),
          serviceArn,
          desiredCount: desired,
          spec: specOf(p),
          deployments: [],
          tasks: [],
          deleted: false,
          adoptedStartedBy: new Set(),
          lock: Promise.resolve(),
        };
        services.set(key(req.region, svc.cluster, svc.serviceName), svc);
        startDeployment(ctx, svc, taskDefinition);
        return jsonResponse(res, { ...parseJson(res.body), service: { ...out, ...specFields(svc.spec), deployments: svc.deployments.map((d) => describeDeployment(d, svc)) } });
      }
      case 'UpdateService': {
        const svc = tracked(req.region, p);
        if (!svc) return;
        await advance(ctx, svc);
        const out = parseJson(res.body)?.service as Record<string, unknown> | undefined;
        svc.lock = svc.lock.then(() => {
          if (typeof p.desiredCount === 'number') svc.desiredCount = p.desiredCount;
          svc.spec = specOf(p, svc.spec);
          const primary = svc.deployments.find((d) => d.status === 'PRIMARY');
          const td = str(out?.taskDefinition) ?? str(p.taskDefinition);
          if ((td && td !== primary?.taskDefinition) || p.forceNewDeployment === true) startDeployment(ctx, svc, td ?? primary?.taskDefinition ?? '');
          else if (primary) primary.desiredCount = svc.desiredCount;
        });
        await svc.lock;
        return;
      }
      case 'DeleteService': {
        const svc = tracked(req.region, p);
        if (!svc) return;
        svc.deleted = true;
        await advance(ctx, svc);
        return;
      }
      case 'RunTask':
      case 'StartTask': {
        const group = str(p.group);
        if (!group?.startsWith('service:')) return;
        const svc = services.get(key(req.region, str(p.cluster) ?? 'default', group.slice('service:'.length)));
        if (!svc || svc.deleted) return;
        const tasks = (parseJson(res.body)?.tasks as Task[] | undefined) ?? [];
        svc.lock = svc.lock.then(async () => {
          for (const t of tasks) await adopt(ctx, svc, t);
        });
        await svc.lock;
        return;
      }
      case 'DescribeServices': {
        const body = parseJson(res.body);
        const list = body?.services;
        if (!body || !Array.isArray(list)) return;
        let changed = false;
        for (const s of list as Record<string, unknown>[]) {
          const svc = services.get(key(req.region, str(s.clusterArn) ?? str(p.cluster) ?? 'default', str(s.serviceName) ?? ''));
          if (!svc || svc.deleted || s.status === 'INACTIVE') continue;
          await advance(ctx, svc);
          // A service on a capacity provider strategy has no launch type (moto reports EC2).
          if (svc.spec.capacityProviderStrategy?.length) delete s.launchType;
          Object.assign(s, specFields(svc.spec), {
            deployments: svc.deployments.map((d) => describeDeployment(d, svc)),
            runningCount: svc.tasks.filter((k) => k.lastStatus === 'RUNNING').length,
            pendingCount: svc.tasks.filter((k) => k.lastStatus === 'PENDING').length,
            desiredCount: svc.desiredCount,
          });
          changed = true;
        }
        return changed ? jsonResponse(res, body) : undefined;
      }
      case 'DescribeTasks': {
        const body = parseJson(res.body);
        const wanted = Array.isArray(p.tasks) ? (p.tasks as unknown[]).map(String) : [];
        const ours = wanted.map(findTask).filter((x): x is { task: SimTask; svc: TrackedService } => x !== undefined);
        if (!body || ours.length === 0) return;
        const motoTasks = new Map(((body.tasks as Record<string, unknown>[] | undefined) ?? []).map((t) => [String(t.taskArn), t]));
        for (const o of ours) {
          // Stopped by someone else since the last step: ECS would say so now.
          const m = motoTasks.get(o.task.taskArn);
          if (live(o.task) && m?.desiredStatus === 'STOPPED') {
            await stopTask(ctx, o.svc, o.task, str(m.stopCode) ?? 'UserInitiated', str(m.stoppedReason) || 'Task stopped', { inMoto: false });
          }
        }
        const ourArns = new Set(ours.map((o) => o.task.taskArn));
        const tasks = [...motoTasks.values()].filter((t) => !ourArns.has(String(t.taskArn)));
        const failures = Array.isArray(body.failures) ? (body.failures as Record<string, unknown>[]).filter((f) => !ours.some((o) => String(f.arn ?? '').endsWith(name(o.task.taskArn)))) : [];
        return jsonResponse(res, { ...body, tasks: [...tasks, ...ours.map((o) => describeTask(o.task, o.svc, motoTasks.get(o.task.taskArn)))], failures });
      }
      default:
        return;
    }
  }

  async function afterElb(req: { region: string; action: string; params: Record<string, unknown> }, res: SimResponse, ctx: BehaviourContext): Promise<SimResponse | void> {
    if (res.status !== 200) return;
    const p = unflattenQuery(req.params);
    const tg = typeof p.TargetGroupArn === 'string' ? p.TargetGroupArn : undefined;
    if (!tg) return;
    const requested = Array.isArray(p.Targets)
      ? p.Targets.map((x) => (x && typeof x === 'object' && !Array.isArray(x) ? { id: String(x.Id ?? ''), port: typeof x.Port === 'string' ? Number(x.Port) : undefined } : { id: '' }))
      : undefined;
    if (req.action === 'DeregisterTargets') {
      // Someone (a drain) took targets out: the group no longer routes to them; the tasks run on.
      for (const r of requested ?? []) {
        for (const t of targets.onId(tg, r.id).filter((x) => r.port === undefined || x.port === r.port)) targets.remove(tg, t.id, t.port);
        if (targets.onId(tg, r.id).length > 0) await mirrorTarget(ctx, req.region, tg, r.id);
      }
      return;
    }
    if (req.action !== 'DescribeTargetHealth') return;
    const mine = targets.ofGroup(tg);
    if (mine.length === 0) return;
    const hc = await targets.healthCheck(ctx.aws(req.region).elbv2, tg, now());
    const xml = rewriteTargetHealth(
      res.body.toString('utf8'),
      mine.map((t) => ({ id: t.id, port: t.port, state: targetState(t, hc, now()) })),
      requested,
    );
    return { ...res, headers: { ...res.headers, 'content-length': String(Buffer.byteLength(xml)) }, body: Buffer.from(xml) };
  }

  return {
    name: 'ecs-deployments',
    async intercept(req, ctx) {
      if (req.service !== 'ecs' || req.action !== 'ListTasks') return undefined;
      const serviceName = str(req.params.serviceName);
      if (!serviceName) return undefined;
      const svc = services.get(key(req.region, str(req.params.cluster) ?? 'default', serviceName));
      if (!svc) return undefined;
      await advance(ctx, svc);
      const desired = str(req.params.desiredStatus) ?? 'RUNNING';
      const arns = svc.tasks.filter((k) => (desired === 'STOPPED' ? k.lastStatus === 'STOPPED' : live(k))).map((k) => k.taskArn);
      return awsSuccessResponse(req, { json: { taskArns: arns } });
    },
    async afterResponse(req, res, ctx) {
      if (req.service === 'ecs') return afterEcs(req, res, ctx);
      if (req.service === 'elasticloadbalancing' && ELB_CHANGES.has(req.action)) targets.forgetChecks();
      if (req.service === 'elasticloadbalancing' && (req.action === 'DescribeTargetHealth' || req.action === 'DeregisterTargets')) return afterElb(req, res, ctx);
      return undefined;
    },
    tick: {
      intervalMs: 500,
      run: (ctx) => advanceAll(ctx),
    },
    route: (req) => controlRoute(req, control, world, now),
    reset() {
      resetEcsControl(control);
      world.reset();
    },
  };
}

export const ecsDeploymentsBehaviour: BehaviourFactory = () => createEcsDeploymentsBehaviour();
