import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  StartTaskCommand,
  DescribeTasksCommand,
  ListClustersCommand,
  ListContainerInstancesCommand,
  ListTasksCommand,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { DescribeTargetGroupsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { z } from 'zod';
import type { Behaviour, BehaviourContext, BehaviourFactory, SimRequest } from '../behaviour';
import type { SimResponse } from '../protocol';
import { instancesOf, type InstanceRoom } from './support/placement';

/**
 * The part of the ECS scheduler moto lacks: service tasks on a DRAINING container instance are
 * replaced on ACTIVE instances once they have sat there `replaceDelayMs`, the way ECS moves them
 * ("Container instance draining", https://docs.aws.amazon.com/AmazonECS/latest/developerguide/container-instance-draining.html):
 * "Service tasks on the draining container instance that are in the RUNNING state are stopped and
 * replaced according to the service's deployment configuration parameters, minimumHealthyPercent and
 * maximumPercent". A replacement is started first, while the service's tasks stay within
 * `maximumPercent` of its desired count (moto places tasks on ACTIVE instances with room only); the
 * old task is stopped once its replacement is in service: RUNNING and, for a service behind a load
 * balancer, healthy in its target groups (one HealthCheckIntervalSeconds after registration, as the
 * simulator's target health has it). When no replacement can be started, the old task is stopped only
 * if the service keeps `minimumHealthyPercent` of its desired count running without it. Standalone
 * tasks (group not `service:…`) stay: only their owner moves them.
 *
 * moto does not keep a service's deploymentConfiguration, so this module reads it from CreateService
 * and UpdateService calls as they pass (default 100 % / 200 %).
 *
 * Routes: `GET /_sim/ecs-scheduler` → `{ config, moves }`; `POST /_sim/ecs-scheduler/config`
 * `{ replaceDelayMs?, minimumHealthyPercent?: { "<cluster>/<service>": n } }`.
 */

export interface TaskMove {
  cluster: string;
  service: string;
  from: string;
  /** The replacement task, or null when the old task was stopped without one (no room, health allowed it). */
  to: string | null;
  fromContainerInstance: string;
  at: string;
}

const configSchema = z
  .object({
    replaceDelayMs: z.number().int().nonnegative().optional(),
    minimumHealthyPercent: z.record(z.string(), z.number().int().min(0).max(100)).optional(),
  })
  .strict();

const DEFAULT_REPLACE_DELAY_MS = 5_000;

function clusterName(clusterArnOrName: unknown): string {
  const s = typeof clusterArnOrName === 'string' && clusterArnOrName ? clusterArnOrName : 'default';
  return s.includes('/') ? s.slice(s.lastIndexOf('/') + 1) : s;
}

export const ecsScheduler: BehaviourFactory = () => {
  let replaceDelayMs = DEFAULT_REPLACE_DELAY_MS;
  const minHealthy = new Map<string, number>();
  const maxPercent = new Map<string, number>();
  /** Old task → its replacement and when that one is in service. */
  const replacements = new Map<string, { arn: string; inServiceAtMs: number }>();
  /** When each service task was first seen on a DRAINING instance. */
  const seenDraining = new Map<string, number>();
  const moves: TaskMove[] = [];

  async function listAll<T>(page: (token?: string) => Promise<{ items: T[]; next?: string }>): Promise<T[]> {
    const out: T[] = [];
    let token: string | undefined;
    do {
      const r = await page(token);
      out.push(...r.items);
      token = r.next;
    } while (token);
    return out;
  }

  async function runningTasks(ctx: BehaviourContext, cluster: string, containerInstance?: string): Promise<Task[]> {
    const ecs = ctx.aws().ecs;
    const arns = await listAll(async (nextToken) => {
      const r = await ecs.send(new ListTasksCommand({ cluster, containerInstance, desiredStatus: 'RUNNING', nextToken }));
      return { items: r.taskArns ?? [], next: r.nextToken };
    });
    const tasks: Task[] = [];
    for (let i = 0; i < arns.length; i += 100) {
      const r = await ecs.send(new DescribeTasksCommand({ cluster, tasks: arns.slice(i, i + 100) }));
      tasks.push(...(r.tasks ?? []).filter((t) => t.desiredStatus === 'RUNNING'));
    }
    return tasks;
  }

  async function moveCluster(ctx: BehaviourContext, cluster: string, now: number): Promise<void> {
    const ecs = ctx.aws().ecs;
    const draining = await listAll(async (nextToken) => {
      const r = await ecs.send(new ListContainerInstancesCommand({ cluster, status: 'DRAINING', nextToken }));
      return { items: r.containerInstanceArns ?? [], next: r.nextToken };
    });
    if (draining.length === 0) return;
    const all = await runningTasks(ctx, cluster);
    const runningByService = new Map<string, number>();
    for (const t of all) {
      if (t.group?.startsWith('service:')) runningByService.set(t.group, (runningByService.get(t.group) ?? 0) + 1);
    }
    const drainingSet = new Set(draining);
    const live = new Set(all.map((t) => t.taskArn ?? ''));
    let rooms: InstanceRoom[] | undefined;
    for (const task of all) {
      const arn = task.taskArn ?? '';
      if (!task.group?.startsWith('service:') || !drainingSet.has(task.containerInstanceArn ?? '')) continue;
      const first = seenDraining.get(arn) ?? now;
      seenDraining.set(arn, first);
      if (now - first < replaceDelayMs) continue;

      const service = task.group.slice('service:'.length);
      const key = `${cluster}/${service}`;
      let rep = replacements.get(arn);
      if (rep && !live.has(rep.arn)) {
        replacements.delete(arn); // the replacement died: start another
        rep = undefined;
      }
      if (rep) {
        if (now < rep.inServiceAtMs) continue; // not in service yet: the old task keeps serving
        await stop(ctx, cluster, service, task, rep.arn, now);
        continue;
      }
      const running = runningByService.get(task.group) ?? 0;
      const svc = (await ecs.send(new DescribeServicesCommand({ cluster, services: [service] }))).services?.[0];
      const desired = svc?.desiredCount ?? running;
      if (running < Math.floor((desired * (maxPercent.get(key) ?? 200)) / 100)) {
        const replacement = await startElsewhere(ctx, cluster, task, (rooms ??= await instancesOf(ecs, cluster)));
        if (replacement) {
          runningByService.set(task.group, running + 1);
          live.add(replacement);
          const inServiceAtMs = now + (await healthCheckDelayMs(ctx, svc?.loadBalancers?.map((l) => l.targetGroupArn ?? '').filter(Boolean) ?? []));
          replacements.set(arn, { arn: replacement, inServiceAtMs });
          if (inServiceAtMs <= now) await stop(ctx, cluster, service, task, replacement, now);
          continue;
        }
      }
      // No replacement (no room, or maximumPercent reached): ECS may stop the task only while the service stays at its minimum healthy count.
      const floor = Math.ceil((desired * (minHealthy.get(key) ?? 100)) / 100);
      if (running - 1 < floor) continue;
      runningByService.set(task.group, running - 1);
      await stop(ctx, cluster, service, task, null, now);
    }
  }

  /**
   * Starts a copy of `task` on an ACTIVE container instance with the CPU, memory and fixed host ports
   * it needs (StartTask: moto's RunTask books dynamic host ports as port 0 and so refuses a second
   * dynamic-port task on an instance); undefined when none has room.
   */
  async function startElsewhere(ctx: BehaviourContext, cluster: string, task: Task, rooms: InstanceRoom[]): Promise<string | undefined> {
    const ecs = ctx.aws().ecs;
    const td = (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: task.taskDefinitionArn }))).taskDefinition;
    const containers = td?.containerDefinitions ?? [];
    const cpu = containers.reduce((a, c) => a + (c.cpu ?? 0), 0) || Number(td?.cpu ?? 0);
    const memory = containers.reduce((a, c) => a + (c.memory ?? c.memoryReservation ?? 0), 0) || Number(td?.memory ?? 0);
    const ports = containers.flatMap((c) => (c.portMappings ?? []).map((m) => (td?.networkMode === 'bridge' ? (m.hostPort ?? 0) : (m.containerPort ?? 0)))).filter((p) => p > 0);
    const room = rooms.find((r) => r.status === 'ACTIVE' && r.cpu >= cpu && r.memory >= memory && ports.every((p) => !r.ports.has(String(p))));
    if (!room) return undefined;
    const out = await ecs.send(
      new StartTaskCommand({ cluster, taskDefinition: task.taskDefinitionArn, containerInstances: [room.containerInstanceArn], group: task.group, startedBy: task.startedBy }),
    );
    const started = out.tasks?.[0]?.taskArn;
    if (started) {
      room.cpu -= cpu;
      room.memory -= memory;
      for (const p of ports) room.ports.add(String(p));
    }
    return started;
  }

  /**
   * How long a new task of a service behind these target groups takes to be healthy in all of them:
   * two health-check intervals. The replacement is registered when ecs-deployments notices it (its
   * next step, up to a tick later) and is healthy one interval after that; waiting less would stop
   * the old task while its replacement is still `initial`.
   */
  async function healthCheckDelayMs(ctx: BehaviourContext, targetGroups: string[]): Promise<number> {
    if (targetGroups.length === 0) return 0;
    const out = await ctx.aws().elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: targetGroups })).catch(() => undefined);
    return Math.max(0, ...(out?.TargetGroups ?? []).map((g) => (g.HealthCheckEnabled === false ? 0 : 2 * (g.HealthCheckIntervalSeconds ?? 30) * 1000)));
  }

  async function stop(ctx: BehaviourContext, cluster: string, service: string, task: Task, to: string | null, now: number): Promise<void> {
    const arn = task.taskArn ?? '';
    await ctx.aws().ecs.send(new StopTaskCommand({ cluster, task: arn, reason: 'Task stopped because its container instance is DRAINING (simulated ECS scheduler)' }));
    seenDraining.delete(arn);
    replacements.delete(arn);
    moves.push({ cluster, service, from: arn, to, fromContainerInstance: task.containerInstanceArn ?? '', at: new Date(now).toISOString() });
  }

  const behaviour: Behaviour = {
    name: 'ecs-scheduler',

    afterResponse(req: SimRequest, res: SimResponse) {
      if (req.service !== 'ecs' || (req.action !== 'CreateService' && req.action !== 'UpdateService') || res.status !== 200) return;
      const p = req.params as { cluster?: string; serviceName?: string; service?: string; deploymentConfiguration?: { minimumHealthyPercent?: number; maximumPercent?: number } };
      const name = p.serviceName ?? p.service;
      const pct = p.deploymentConfiguration?.minimumHealthyPercent;
      const max = p.deploymentConfiguration?.maximumPercent;
      if (name && typeof pct === 'number') minHealthy.set(`${clusterName(p.cluster)}/${clusterName(name)}`, pct);
      if (name && typeof max === 'number') maxPercent.set(`${clusterName(p.cluster)}/${clusterName(name)}`, max);
    },

    tick: {
      intervalMs: 1_000,
      async run(ctx) {
        const now = Date.now();
        const clusters = await listAll(async (nextToken) => {
          const r = await ctx.aws().ecs.send(new ListClustersCommand({ nextToken }));
          return { items: r.clusterArns ?? [], next: r.nextToken };
        });
        for (const c of clusters) await moveCluster(ctx, clusterName(c), now);
      },
    },

    route(req) {
      if (req.method === 'GET' && req.path === '/') {
        return { status: 200, body: { config: { replaceDelayMs, minimumHealthyPercent: Object.fromEntries(minHealthy) }, moves } };
      }
      if (req.method === 'POST' && req.path === '/config') {
        const parsed = configSchema.safeParse(req.body ?? {});
        if (!parsed.success) return { status: 400, body: { error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') } };
        if (parsed.data.replaceDelayMs !== undefined) replaceDelayMs = parsed.data.replaceDelayMs;
        for (const [k, v] of Object.entries(parsed.data.minimumHealthyPercent ?? {})) minHealthy.set(k, v);
        return { status: 200, body: { replaceDelayMs, minimumHealthyPercent: Object.fromEntries(minHealthy) } };
      }
      return undefined;
    },

    reset() {
      replaceDelayMs = DEFAULT_REPLACE_DELAY_MS;
      minHealthy.clear();
      maxPercent.clear();
      replacements.clear();
      seenDraining.clear();
      moves.length = 0;
    },
  };
  return behaviour;
};
