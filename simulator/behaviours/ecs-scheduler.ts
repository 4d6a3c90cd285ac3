import {
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListClustersCommand,
  ListContainerInstancesCommand,
  ListTasksCommand,
  RunTaskCommand,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { z } from 'zod';
import type { Behaviour, BehaviourContext, BehaviourFactory, SimRequest } from '../behaviour';
import type { SimResponse } from '../protocol';

/**
 * The part of the ECS scheduler moto lacks: service tasks on a DRAINING container instance are
 * replaced on ACTIVE instances once they have sat there `replaceDelayMs`, the way ECS moves them.
 * A replacement is started first (moto places tasks on ACTIVE instances only); when none can be
 * placed, the old task is stopped only if the service keeps `minimumHealthyPercent` of its desired
 * count running without it. Standalone tasks (group not `service:…`) stay: only their owner moves them.
 *
 * moto does not keep a service's deploymentConfiguration, so this module reads it from CreateService
 * and UpdateService calls as they pass (default 100 %).
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
    for (const task of all) {
      const arn = task.taskArn ?? '';
      if (!task.group?.startsWith('service:') || !drainingSet.has(task.containerInstanceArn ?? '')) continue;
      const first = seenDraining.get(arn) ?? now;
      seenDraining.set(arn, first);
      if (now - first < replaceDelayMs) continue;

      const service = task.group.slice('service:'.length);
      const run = await ecs.send(
        new RunTaskCommand({ cluster, taskDefinition: task.taskDefinitionArn, group: task.group, startedBy: task.startedBy, count: 1 }),
      );
      const replacement = run.tasks?.[0]?.taskArn ?? null;
      if (!replacement) {
        // No room elsewhere: ECS may stop the task only while the service stays at its minimum healthy count.
        const running = runningByService.get(task.group) ?? 0;
        const svc = await ecs.send(new DescribeServicesCommand({ cluster, services: [service] }));
        const desired = svc.services?.[0]?.desiredCount ?? running;
        const floor = Math.ceil((desired * (minHealthy.get(`${cluster}/${service}`) ?? 100)) / 100);
        if (running - 1 < floor) continue;
        runningByService.set(task.group, running - 1);
      }
      await ecs.send(new StopTaskCommand({ cluster, task: arn, reason: 'Task stopped because its container instance is DRAINING (simulated ECS scheduler)' }));
      seenDraining.delete(arn);
      moves.push({ cluster, service, from: arn, to: replacement, fromContainerInstance: task.containerInstanceArn ?? '', at: new Date(now).toISOString() });
    }
  }

  const behaviour: Behaviour = {
    name: 'ecs-scheduler',

    afterResponse(req: SimRequest, res: SimResponse) {
      if (req.service !== 'ecs' || (req.action !== 'CreateService' && req.action !== 'UpdateService') || res.status !== 200) return;
      const p = req.params as { cluster?: string; serviceName?: string; service?: string; deploymentConfiguration?: { minimumHealthyPercent?: number } };
      const name = p.serviceName ?? p.service;
      const pct = p.deploymentConfiguration?.minimumHealthyPercent;
      if (name && typeof pct === 'number') minHealthy.set(`${clusterName(p.cluster)}/${clusterName(name)}`, pct);
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
      seenDraining.clear();
      moves.length = 0;
    },
  };
  return behaviour;
};
