import type { BehaviourContext } from '../../behaviour';
import { createDeploymentEvents } from './ecs-deployment-events';
import { breakerThreshold, live, type FailingRevision, type SimDeployment, type SimTask, type TrackedService } from './ecs-model';
import { createServiceTargets } from './ecs-service-targets';
import { createTaskDefinitions } from './ecs-task-definitions';
import { createEcsTaskSync } from './ecs-task-sync';
import { createEcsTasks } from './ecs-tasks';
import { instancesOf } from './placement';
import { TargetRegistry } from './target-health';

/**
 * The ECS service scheduler of the ecs-deployments behaviour: the tracked services, their deployments
 * and tasks, and the targets ECS registers for them. `advance` moves one service forward to `now()`;
 * the behaviour calls it on ticks and before answering reads.
 *
 * Follows the Amazon ECS Developer Guide: "Deploy Amazon ECS services by replacing tasks"
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html: minimum
 * healthy and maximum percent bound each step), "How Amazon ECS places tasks on container instances"
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-placement.html: only instances with
 * room; dynamic host ports from the ephemeral range), "Health check grace period"
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-load-balancing.html), and "How
 * the Amazon ECS deployment circuit breaker detects failures"
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html).
 *
 * The parts: task definitions (ecs-task-definitions.ts), deployments and their events
 * (ecs-deployment-events.ts), targets (ecs-service-targets.ts), placing and stopping tasks
 * (ecs-tasks.ts), and noticing what others did in moto (ecs-task-sync.ts). This module is the
 * scheduler's step: start, health, circuit breaker, rolling update.
 */

/** Stopped tasks kept per service (ECS keeps them about an hour; enough for analysis windows). */
const MAX_STOPPED_TASKS = 200;

export const serviceName = (arnOrName: string): string => arnOrName.slice(arnOrName.lastIndexOf('/') + 1);
const name = serviceName;

export interface EcsWorldOptions {
  /** How long a placed task takes to reach RUNNING, in the cluster of that name. */
  rolloutMs: (cluster: string) => number;
  /** Revisions whose tasks fail (exit at start, or fail health checks). */
  failing: readonly FailingRevision[];
}

export function createEcsWorld(now: () => number, opts: EcsWorldOptions) {
  const services = new Map<string, TrackedService>();
  const targets = new TargetRegistry();
  const taskDefinitions = createTaskDefinitions(opts.failing);
  const events = createDeploymentEvents(now);
  const serviceTargets = createServiceTargets(now, targets);
  const tasks = createEcsTasks({ now, services, taskDefinitions, targets: serviceTargets, events });
  const taskSync = createEcsTaskSync({ now, taskDefinitions, targets: serviceTargets, tasks });
  const { deploymentEvent, serviceAction, startDeployment } = events;
  const { registerTargets, targetStates, inService, mirrorTarget } = serviceTargets;
  const { stopTask, failTask, place } = tasks;
  const { adopt, sync } = taskSync;

  const key = (region: string, cluster: string, service: string) => `${region}|${name(cluster)}|${name(service)}`;

  // ---- the scheduler ----

  function advance(ctx: BehaviourContext, svc: TrackedService): Promise<void> {
    svc.lock = svc.lock
      .then(() => step(ctx, svc))
      .catch((err: unknown) => {
        // The cluster went (a reset, a deleted cluster): so did the service.
        if ((err as { name?: string }).name === 'ClusterNotFoundException') services.delete(key(svc.region, svc.cluster, svc.serviceName));
        else ctx.log.warn({ err, service: svc.serviceName }, 'ecs-deployments step failed');
      });
    return svc.lock;
  }

  async function step(ctx: BehaviourContext, svc: TrackedService): Promise<void> {
    if (svc.deleted) {
      for (const t of svc.tasks) await stopTask(ctx, svc, t, 'ServiceSchedulerInitiated', 'Service deleted');
      return;
    }
    await sync(ctx, svc);
    const t = now();
    const primary = svc.deployments.find((d) => d.status === 'PRIMARY');
    if (!primary) return;
    primary.desiredCount = svc.desiredCount;
    const depOf = (task: SimTask) => svc.deployments.find((d) => d.id === task.deploymentId);

    // Placed tasks start; a failing revision's essential container exits at once.
    for (const task of svc.tasks.filter((k) => k.lastStatus === 'PENDING' && t - k.createdAtMs >= opts.rolloutMs(svc.cluster))) {
      task.startedAtMs = t;
      if (task.failing?.mode === 'exit') {
        await stopTask(ctx, svc, task, task.failing.stopCode, task.failing.reason, { exitCode: 1 });
        failTask(depOf(task), 'tasks failed to start.');
        continue;
      }
      task.lastStatus = 'RUNNING';
      await registerTargets(ctx, svc, task);
    }

    // Load balancer health, after the grace period.
    const graceMs = (svc.spec.healthCheckGracePeriodSeconds ?? 0) * 1000;
    for (const task of svc.tasks.filter((k) => k.lastStatus === 'RUNNING' && !k.adopted)) {
      const states = await targetStates(ctx, svc, task);
      const bad = states.find((s) => s.state.state === 'unhealthy');
      if (bad && t - (task.startedAtMs ?? t) >= graceMs) {
        await stopTask(ctx, svc, task, 'ServiceSchedulerInitiated', `Task failed ELB health checks in (target-group ${bad.tg})`);
        failTask(depOf(task), 'tasks failed ELB health checks.');
      } else if (states.length > 0 && states.every((s) => s.state.state === 'healthy')) {
        const d = depOf(task);
        if (d) d.breakerFailures = 0;
      }
    }

    // The circuit breaker, where the service enables it.
    if (primary.rolloutState === 'IN_PROGRESS' && primary.breakerFailures >= breakerThreshold(primary.desiredCount)) {
      const breaker = svc.spec.deploymentConfiguration?.deploymentCircuitBreaker;
      if (breaker?.enable) {
        primary.rolloutState = 'FAILED';
        primary.rolloutStateReason = `ECS deployment circuit breaker: ${primary.lastFailure ?? 'tasks failed to start.'}`;
        deploymentEvent(ctx, svc, primary, 'SERVICE_DEPLOYMENT_FAILED', 'ERROR', primary.rolloutStateReason);
        if (breaker.rollback && svc.lastCompleted && svc.lastCompleted !== primary.taskDefinition) startDeployment(ctx, svc, svc.lastCompleted);
      } else if (!primary.impaired) {
        primary.impaired = true;
        serviceAction(ctx, svc, 'SERVICE_TASK_START_IMPAIRED', `(service ${svc.serviceName}) is unable to consistently start tasks successfully.`);
      }
    }
    const current = svc.deployments.find((d) => d.status === 'PRIMARY')!;
    if (current.rolloutState !== 'FAILED') await roll(ctx, svc, current);

    const stopped = svc.tasks.filter((k) => k.lastStatus === 'STOPPED');
    if (stopped.length > MAX_STOPPED_TASKS) {
      const drop = new Set(stopped.slice(0, stopped.length - MAX_STOPPED_TASKS));
      svc.tasks = svc.tasks.filter((k) => !drop.has(k));
    }
  }

  /** The rolling update: scale the primary, drain the old deployments within the percentages, complete. */
  async function roll(ctx: BehaviourContext, svc: TrackedService, primary: SimDeployment): Promise<void> {
    const desired = primary.desiredCount;
    const dc = svc.spec.deploymentConfiguration ?? {};
    const reason = `Scaling activity initiated by (deployment ${primary.id})`;
    const ofDeployment = (d: SimDeployment) => svc.tasks.filter((k) => k.deploymentId === d.id && live(k));

    const mine = ofDeployment(primary);
    // Tasks on DRAINING instances are the drain's to move (ecs-scheduler.ts starts their replacements
    // first, then stops them): they are neither replaced here nor counted as extra while they move.
    const leaving = new Set(
      mine.length > desired ? (await instancesOf(ctx.aws(svc.region).ecs, svc.cluster)).filter((i) => i.status !== 'ACTIVE').map((i) => i.containerInstanceArn) : [],
    );
    const staying = mine.filter((k) => !leaving.has(k.containerInstanceArn));
    // Scale-in: pending tasks first, then the newest.
    const extra = [...staying].sort((a, b) => Number(a.lastStatus !== 'PENDING') - Number(b.lastStatus !== 'PENDING') || b.createdAtMs - a.createdAtMs).slice(0, Math.max(0, staying.length - desired));
    for (const task of extra) await stopTask(ctx, svc, task, 'ServiceSchedulerInitiated', reason);

    const maxTotal = Math.floor((desired * (dc.maximumPercent ?? 200)) / 100);
    const launch = Math.min(desired - ofDeployment(primary).length, maxTotal - svc.tasks.filter(live).length);
    if (launch > 0) await place(ctx, svc, primary, launch);

    const minHealthy = Math.ceil((desired * (dc.minimumHealthyPercent ?? 100)) / 100);
    let healthy = 0;
    for (const task of svc.tasks.filter(live)) if (await inService(ctx, svc, task)) healthy += 1;
    for (const old of svc.deployments.filter((d) => d.status === 'ACTIVE')) {
      for (const task of ofDeployment(old)) {
        const serving = await inService(ctx, svc, task);
        if (serving && healthy - 1 < minHealthy) continue;
        await stopTask(ctx, svc, task, 'ServiceSchedulerInitiated', reason);
        if (serving) healthy -= 1;
      }
    }
    svc.deployments = svc.deployments.filter((d) => d.status === 'PRIMARY' || ofDeployment(d).length > 0);

    const running = ofDeployment(primary);
    if (primary.rolloutState === 'IN_PROGRESS' && svc.deployments.length === 1 && running.length === desired) {
      let all = true;
      for (const task of running) all &&= await inService(ctx, svc, task);
      if (all) {
        primary.rolloutState = 'COMPLETED';
        primary.rolloutStateReason = `ECS deployment ${primary.id} completed.`;
        primary.updatedAtMs = now();
        svc.lastCompleted = primary.taskDefinition;
        deploymentEvent(ctx, svc, primary, 'SERVICE_DEPLOYMENT_COMPLETED', 'INFO');
      }
    }
  }

  function findTask(arn: string): { task: SimTask; svc: TrackedService } | undefined {
    for (const svc of services.values()) {
      const task = svc.tasks.find((k) => k.taskArn === arn || name(k.taskArn) === arn);
      if (task) return { task, svc };
    }
    return undefined;
  }

  return {
    services,
    targets,
    key,
    advance,
    startDeployment,
    adopt,
    stopTask,
    mirrorTarget,
    findTask,
    reset(): void {
      services.clear();
      taskDefinitions.clear();
      targets.clear();
      taskSync.clear();
    },
  };
}

export type EcsWorld = ReturnType<typeof createEcsWorld>;
