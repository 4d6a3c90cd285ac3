import { randomUUID } from 'node:crypto';
import { DescribeTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { z } from 'zod';
import type { Behaviour, BehaviourContext, BehaviourFactory, BehaviourRouteResponse, SimRequest } from '../behaviour';
import { awsSuccessResponse, type SimResponse } from '../protocol';

/**
 * ECS service deployments as ECS runs them, which moto does not: moto keeps one PRIMARY deployment
 * that never moves and reports `runningCount = desiredCount` at once. Here every CreateService and
 * every UpdateService that changes the task definition starts a deployment; the new PRIMARY's tasks
 * start after `rolloutMs`, the old deployment (ACTIVE) drains when the new one is up, and rolloutState
 * goes IN_PROGRESS → COMPLETED. A revision marked failing (by task definition ARN or image substring)
 * starts tasks that stop with EssentialContainerExited; after `failureThreshold` failed tasks the
 * deployment is FAILED, as with the deployment circuit breaker.
 *
 * Owned calls: DescribeServices (deployments, counts rewritten for tracked services), ListTasks with a
 * `serviceName` of a tracked service, DescribeTasks of tasks this module made. Alarm schedules change
 * CloudWatch alarm states at a time (canary scenarios). Listener rule weights are moto's own (its
 * DescribeRules reads ForwardConfig weights back correctly; test/deploy/activities.test.ts).
 *
 * Control routes under /_sim/ecs-deployments:
 *   PUT  /config            { rolloutMs?, failureThreshold? }
 *   POST /failing-revisions { match, stopCode?, reason? }   tasks of matching revisions fail
 *   POST /alarm-schedule    { alarmName, state, reason?, afterMs }
 *   GET  /services          tracked services with deployments and tasks
 */

interface SimTask {
  taskArn: string;
  taskDefinitionArn: string;
  deploymentId: string;
  lastStatus: 'PENDING' | 'RUNNING' | 'STOPPED';
  createdAtMs: number;
  startedAtMs?: number;
  stoppedAtMs?: number;
  stopCode?: string;
  stoppedReason?: string;
  exitCode?: number;
  containerName: string;
}

interface SimDeployment {
  id: string;
  status: 'PRIMARY' | 'ACTIVE';
  taskDefinition: string;
  desiredCount: number;
  failedTasks: number;
  rolloutState: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  rolloutStateReason: string;
  createdAtMs: number;
  updatedAtMs: number;
}

interface TrackedService {
  region: string;
  cluster: string;
  clusterArn: string;
  serviceName: string;
  serviceArn: string;
  desiredCount: number;
  deployments: SimDeployment[];
  tasks: SimTask[];
  deleted: boolean;
}

interface FailingRevision {
  match: string;
  stopCode: string;
  reason: string;
}

interface AlarmChange {
  alarmName: string;
  state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  reason: string;
  atMs: number;
  region: string;
  done: boolean;
}

const configSchema = z.object({ rolloutMs: z.number().int().nonnegative().optional(), failureThreshold: z.number().int().positive().optional() }).strict();
const failingSchema = z
  .object({ match: z.string().min(1), stopCode: z.string().default('EssentialContainerExited'), reason: z.string().default('Essential container in task exited') })
  .strict();
const alarmScheduleSchema = z
  .object({
    alarmName: z.string().min(1),
    state: z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']),
    reason: z.string().default('simulated state change'),
    afterMs: z.number().int().nonnegative(),
    region: z.string().default('us-east-1'),
  })
  .strict();

const DEFAULT_ROLLOUT_MS = 1_000;
const DEFAULT_FAILURE_THRESHOLD = 3;
/** Stopped tasks kept per service (ECS keeps them about an hour; enough for analysis windows). */
const MAX_STOPPED_TASKS = 200;

function parseJson(buf: Buffer): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(buf.toString('utf8') || '{}');
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function jsonResponse(res: SimResponse, body: unknown): SimResponse {
  return { ...res, headers: { ...res.headers, 'content-length': String(Buffer.byteLength(JSON.stringify(body))) }, body: Buffer.from(JSON.stringify(body)) };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const name = (arnOrName: string): string => arnOrName.slice(arnOrName.lastIndexOf('/') + 1);

export function createEcsDeploymentsBehaviour(now: () => number = Date.now): Behaviour {
  let rolloutMs = DEFAULT_ROLLOUT_MS;
  let failureThreshold = DEFAULT_FAILURE_THRESHOLD;
  const services = new Map<string, TrackedService>();
  const failing: FailingRevision[] = [];
  const alarmChanges: AlarmChange[] = [];
  /** taskDefinitionArn → container name and images, read once from moto. */
  const taskDefinitions = new Map<string, { container: string; images: string[] }>();

  const key = (region: string, cluster: string, service: string) => `${region}|${name(cluster)}|${name(service)}`;

  async function taskDefinitionInfo(ctx: BehaviourContext, region: string, arn: string): Promise<{ container: string; images: string[] }> {
    const known = taskDefinitions.get(arn);
    if (known) return known;
    try {
      const out = await ctx.aws(region).ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn }));
      const containers = out.taskDefinition?.containerDefinitions ?? [];
      const info = { container: containers[0]?.name ?? 'app', images: containers.map((c) => c.image ?? '') };
      taskDefinitions.set(arn, info);
      return info;
    } catch {
      return { container: 'app', images: [] };
    }
  }

  async function failingRule(ctx: BehaviourContext, region: string, taskDefinition: string): Promise<FailingRevision | undefined> {
    if (failing.length === 0) return undefined;
    const info = await taskDefinitionInfo(ctx, region, taskDefinition);
    return failing.find((f) => taskDefinition.includes(f.match) || info.images.some((i) => i.includes(f.match)));
  }

  function newDeployment(taskDefinition: string, desiredCount: number): SimDeployment {
    const id = `ecs-svc/${randomUUID().replace(/-/g, '').slice(0, 19)}`;
    const t = now();
    return {
      id,
      status: 'PRIMARY',
      taskDefinition,
      desiredCount,
      failedTasks: 0,
      rolloutState: 'IN_PROGRESS',
      rolloutStateReason: `ECS deployment ${id} in progress.`,
      createdAtMs: t,
      updatedAtMs: t,
    };
  }

  function stopTask(task: SimTask, stopCode: string, reason: string, exitCode?: number): void {
    task.lastStatus = 'STOPPED';
    task.stoppedAtMs = now();
    task.stopCode = stopCode;
    task.stoppedReason = reason;
    task.exitCode = exitCode;
  }

  /** Moves one service's deployments forward to `now()`. */
  async function advance(ctx: BehaviourContext, svc: TrackedService): Promise<void> {
    const t = now();
    if (svc.deleted) {
      for (const task of svc.tasks) if (task.lastStatus !== 'STOPPED') stopTask(task, 'ServiceSchedulerInitiated', 'Service deleted');
      return;
    }
    const primary = svc.deployments.find((d) => d.status === 'PRIMARY');
    if (!primary) return;
    primary.desiredCount = svc.desiredCount;
    const live = (d: SimDeployment) => svc.tasks.filter((k) => k.deploymentId === d.id && k.lastStatus !== 'STOPPED');

    if (primary.rolloutState !== 'FAILED' && t - primary.updatedAtMs >= rolloutMs) {
      const rule = await failingRule(ctx, svc.region, primary.taskDefinition);
      const info = await taskDefinitionInfo(ctx, svc.region, primary.taskDefinition);
      const running = live(primary);
      // Scale-in of the primary.
      for (const task of running.slice(primary.desiredCount)) stopTask(task, 'ServiceSchedulerInitiated', `Scaling activity initiated by (deployment ${primary.id})`);
      const missing = primary.desiredCount - Math.min(running.length, primary.desiredCount);
      for (let i = 0; i < missing; i++) {
        const task: SimTask = {
          taskArn: `${svc.clusterArn.replace(':cluster/', ':task/')}/${randomUUID().replace(/-/g, '')}`,
          taskDefinitionArn: primary.taskDefinition,
          deploymentId: primary.id,
          lastStatus: 'RUNNING',
          createdAtMs: t,
          startedAtMs: t,
          containerName: info.container,
        };
        svc.tasks.push(task);
        if (rule) {
          stopTask(task, rule.stopCode, rule.reason, 1);
          primary.failedTasks += 1;
        }
      }
      primary.updatedAtMs = t;
      if (rule && primary.failedTasks >= failureThreshold) {
        primary.rolloutState = 'FAILED';
        primary.rolloutStateReason = `ECS deployment circuit breaker: tasks failed to start. (${primary.failedTasks} failed)`;
      } else if (!rule && live(primary).length === primary.desiredCount) {
        // The new revision is up: the old deployments drain and go.
        for (const old of svc.deployments.filter((d) => d.status === 'ACTIVE')) {
          for (const task of live(old)) stopTask(task, 'ServiceSchedulerInitiated', `Scaling activity initiated by (deployment ${primary.id})`);
        }
        svc.deployments = [primary];
        if (primary.rolloutState === 'IN_PROGRESS') {
          primary.rolloutState = 'COMPLETED';
          primary.rolloutStateReason = `ECS deployment ${primary.id} completed.`;
        }
      }
    }
    const stopped = svc.tasks.filter((k) => k.lastStatus === 'STOPPED');
    if (stopped.length > MAX_STOPPED_TASKS) {
      const drop = new Set(stopped.slice(0, stopped.length - MAX_STOPPED_TASKS));
      svc.tasks = svc.tasks.filter((k) => !drop.has(k));
    }
  }

  async function advanceAll(ctx: BehaviourContext): Promise<void> {
    for (const svc of services.values()) await advance(ctx, svc);
    for (const change of alarmChanges) {
      if (change.done || now() < change.atMs) continue;
      change.done = true;
      try {
        await ctx.aws(change.region).cloudwatch.send(
          new SetAlarmStateCommand({ AlarmName: change.alarmName, StateValue: change.state, StateReason: change.reason }),
        );
      } catch (err) {
        ctx.log.warn({ err, alarm: change.alarmName }, 'scheduled alarm state change failed');
      }
    }
  }

  function describeDeployment(d: SimDeployment, svc: TrackedService) {
    const running = svc.tasks.filter((k) => k.deploymentId === d.id && k.lastStatus === 'RUNNING').length;
    return {
      id: d.id,
      status: d.status,
      taskDefinition: d.taskDefinition,
      desiredCount: d.desiredCount,
      pendingCount: Math.max(0, d.desiredCount - running),
      runningCount: running,
      failedTasks: d.failedTasks,
      rolloutState: d.rolloutState,
      rolloutStateReason: d.rolloutStateReason,
      createdAt: d.createdAtMs / 1000,
      updatedAt: d.updatedAtMs / 1000,
      launchType: 'EC2',
    };
  }

  function describeTask(task: SimTask, svc: TrackedService) {
    return {
      taskArn: task.taskArn,
      clusterArn: svc.clusterArn,
      taskDefinitionArn: task.taskDefinitionArn,
      group: `service:${svc.serviceName}`,
      startedBy: task.deploymentId,
      lastStatus: task.lastStatus,
      desiredStatus: task.lastStatus === 'STOPPED' ? 'STOPPED' : 'RUNNING',
      launchType: 'EC2',
      createdAt: task.createdAtMs / 1000,
      ...(task.startedAtMs ? { startedAt: task.startedAtMs / 1000 } : {}),
      ...(task.stoppedAtMs ? { stoppedAt: task.stoppedAtMs / 1000, stoppingAt: task.stoppedAtMs / 1000 } : {}),
      ...(task.stopCode ? { stopCode: task.stopCode, stoppedReason: task.stoppedReason } : {}),
      containers: [
        {
          name: task.containerName,
          lastStatus: task.lastStatus,
          taskArn: task.taskArn,
          ...(task.exitCode !== undefined ? { exitCode: task.exitCode, reason: task.stoppedReason } : {}),
        },
      ],
    };
  }

  function findTask(arn: string): { task: SimTask; svc: TrackedService } | undefined {
    for (const svc of services.values()) {
      const task = svc.tasks.find((k) => k.taskArn === arn || name(k.taskArn) === arn);
      if (task) return { task, svc };
    }
    return undefined;
  }

  function ok(res: SimResponse): boolean {
    return res.status === 200 && !res.headers['content-encoding'];
  }

  async function afterEcs(req: SimRequest, res: SimResponse, ctx: BehaviourContext): Promise<SimResponse | void> {
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
          deployments: [newDeployment(taskDefinition, desired)],
          tasks: [],
          deleted: false,
        };
        services.set(key(req.region, svc.cluster, svc.serviceName), svc);
        return;
      }
      case 'UpdateService': {
        const svc = services.get(key(req.region, str(p.cluster) ?? 'default', str(p.service) ?? ''));
        if (!svc) return;
        await advance(ctx, svc);
        if (typeof p.desiredCount === 'number') svc.desiredCount = p.desiredCount;
        const primary = svc.deployments.find((d) => d.status === 'PRIMARY');
        const td = str(p.taskDefinition);
        const out = parseJson(res.body)?.service as Record<string, unknown> | undefined;
        const resolvedTd = str(out?.taskDefinition) ?? td;
        if ((td && resolvedTd && resolvedTd !== primary?.taskDefinition) || p.forceNewDeployment === true) {
          for (const d of svc.deployments) d.status = 'ACTIVE';
          svc.deployments = [newDeployment(resolvedTd ?? primary?.taskDefinition ?? '', svc.desiredCount), ...svc.deployments];
        } else if (primary) {
          primary.desiredCount = svc.desiredCount;
          // A scale change is rolled out by the scheduler on the usual delay.
          primary.updatedAtMs = now();
        }
        return;
      }
      case 'DeleteService': {
        const svc = services.get(key(req.region, str(p.cluster) ?? 'default', str(p.service) ?? ''));
        if (!svc) return;
        svc.deleted = true;
        await advance(ctx, svc);
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
          const running = svc.tasks.filter((k) => k.lastStatus === 'RUNNING').length;
          s.deployments = svc.deployments.map((d) => describeDeployment(d, svc));
          s.runningCount = running;
          s.pendingCount = Math.max(0, svc.desiredCount - running);
          s.desiredCount = svc.desiredCount;
          changed = true;
        }
        return changed ? jsonResponse(res, body) : undefined;
      }
      case 'DescribeTasks': {
        const body = parseJson(res.body);
        const wanted = Array.isArray(p.tasks) ? (p.tasks as unknown[]).map(String) : [];
        const ours = wanted.map(findTask).filter((x): x is { task: SimTask; svc: TrackedService } => x !== undefined);
        if (!body || ours.length === 0) return;
        const ourArns = new Set(ours.map((o) => o.task.taskArn));
        const tasks = Array.isArray(body.tasks) ? (body.tasks as Record<string, unknown>[]).filter((t) => !ourArns.has(String(t.taskArn))) : [];
        const failures = Array.isArray(body.failures)
          ? (body.failures as Record<string, unknown>[]).filter((f) => !ours.some((o) => String(f.arn ?? '').endsWith(name(o.task.taskArn))))
          : [];
        return jsonResponse(res, { ...body, tasks: [...tasks, ...ours.map((o) => describeTask(o.task, o.svc))], failures });
      }
      default:
        return;
    }
  }

  async function route(req: { method: string; path: string; body: unknown }): Promise<BehaviourRouteResponse | undefined> {
    const bad = (error: string): BehaviourRouteResponse => ({ status: 400, body: { error } });
    switch (`${req.method} ${req.path}`) {
      case 'PUT /config': {
        const parsed = configSchema.safeParse(req.body ?? {});
        if (!parsed.success) return bad(parsed.error.message);
        rolloutMs = parsed.data.rolloutMs ?? rolloutMs;
        failureThreshold = parsed.data.failureThreshold ?? failureThreshold;
        return { status: 200, body: { rolloutMs, failureThreshold } };
      }
      case 'POST /failing-revisions': {
        const parsed = failingSchema.safeParse(req.body);
        if (!parsed.success) return bad(parsed.error.message);
        failing.push(parsed.data);
        return { status: 200, body: { failing } };
      }
      case 'POST /alarm-schedule': {
        const parsed = alarmScheduleSchema.safeParse(req.body);
        if (!parsed.success) return bad(parsed.error.message);
        const { afterMs, ...rest } = parsed.data;
        alarmChanges.push({ ...rest, atMs: now() + afterMs, done: false });
        return { status: 200, body: { scheduled: alarmChanges.filter((c) => !c.done).length } };
      }
      case 'GET /services':
        return {
          status: 200,
          body: {
            services: [...services.values()].map((s) => ({
              cluster: s.cluster,
              serviceName: s.serviceName,
              desiredCount: s.desiredCount,
              deleted: s.deleted,
              deployments: s.deployments.map((d) => describeDeployment(d, s)),
              tasks: s.tasks.map((t) => ({ taskArn: t.taskArn, taskDefinitionArn: t.taskDefinitionArn, lastStatus: t.lastStatus, stopCode: t.stopCode })),
            })),
          },
        };
      default:
        return undefined;
    }
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
      const arns = svc.tasks.filter((k) => (desired === 'STOPPED' ? k.lastStatus === 'STOPPED' : k.lastStatus !== 'STOPPED')).map((k) => k.taskArn);
      return awsSuccessResponse(req, { json: { taskArns: arns } });
    },
    async afterResponse(req, res, ctx) {
      if (req.service !== 'ecs') return undefined;
      return afterEcs(req, res, ctx);
    },
    tick: {
      intervalMs: 500,
      run: (ctx) => advanceAll(ctx),
    },
    route: (req) => route(req),
    reset() {
      rolloutMs = DEFAULT_ROLLOUT_MS;
      failureThreshold = DEFAULT_FAILURE_THRESHOLD;
      services.clear();
      failing.length = 0;
      alarmChanges.length = 0;
      taskDefinitions.clear();
    },
  };
}

export const ecsDeploymentsBehaviour: BehaviourFactory = () => createEcsDeploymentsBehaviour();
