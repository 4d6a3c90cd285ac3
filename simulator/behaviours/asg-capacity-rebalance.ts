import { DescribeAutoScalingGroupsCommand, DescribeAutoScalingInstancesCommand, SetDesiredCapacityCommand, TerminateInstanceInAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { DeregisterContainerInstanceCommand, DescribeContainerInstancesCommand, ListClustersCommand, ListContainerInstancesCommand } from '@aws-sdk/client-ecs';
import { z } from 'zod';
import type { Behaviour, BehaviourContext, BehaviourFactory, SimRequest } from '../behaviour';
import { awsErrorResponse, awsSuccessResponse, escapeXml, type SimResponse } from '../protocol';
import { publishInstanceStates } from './ec2-state-events';
import { hooksOf, TERMINATING } from './support/lifecycle-actions';
import { registerBootedInstance } from './support/register-booted';

/**
 * Capacity Rebalancing in an Auto Scaling group, as "Use Capacity Rebalancing to handle Amazon EC2
 * Spot interruptions" (https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-capacity-rebalancing.html)
 * describes it; moto takes the CapacityRebalance flag but neither reports it nor acts on it:
 *  - UpdateAutoScalingGroup `CapacityRebalance` is kept (moto keeps only CreateAutoScalingGroup's),
 *    and DescribeAutoScalingGroups reports it (API_AutoScalingGroup);
 *  - an `EC2 Instance Rebalance Recommendation` for an instance of a group with it on: the group
 *    launches a replacement at its unchanged DesiredCapacity (it runs one instance over its desired
 *    count while it replaces); the replacement joins the cluster of the old instance
 *    `bootDelaySeconds` later, as its ECS agent would;
 *  - once the replacement has passed its health check (the group's HealthCheckGracePeriod after its
 *    launch), the group terminates the old instance itself (not through lifecycle hooks here); as for
 *    any terminated instance, its container instance leaves the cluster and EC2 announces
 *    shutting-down and terminated (support/instance-end.ts);
 *  - TerminateInstanceInAutoScalingGroup of the old instance before that, without decrementing, ends
 *    the replacement: the group is back at its desired count and launches nothing more; with
 *    ShouldDecrementDesiredCapacity the desired count goes down too, refused at MinSize
 *    (ValidationError, as asg-scaling.ts).
 * moto's DesiredCapacity carries the extra instance; this module reports the group's own.
 *
 * Routes: `GET /_sim/asg-capacity-rebalance` → `{ groups, replacements }`; `POST /config` `{ bootDelaySeconds? }`.
 */

interface Replacement {
  group: string;
  /** The instance that got the recommendation. */
  instanceId: string;
  replacementId?: string;
  cluster?: string;
  launchedAt: number;
  registeredAt?: string;
  /** How the old instance left: by the group after the health check, or by a caller first. */
  ended?: 'group' | 'caller';
  error?: string;
}

const REBALANCE = 'EC2 Instance Rebalance Recommendation';
const DEFAULT_BOOT_DELAY_S = 3;
const configSchema = z.object({ bootDelaySeconds: z.number().nonnegative().max(3600).optional() }).strict();

export const asgCapacityRebalance: BehaviourFactory = () => {
  const flags = new Map<string, boolean>();
  let replacements: Replacement[] = [];
  const seenEvents = new Set<string>();
  let bootDelaySeconds = DEFAULT_BOOT_DELAY_S;
  const open = (group?: string) => replacements.filter((r) => !r.ended && !r.error && (group === undefined || r.group === group));

  async function groupOf(ctx: BehaviourContext, instanceId: string): Promise<string | undefined> {
    return (await ctx.aws().autoscaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }))).AutoScalingInstances?.[0]?.AutoScalingGroupName;
  }

  async function describe(ctx: BehaviourContext, group: string) {
    return (await ctx.aws().autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] }))).AutoScalingGroups?.[0];
  }

  /** The group launches one instance over its desired count (moto: desired + 1, the new one is the replacement). */
  async function replace(ctx: BehaviourContext, instanceId: string, cluster: string | undefined): Promise<void> {
    const group = await groupOf(ctx, instanceId);
    if (!group || !flags.get(group) || replacements.some((r) => r.instanceId === instanceId)) return;
    const g = await describe(ctx, group);
    const before = new Set((g?.Instances ?? []).map((i) => i.InstanceId));
    await ctx.aws().autoscaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: group, DesiredCapacity: (g?.DesiredCapacity ?? 0) + 1 }));
    const added = ((await describe(ctx, group))?.Instances ?? []).map((i) => i.InstanceId ?? '').find((id) => id && !before.has(id));
    replacements.push({ group, instanceId, launchedAt: Date.now(), ...(added ? { replacementId: added } : { error: 'the group launched nothing' }), ...(cluster ? { cluster } : {}) });
  }

  /** The old instance leaves; moto's desired count loses the extra instance with it (no further launch). */
  async function endOld(ctx: BehaviourContext, r: Replacement, by: Replacement['ended']): Promise<void> {
    r.ended = by;
    await ctx.aws().autoscaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: r.instanceId, ShouldDecrementDesiredCapacity: true }));
    // As for any terminated instance: ECS deregisters its container instance, EC2 announces the states.
    await deregister(ctx, r.instanceId);
    await publishInstanceStates(ctx, [r.instanceId], ['shutting-down', 'terminated']);
  }

  /** A caller terminates the old instance while the group replaces it. */
  async function terminateOld(req: SimRequest, ctx: BehaviourContext, r: Replacement): Promise<SimResponse | undefined> {
    const decrement = String(req.params.ShouldDecrementDesiredCapacity ?? '').toLowerCase() === 'true';
    const g = await describe(ctx, r.group);
    const desired = (g?.DesiredCapacity ?? 0) - open(r.group).length;
    if (decrement && desired - 1 < (g?.MinSize ?? 0)) {
      return awsErrorResponse(req, {
        status: 400,
        code: 'ValidationError',
        message: `Currently, desiredSize equals minSize (${g?.MinSize ?? 0}). Terminating instance without replacement will violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.`,
      });
    }
    if ((await hooksOf(ctx, 'us-east-1', r.group, TERMINATING)).length > 0) {
      // The lifecycle behaviour takes it into Terminating:Wait; moto's extra instance goes with it.
      r.ended = 'caller';
      req.params.ShouldDecrementDesiredCapacity = 'true';
      return undefined;
    }
    await endOld(ctx, r, 'caller');
    if (decrement) await ctx.aws().autoscaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: r.group, DesiredCapacity: desired - 1 }));
    const now = new Date().toISOString();
    return awsSuccessResponse(req, {
      xml:
        `<Activity><ActivityId>rebalance-${escapeXml(r.instanceId)}</ActivityId><AutoScalingGroupName>${escapeXml(r.group)}</AutoScalingGroupName>` +
        `<Description>Terminating EC2 instance: ${escapeXml(r.instanceId)}</Description><Cause>At ${now} instance ${escapeXml(r.instanceId)} was taken out of service in response to a user request.</Cause>` +
        `<StartTime>${now}</StartTime><StatusCode>InProgress</StatusCode><Progress>0</Progress></Activity>`,
    });
  }

  /** DescribeAutoScalingGroups as AWS answers: the group's own desired count, and its CapacityRebalance (moto reports the one it was created with). */
  function rewrite(res: SimResponse): SimResponse | void {
    if (flags.size === 0) return;
    const xml = res.body.toString('utf8');
    const starts = [...xml.matchAll(/<member>\s*<AutoScalingGroupName>([^<]+)<\/AutoScalingGroupName>/g)];
    if (starts.length === 0) return;
    let out = xml.slice(0, starts[0]!.index);
    starts.forEach((m, i) => {
      const name = m[1]!;
      let seg = xml.slice(m.index, starts[i + 1]?.index ?? xml.length);
      const extra = open(name).length;
      if (extra > 0) seg = seg.replace(/<DesiredCapacity>(\d+)<\/DesiredCapacity>/, (_, d: string) => `<DesiredCapacity>${Number(d) - extra}</DesiredCapacity>`);
      const flag = flags.get(name);
      if (flag !== undefined) {
        const tag = `<CapacityRebalance>${flag}</CapacityRebalance>`;
        seg = /<CapacityRebalance>[^<]*<\/CapacityRebalance>/.test(seg)
          ? seg.replace(/<CapacityRebalance>[^<]*<\/CapacityRebalance>/, tag)
          : seg.replace(/(<DesiredCapacity>\d+<\/DesiredCapacity>)/, `$1${tag}`);
      }
      out += seg;
    });
    const body = Buffer.from(out);
    return { ...res, headers: { ...res.headers, 'content-length': String(body.length) }, body };
  }

  const behaviour: Behaviour = {
    name: 'asg-capacity-rebalance',

    async intercept(req, ctx) {
      if (req.service !== 'autoscaling') return undefined;
      if ((req.action === 'CreateAutoScalingGroup' || req.action === 'UpdateAutoScalingGroup') && req.params.CapacityRebalance !== undefined) {
        flags.set(String(req.params.AutoScalingGroupName ?? ''), String(req.params.CapacityRebalance).toLowerCase() === 'true');
        return undefined;
      }
      if (req.action === 'TerminateInstanceInAutoScalingGroup') {
        const r = open().find((x) => x.instanceId === String(req.params.InstanceId ?? ''));
        return r ? terminateOld(req, ctx, r) : undefined;
      }
      if (req.action === 'SetDesiredCapacity') {
        // The caller sets the group's own count; moto's carries the instances being replaced on top.
        const extra = open(String(req.params.AutoScalingGroupName ?? '')).length;
        if (extra > 0) req.params.DesiredCapacity = String(Number(req.params.DesiredCapacity) + extra);
      }
      return undefined;
    },

    afterResponse(req, res) {
      if (req.service === 'autoscaling' && req.action === 'DescribeAutoScalingGroups' && res.status === 200) return rewrite(res);
      return undefined;
    },

    tick: {
      intervalMs: 1_000,
      async run(ctx) {
        for (const e of ctx.events.published()) {
          if (e['detail-type'] !== REBALANCE || seenEvents.has(e.id) || e.account !== '123456789012') continue;
          seenEvents.add(e.id);
          const instanceId = String(e.detail['instance-id'] ?? '');
          await replace(ctx, instanceId, await clusterOf(ctx, instanceId));
        }
        const now = Date.now();
        for (const r of open()) {
          if (!r.replacementId) continue;
          if (!r.registeredAt && r.cluster && now >= r.launchedAt + bootDelaySeconds * 1000) {
            const error = await registerBootedInstance(ctx, r.cluster, r.replacementId).catch((err: unknown) => (err as Error).message);
            if (error) r.error = error;
            else r.registeredAt = new Date().toISOString();
          }
          const grace = (await describe(ctx, r.group))?.HealthCheckGracePeriod ?? 300;
          if (now >= r.launchedAt + grace * 1000) await endOld(ctx, r, 'group');
        }
      },
    },

    route(req) {
      if (req.method === 'GET' && req.path === '/') return { status: 200, body: { groups: Object.fromEntries(flags), replacements, bootDelaySeconds } };
      if (req.method === 'POST' && req.path === '/config') {
        const p = configSchema.safeParse(req.body ?? {});
        if (!p.success) return { status: 400, body: { error: p.error.message } };
        if (p.data.bootDelaySeconds !== undefined) bootDelaySeconds = p.data.bootDelaySeconds;
        return { status: 200, body: { bootDelaySeconds } };
      }
      return undefined;
    },

    reset() {
      flags.clear();
      seenEvents.clear();
      replacements = [];
      bootDelaySeconds = DEFAULT_BOOT_DELAY_S;
    },
  };
  return behaviour;
};

/** The cluster (and container instance) of an EC2 instance (its replacement joins the same cluster). */
async function containerOf(ctx: BehaviourContext, instanceId: string): Promise<{ cluster: string; arn: string } | undefined> {
  const ecs = ctx.aws().ecs;
  for (const c of (await ecs.send(new ListClustersCommand({}))).clusterArns ?? []) {
    const arns = (await ecs.send(new ListContainerInstancesCommand({ cluster: c }))).containerInstanceArns ?? [];
    for (let i = 0; i < arns.length; i += 100) {
      const d = await ecs.send(new DescribeContainerInstancesCommand({ cluster: c, containerInstances: arns.slice(i, i + 100) }));
      const ci = d.containerInstances?.find((x) => x.ec2InstanceId === instanceId);
      if (ci?.containerInstanceArn) return { cluster: c, arn: ci.containerInstanceArn };
    }
  }
  return undefined;
}

async function clusterOf(ctx: BehaviourContext, instanceId: string): Promise<string | undefined> {
  const c = (await containerOf(ctx, instanceId))?.cluster;
  return c?.slice(c.lastIndexOf('/') + 1);
}

async function deregister(ctx: BehaviourContext, instanceId: string): Promise<void> {
  const c = await containerOf(ctx, instanceId);
  if (c) await ctx.aws().ecs.send(new DeregisterContainerInstanceCommand({ cluster: c.cluster, containerInstance: c.arn, force: true }));
}
