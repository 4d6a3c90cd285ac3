import { randomUUID } from 'node:crypto';
import { DescribeTaskDefinitionCommand, DescribeTasksCommand, ListTasksCommand, RunTaskCommand, StartTaskCommand, StopTaskCommand, type Task } from '@aws-sdk/client-ecs';
import { DeregisterTargetsCommand, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { BehaviourContext } from '../../behaviour';
import { breakerThreshold, live, type Binding, type FailingRevision, type SimDeployment, type SimTask, type TaskDefinitionInfo, type TrackedService } from './ecs-model';
import { chooseInstance, instancesOf, type InstanceRoom } from './placement';
import { TargetRegistry, targetState, type TargetState } from './target-health';

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
 */

/** Stopped tasks kept per service (ECS keeps them about an hour; enough for analysis windows). */
const MAX_STOPPED_TASKS = 200;
/** The ephemeral range ECS takes dynamic host ports from. */
const FIRST_DYNAMIC_PORT = 32_768;

export const serviceName = (arnOrName: string): string => arnOrName.slice(arnOrName.lastIndexOf('/') + 1);
const name = serviceName;
const isoOf = (ms: number) => new Date(ms).toISOString();

export interface EcsWorldOptions {
  /** How long a placed task takes to reach RUNNING. */
  rolloutMs: () => number;
  /** Revisions whose tasks fail (exit at start, or fail health checks). */
  failing: readonly FailingRevision[];
}

export function createEcsWorld(now: () => number, opts: EcsWorldOptions) {
  const services = new Map<string, TrackedService>();
  const taskDefinitions = new Map<string, TaskDefinitionInfo>();
  const targets = new TargetRegistry();
  /** Tasks listed under a tracked startedBy that belong to another group: not looked at again. */
  const foreign = new Set<string>();

  const key = (region: string, cluster: string, service: string) => `${region}|${name(cluster)}|${name(service)}`;

  async function taskDefinitionInfo(ctx: BehaviourContext, region: string, arn: string): Promise<TaskDefinitionInfo> {
    const known = taskDefinitions.get(arn);
    if (known) return known;
    const out = await ctx.aws(region).ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn }));
    const td = out.taskDefinition;
    const containers = (td?.containerDefinitions ?? []).map((c) => ({
      name: c.name ?? 'app',
      image: c.image ?? '',
      cpu: c.cpu ?? 0,
      memory: c.memory ?? c.memoryReservation ?? 0,
      portMappings: (c.portMappings ?? []).map((m) => ({ containerPort: m.containerPort ?? 0, hostPort: m.hostPort })),
    }));
    const networkMode = td?.networkMode ?? 'bridge';
    const sum = (k: 'cpu' | 'memory') => containers.reduce((a, c) => a + c[k], 0);
    const info: TaskDefinitionInfo = {
      networkMode,
      containers,
      needs: {
        cpu: sum('cpu') || Number(td?.cpu ?? 0),
        memory: sum('memory') || Number(td?.memory ?? 0),
        hostPorts: containers.flatMap((c) =>
          c.portMappings.map((m) => (networkMode === 'bridge' ? (m.hostPort ?? 0) : networkMode === 'host' ? m.containerPort : 0)).filter((p) => p > 0),
        ),
      },
    };
    taskDefinitions.set(arn, info);
    return info;
  }

  async function failingRule(ctx: BehaviourContext, region: string, taskDefinition: string): Promise<FailingRevision | undefined> {
    if (opts.failing.length === 0) return undefined;
    const info = await taskDefinitionInfo(ctx, region, taskDefinition);
    return opts.failing.find((f) => taskDefinition.includes(f.match) || info.containers.some((c) => c.image.includes(f.match)));
  }

  function publish(ctx: BehaviourContext, svc: TrackedService, detailType: string, detail: Record<string, unknown>): void {
    void ctx.events.publish({ source: 'aws.ecs', detailType, detail, resources: [svc.serviceArn], region: svc.region }).catch(() => undefined);
  }

  function deploymentEvent(ctx: BehaviourContext, svc: TrackedService, d: SimDeployment, eventName: string, eventType: 'INFO' | 'ERROR', reason?: string): void {
    publish(ctx, svc, 'ECS Deployment State Change', { eventType, eventName, deploymentId: d.id, updatedAt: isoOf(now()), ...(reason ? { reason } : {}) });
  }

  function serviceAction(ctx: BehaviourContext, svc: TrackedService, eventName: string, reason: string): void {
    publish(ctx, svc, 'ECS Service Action', { eventType: 'WARN', eventName, clusterArn: svc.clusterArn, createdAt: isoOf(now()), reason });
  }

  function newDeployment(taskDefinition: string, desiredCount: number): SimDeployment {
    const id = `ecs-svc/${randomUUID().replace(/\D/g, '').padEnd(19, '7').slice(0, 19)}`;
    const t = now();
    return {
      id,
      status: 'PRIMARY',
      taskDefinition,
      desiredCount,
      failedTasks: 0,
      breakerFailures: 0,
      rolloutState: 'IN_PROGRESS',
      rolloutStateReason: `ECS deployment ${id} in progress.`,
      createdAtMs: t,
      updatedAtMs: t,
      impaired: false,
    };
  }

  function startDeployment(ctx: BehaviourContext, svc: TrackedService, taskDefinition: string): void {
    for (const d of svc.deployments) d.status = 'ACTIVE';
    const d = newDeployment(taskDefinition, svc.desiredCount);
    svc.deployments = [d, ...svc.deployments];
    deploymentEvent(ctx, svc, d, 'SERVICE_DEPLOYMENT_IN_PROGRESS', 'INFO');
  }

  // ---- targets ----

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

  // ---- tasks ----

  async function stopTask(ctx: BehaviourContext, svc: TrackedService, task: SimTask, stopCode: string, reason: string, o: { exitCode?: number; inMoto?: boolean } = {}) {
    if (task.lastStatus === 'STOPPED') return;
    task.lastStatus = 'STOPPED';
    task.stoppedAtMs = now();
    task.stopCode = stopCode;
    task.stoppedReason = reason;
    task.exitCode = o.exitCode;
    await deregisterTargets(ctx, svc, task);
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

  function privateIp(t: Task | undefined): string {
    const details = t?.attachments?.flatMap((a) => a.details ?? []) ?? [];
    return details.find((d) => d.name === 'privateIPv4Address')?.value ?? '';
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
    const info = await taskDefinitionInfo(ctx, svc.region, d.taskDefinition);
    const rule = await failingRule(ctx, svc.region, d.taskDefinition);
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
    serviceAction(ctx, svc, 'SERVICE_TASK_PLACEMENT_FAILURE', `(service ${svc.serviceName}) was unable to place a task because no container instance met all of its requirements: ${reason}`);
  }

  /** Takes a task someone else started in the service's group (moto's record) as the service's. */
  async function adopt(ctx: BehaviourContext, svc: TrackedService, t: Task): Promise<void> {
    if (!t.taskArn || svc.tasks.some((k) => k.taskArn === t.taskArn)) return;
    const primary = svc.deployments.find((d) => d.status === 'PRIMARY');
    const ours = svc.deployments.find((d) => d.id === t.startedBy);
    const d = ours ?? svc.deployments.find((x) => x.taskDefinition === t.taskDefinitionArn) ?? primary;
    if (!d) return;
    const info = await taskDefinitionInfo(ctx, svc.region, t.taskDefinitionArn ?? d.taskDefinition);
    const instance = (await instancesOf(ctx.aws(svc.region).ecs, svc.cluster)).find((i) => i.containerInstanceArn === t.containerInstanceArn);
    const task: SimTask = {
      taskArn: t.taskArn,
      taskDefinitionArn: t.taskDefinitionArn ?? d.taskDefinition,
      deploymentId: d.id,
      startedBy: t.startedBy ?? '',
      containerInstanceArn: t.containerInstanceArn ?? '',
      targetId: info.networkMode === 'awsvpc' ? privateIp(t) : (instance?.ec2InstanceId ?? ''),
      lastStatus: 'RUNNING',
      createdAtMs: now(),
      startedAtMs: now(),
      containerName: info.containers[0]?.name ?? 'app',
      bindings: bindingsFor(info, svc.cluster, t.containerInstanceArn ?? ''),
      adopted: !ours,
      failing: await failingRule(ctx, svc.region, t.taskDefinitionArn ?? d.taskDefinition),
    };
    svc.tasks.push(task);
    if (ours) {
      // The scheduler's own replacement (the drain's task moves keep the deployment id): ECS registers it.
      await registerTargets(ctx, svc, task);
    } else if (t.startedBy) {
      svc.adoptedStartedBy.add(t.startedBy);
    }
  }

  /** Notices what others did in moto: the service's tasks they stopped, and tasks they started for it. */
  async function sync(ctx: BehaviourContext, svc: TrackedService): Promise<void> {
    const ecs = ctx.aws(svc.region).ecs;
    const listed = new Set<string>();
    for (const startedBy of new Set([...svc.deployments.map((d) => d.id), ...svc.adoptedStartedBy])) {
      let nextToken: string | undefined;
      do {
        const page = await ecs.send(new ListTasksCommand({ cluster: svc.cluster, startedBy, desiredStatus: 'RUNNING', nextToken }));
        for (const a of page.taskArns ?? []) listed.add(a);
        nextToken = page.nextToken;
      } while (nextToken);
    }
    const gone = svc.tasks.filter((t) => live(t) && !listed.has(t.taskArn));
    const unknown = [...listed].filter((a) => !foreign.has(a) && !svc.tasks.some((t) => t.taskArn === a));
    const arns = [...gone.map((t) => t.taskArn), ...unknown];
    const described = new Map<string, Task>();
    for (let i = 0; i < arns.length; i += 100) {
      const out = await ecs.send(new DescribeTasksCommand({ cluster: svc.cluster, tasks: arns.slice(i, i + 100) }));
      for (const t of out.tasks ?? []) described.set(t.taskArn ?? '', t);
    }
    for (const t of gone) {
      const m = described.get(t.taskArn);
      await stopTask(ctx, svc, t, m?.stopCode ?? 'UserInitiated', m?.stoppedReason || 'Task stopped', { inMoto: false });
    }
    for (const a of unknown) {
      const m = described.get(a);
      if (!m || m.group !== `service:${svc.serviceName}`) {
        foreign.add(a);
        continue;
      }
      await adopt(ctx, svc, m);
    }
  }

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
    for (const task of svc.tasks.filter((k) => k.lastStatus === 'PENDING' && t - k.createdAtMs >= opts.rolloutMs())) {
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
      foreign.clear();
    },
  };
}

export type EcsWorld = ReturnType<typeof createEcsWorld>;
