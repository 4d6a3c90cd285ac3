import { DeregisterContainerInstanceCommand, DescribeContainerInstancesCommand, ListClustersCommand, ListContainerInstancesCommand } from '@aws-sdk/client-ecs';
import { StartInstancesCommand, StopInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { z } from 'zod';
import { ec2InstanceIdSchema } from '../../common/aws-ids';
import type { Behaviour, BehaviourContext, BehaviourFactory } from '../behaviour';
import { DEFAULT_ACCOUNT } from '../events';
import { publishInstanceStates } from './ec2-state-events';

/**
 * Spot reclaim, as AWS does it: an instance that got an interruption warning is terminated
 * `afterSeconds` (120) later, and its container instance leaves its cluster with whatever tasks it
 * still ran; EC2 announces shutting-down and terminated (ec2-state-events.ts). `interrupt` is the
 * whole of it as AWS does it ("Spot Instance interruption notices",
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-instance-termination-notices.html):
 * optionally a rebalance recommendation first, then the `EC2 Spot Instance Interruption Warning`
 * published to EventBridge, then the reclaim. `schedule` is the reclaim alone, for callers that deliver
 * the warning themselves (the storm benchmark posts it to the router).
 *
 * Routes: `POST /_sim/spot-interruption/interrupt` `{ instanceId, afterSeconds?, rebalance?, action? }`
 * (action terminate, stop or hibernate, as the warning's `instance-action`); `POST
 * /_sim/spot-interruption/resume` `{ instanceId }` (a stopped instance runs again);
 * `POST /_sim/spot-interruption/schedule` `{ instanceId, afterSeconds? }`;
 * `GET /_sim/spot-interruption` → `{ scheduled, terminated }`.
 */

interface Scheduled {
  instanceId: string;
  terminateAt: string;
  /** terminate (default), or stop / hibernate: the instance stops and keeps its container instance. */
  action?: 'terminate' | 'stop' | 'hibernate';
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

const interruptSchema = scheduleSchema
  .extend({ rebalance: z.boolean().default(false), region: z.string().default('us-east-1'), action: z.enum(['terminate', 'stop', 'hibernate']).default('terminate') })
  .strict();
const resumeSchema = z.object({ instanceId: ec2InstanceIdSchema }).strict();

function clusterName(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

export const spotInterruption: BehaviourFactory = () => {
  const scheduled = new Map<string, Scheduled>();
  const terminated: Terminated[] = [];

  /**
   * Stop and hibernate ("Interruption behavior", https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/interruption-behavior.html):
   * the instance stops (EC2 announces stopping and stopped) and stays registered with its cluster
   * (its agent is gone until it runs again); `resume` starts it again when capacity returns.
   */
  async function stop(ctx: BehaviourContext, s: Scheduled): Promise<void> {
    await ctx.aws().ec2.send(new StopInstancesCommand({ InstanceIds: [s.instanceId], ...(s.action === 'hibernate' ? { Hibernate: true } : {}) })).then(
      () => publishInstanceStates(ctx, [s.instanceId], ['stopping', 'stopped']),
      (err: unknown) => ctx.log.warn({ err, instanceId: s.instanceId }, 'spot-interruption: StopInstances failed'),
    );
    terminated.push({ ...s, terminatedAt: new Date().toISOString(), tasksLost: 0 });
  }

  async function terminate(ctx: BehaviourContext, s: Scheduled): Promise<void> {
    if (s.action === 'stop' || s.action === 'hibernate') return stop(ctx, s);
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
    const gone = await aws.ec2.send(new TerminateInstancesCommand({ InstanceIds: [s.instanceId] })).then(
      () => true,
      (err: unknown) => {
        ctx.log.warn({ err, instanceId: s.instanceId }, 'spot-interruption: TerminateInstances failed');
        return false;
      },
    );
    if (gone) await publishInstanceStates(ctx, [s.instanceId], ['shutting-down', 'terminated']);
    terminated.push({ ...s, terminatedAt: new Date().toISOString(), tasksLost, ...(cluster ? { cluster } : {}) });
  }

  /** A second warning for the same instance does not move the first one's termination. */
  function schedule(instanceId: string, afterSeconds: number, action: Scheduled['action'] = 'terminate'): Scheduled {
    const s = scheduled.get(instanceId) ?? { instanceId, terminateAt: new Date(Date.now() + afterSeconds * 1000).toISOString(), action };
    scheduled.set(s.instanceId, s);
    return s;
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

    async route(req, ctx) {
      if (req.method === 'GET' && req.path === '/') return { status: 200, body: { scheduled: [...scheduled.values()], terminated } };
      if (req.method === 'POST' && req.path === '/schedule') {
        const p = scheduleSchema.safeParse(req.body ?? {});
        if (!p.success) return { status: 400, body: { error: p.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') } };
        return { status: 200, body: schedule(p.data.instanceId, p.data.afterSeconds) };
      }
      if (req.method === 'POST' && req.path === '/interrupt') {
        const p = interruptSchema.safeParse(req.body ?? {});
        if (!p.success) return { status: 400, body: { error: p.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') } };
        const { instanceId, region } = p.data;
        const resources = [`arn:aws:ec2:${region}:${DEFAULT_ACCOUNT}:instance/${instanceId}`];
        const published = [];
        if (p.data.rebalance) {
          published.push(await ctx.events.publish({ source: 'aws.ec2', detailType: 'EC2 Instance Rebalance Recommendation', detail: { 'instance-id': instanceId }, resources, region }));
        }
        published.push(
          await ctx.events.publish({
            source: 'aws.ec2',
            detailType: 'EC2 Spot Instance Interruption Warning',
            detail: { 'instance-id': instanceId, 'instance-action': p.data.action },
            resources,
            region,
          }),
        );
        return { status: 200, body: { ...schedule(instanceId, p.data.afterSeconds, p.data.action), events: published } };
      }
      if (req.method === 'POST' && req.path === '/resume') {
        const p = resumeSchema.safeParse(req.body ?? {});
        if (!p.success) return { status: 400, body: { error: p.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') } };
        await ctx.aws().ec2.send(new StartInstancesCommand({ InstanceIds: [p.data.instanceId] }));
        await publishInstanceStates(ctx, [p.data.instanceId], ['pending', 'running']);
        return { status: 200, body: { resumed: p.data.instanceId } };
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
