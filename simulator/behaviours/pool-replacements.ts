import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, DescribeSpotFleetInstancesCommand, DescribeSpotFleetRequestsCommand } from '@aws-sdk/client-ec2';
import { DescribeContainerInstancesCommand, ListClustersCommand, ListContainerInstancesCommand } from '@aws-sdk/client-ecs';
import { z } from 'zod';
import type { Behaviour, BehaviourContext, BehaviourFactory } from '../behaviour';
import { registerBootedInstance } from './support/register-booted';

/**
 * Pools that replace their own instances, and the replacements joining the cluster. A `maintain` Spot
 * Fleet ("Spot Fleet request types", https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-fleet-requests.html#spot-fleet-request-types)
 * and an Auto Scaling group ("Health checks for instances in an Auto Scaling group" /
 * "Replace unhealthy instances", https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-health-checks.html)
 * launch a replacement for an instance that is terminated under them (a spot reclaim), at their
 * unchanged target. moto launches those replacements (its TerminateInstances replaces ASG instances;
 * moto-patches/sitecustomize.py makes `maintain` fleets do it); this module has each replacement
 * join the ECS cluster the pool's other instances are in, `bootDelaySeconds` after it appears, as the
 * ECS agent on it would (RegisterContainerInstance with its identity document). Raises of a pool's
 * target are the capacity behaviour's (it registers what they launch): only new instances of a pool
 * whose target did not move are taken as replacements here.
 *
 * Routes: `GET /_sim/pool-replacements` → `{ replacements }`; `POST /_sim/pool-replacements/config` `{ bootDelaySeconds? }`.
 */

interface PoolSnapshot {
  target: number;
  instances: Set<string>;
}

interface Replacement {
  pool: string;
  instanceId: string;
  cluster?: string;
  registerAt: number;
  registeredAt?: string;
  error?: string;
}

const configSchema = z.object({ bootDelaySeconds: z.number().nonnegative().max(3600).optional() }).strict();

const DEFAULT_BOOT_DELAY_S = 3;

export const poolReplacements: BehaviourFactory = () => {
  let snapshots = new Map<string, PoolSnapshot>();
  let replacements: Replacement[] = [];
  let bootDelaySeconds = DEFAULT_BOOT_DELAY_S;

  async function pools(ctx: BehaviourContext): Promise<Map<string, PoolSnapshot>> {
    const out = new Map<string, PoolSnapshot>();
    const ec2 = ctx.aws().ec2;
    const live = async (ids: string[]) => {
      if (ids.length === 0) return new Set<string>();
      const d = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
      return new Set(
        (d.Reservations ?? []).flatMap((r) => r.Instances ?? []).filter((i) => ['pending', 'running'].includes(i.State?.Name ?? '')).map((i) => i.InstanceId ?? ''),
      );
    };
    const fleets = (await ec2.send(new DescribeSpotFleetRequestsCommand({}))).SpotFleetRequestConfigs ?? [];
    for (const f of fleets) {
      const id = f.SpotFleetRequestId ?? '';
      if (!id || f.SpotFleetRequestState !== 'active') continue;
      const members = await ec2.send(new DescribeSpotFleetInstancesCommand({ SpotFleetRequestId: id }));
      out.set(`sfr:${id}`, {
        target: f.SpotFleetRequestConfig?.TargetCapacity ?? 0,
        instances: await live((members.ActiveInstances ?? []).map((a) => a.InstanceId ?? '').filter(Boolean)),
      });
    }
    const groups = (await ctx.aws().autoscaling.send(new DescribeAutoScalingGroupsCommand({}))).AutoScalingGroups ?? [];
    for (const g of groups) {
      out.set(`asg:${g.AutoScalingGroupName}`, {
        target: g.DesiredCapacity ?? 0,
        instances: new Set((g.Instances ?? []).filter((i) => !/Terminat/.test(i.LifecycleState ?? '')).map((i) => i.InstanceId ?? '').filter(Boolean)),
      });
    }
    return out;
  }

  /** The cluster most of `instanceIds` are registered in. */
  async function clusterOf(ctx: BehaviourContext, instanceIds: string[]): Promise<{ cluster?: string; registered: Set<string> }> {
    const ecs = ctx.aws().ecs;
    const votes = new Map<string, number>();
    const registered = new Set<string>();
    for (const c of (await ecs.send(new ListClustersCommand({}))).clusterArns ?? []) {
      const arns = (await ecs.send(new ListContainerInstancesCommand({ cluster: c }))).containerInstanceArns ?? [];
      for (let i = 0; i < arns.length; i += 100) {
        const d = await ecs.send(new DescribeContainerInstancesCommand({ cluster: c, containerInstances: arns.slice(i, i + 100) }));
        for (const ci of d.containerInstances ?? []) {
          registered.add(ci.ec2InstanceId ?? '');
          if (instanceIds.includes(ci.ec2InstanceId ?? '')) votes.set(c, (votes.get(c) ?? 0) + 1);
        }
      }
    }
    const best = [...votes.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
    return { cluster: best?.slice(best.lastIndexOf('/') + 1), registered };
  }

  async function register(ctx: BehaviourContext, r: Replacement): Promise<void> {
    try {
      r.error = await registerBootedInstance(ctx, r.cluster, r.instanceId);
      if (!r.error) r.registeredAt = new Date().toISOString();
    } catch (err) {
      r.error = (err as Error).message;
    }
  }

  const behaviour: Behaviour = {
    name: 'pool-replacements',

    tick: {
      intervalMs: 1_000,
      async run(ctx) {
        const now = Date.now();
        const current = await pools(ctx);
        for (const [pool, snap] of current) {
          const before = snapshots.get(pool);
          if (!before || before.target !== snap.target) continue;
          const added = [...snap.instances].filter((id) => !before.instances.has(id));
          const lost = [...before.instances].filter((id) => !snap.instances.has(id));
          if (added.length === 0 || lost.length === 0) continue;
          const { cluster, registered } = await clusterOf(ctx, [...snap.instances].filter((id) => !added.includes(id)));
          for (const instanceId of added.slice(0, lost.length)) {
            if (registered.has(instanceId) || replacements.some((r) => r.instanceId === instanceId)) continue;
            replacements.push({ pool, instanceId, ...(cluster ? { cluster } : {}), registerAt: now + bootDelaySeconds * 1000 });
          }
        }
        snapshots = current;
        for (const r of replacements) {
          if (r.registeredAt || r.error || r.registerAt > now) continue;
          if (!r.cluster) {
            r.error = 'no other instance of the pool is in a cluster';
            continue;
          }
          await register(ctx, r);
        }
      },
    },

    route(req) {
      if (req.method === 'GET' && req.path === '/') return { status: 200, body: { bootDelaySeconds, replacements } };
      if (req.method === 'POST' && req.path === '/config') {
        const p = configSchema.safeParse(req.body ?? {});
        if (!p.success) return { status: 400, body: { error: p.error.message } };
        if (p.data.bootDelaySeconds !== undefined) bootDelaySeconds = p.data.bootDelaySeconds;
        return { status: 200, body: { bootDelaySeconds } };
      }
      return undefined;
    },

    reset() {
      snapshots = new Map();
      replacements = [];
      bootDelaySeconds = DEFAULT_BOOT_DELAY_S;
    },
  };
  return behaviour;
};
