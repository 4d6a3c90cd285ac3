import { DeregisterContainerInstanceCommand, DescribeContainerInstancesCommand, ListClustersCommand, ListContainerInstancesCommand } from '@aws-sdk/client-ecs';
import { TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { z } from 'zod';
import { ec2InstanceIdSchema } from '../../common/aws-ids';
import type { Behaviour, BehaviourContext, BehaviourFactory } from '../behaviour';

/**
 * Spot reclaim, as AWS does it: an instance that got an interruption warning is terminated
 * `afterSeconds` (120) later, and its container instance leaves its cluster with whatever tasks it
 * still ran. The local stack and the storm benchmark schedule this when they post a warning.
 *
 * Routes: `POST /_sim/spot-interruption/schedule` `{ instanceId, afterSeconds? }`;
 * `GET /_sim/spot-interruption` → `{ scheduled, terminated }`.
 */

interface Scheduled {
  instanceId: string;
  terminateAt: string;
}

interface Terminated extends Scheduled {
  terminatedAt: string;
  /** Tasks the container instance still ran when it went (work lost). */
  tasksLost: number;
  cluster?: string;
}

const scheduleSchema = z
  .object({
    instanceId: ec2InstanceIdSchema,
    afterSeconds: z.number().nonnegative().max(3600).default(120),
  })
  .strict();

function clusterName(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

export const spotInterruption: BehaviourFactory = () => {
  const scheduled = new Map<string, Scheduled>();
  const terminated: Terminated[] = [];

  async function terminate(ctx: BehaviourContext, s: Scheduled): Promise<void> {
    const aws = ctx.aws();
    let tasksLost = 0;
    let cluster: string | undefined;
    const clusters = (await aws.ecs.send(new ListClustersCommand({}))).clusterArns ?? [];
    for (const c of clusters) {
      const arns = (await aws.ecs.send(new ListContainerInstancesCommand({ cluster: c }))).containerInstanceArns ?? [];
      if (arns.length === 0) continue;
      for (let i = 0; i < arns.length; i += 100) {
        const out = await aws.ecs.send(new DescribeContainerInstancesCommand({ cluster: c, containerInstances: arns.slice(i, i + 100) }));
        const ci = out.containerInstances?.find((x) => x.ec2InstanceId === s.instanceId);
        if (!ci?.containerInstanceArn) continue;
        tasksLost = (ci.runningTasksCount ?? 0) + (ci.pendingTasksCount ?? 0);
        cluster = clusterName(c);
        await aws.ecs.send(new DeregisterContainerInstanceCommand({ cluster: c, containerInstance: ci.containerInstanceArn, force: true }));
      }
    }
    await aws.ec2.send(new TerminateInstancesCommand({ InstanceIds: [s.instanceId] })).catch((err: unknown) => {
      ctx.log.warn({ err, instanceId: s.instanceId }, 'spot-interruption: TerminateInstances failed');
    });
    terminated.push({ ...s, terminatedAt: new Date().toISOString(), tasksLost, ...(cluster ? { cluster } : {}) });
  }

  const behaviour: Behaviour = {
    name: 'spot-interruption',

    tick: {
      intervalMs: 1_000,
      async run(ctx) {
        const now = Date.now();
        for (const s of [...scheduled.values()]) {
          if (Date.parse(s.terminateAt) > now) continue;
          scheduled.delete(s.instanceId);
          await terminate(ctx, s);
        }
      },
    },

    route(req) {
      if (req.method === 'GET' && req.path === '/') return { status: 200, body: { scheduled: [...scheduled.values()], terminated } };
      if (req.method === 'POST' && req.path === '/schedule') {
        const p = scheduleSchema.safeParse(req.body ?? {});
        if (!p.success) return { status: 400, body: { error: p.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') } };
        // A second warning for the same instance does not move the first one's termination.
        const s = scheduled.get(p.data.instanceId) ?? {
          instanceId: p.data.instanceId,
          terminateAt: new Date(Date.now() + p.data.afterSeconds * 1000).toISOString(),
        };
        scheduled.set(s.instanceId, s);
        return { status: 200, body: s };
      }
      return undefined;
    },

    reset() {
      scheduled.clear();
      terminated.length = 0;
    },
  };
  return behaviour;
};
