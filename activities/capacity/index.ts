import { Context } from '@temporalio/activity';
import { DescribeContainerInstancesCommand, DescribeTasksCommand, ListContainerInstancesCommand, ListTasksCommand } from '@aws-sdk/client-ecs';
import { chunks } from '../../common/batching';
import { poolOverrides } from '../../config/instance-weight';
import type { ClusterConfig, PoolConfig } from '../../config/schema';
import { awsCall } from '../aws/errors';
import { clientsFor, type ActivityDeps } from '../deps';
import { invalid, weightIn } from './pools/driver';
import { spotPrices } from './spot-prices';
import { driverFor, type PoolContext, type PoolState } from './pools';
import type {
  AwaitContainerInstancesInput,
  AwaitContainerInstancesResult,
  AwaitPoolFulfilmentInput,
  AwaitPoolFulfilmentResult,
  CapacitySettings,
  CapacitySnapshot,
  LaunchedInstance,
  MutationOutcome,
  PoolInstance,
  PoolSettings,
  PoolSnapshot,
  RemovePoolInstanceInput,
  RequestPoolCapacityInput,
  RequestPoolCapacityResult,
  SetPoolTargetInput,
  WithdrawOutcome,
} from './types';

/**
 * Capacity activities: one AWS concern each, called by the capacity workflow (workflows/capacity/).
 * Pools are looked up by name in the config the worker runs with, so the workflow history carries
 * names, not ARNs. What differs by pool kind is in that kind's driver (./pools/, one file per kind,
 * dispatched through POOL_DRIVERS); this factory is written once for every kind.
 * Waits poll and heartbeat; a retried wait resumes from its heartbeat instead of starting over.
 */

const CLOCK_SKEW_MS = 5_000;

/** Waits `ms`, or throws when Temporal cancels the activity (heartbeat timeout, workflow gone). */
async function pause(ms: number): Promise<void> {
  await Context.current().sleep(ms);
}

export function createCapacityActivities(deps: ActivityDeps) {
  function clusterConfig(cluster: string): ClusterConfig {
    const c = deps.config.clusters[cluster];
    if (!c) throw invalid(`cluster "${cluster}" is not in the config (clusters: ${Object.keys(deps.config.clusters).join(', ') || 'none'})`);
    return c;
  }

  function poolConfig(cluster: string, pool: string): PoolConfig {
    const p = clusterConfig(cluster).pools.find((x) => x.name === pool);
    if (!p) throw invalid(`cluster "${cluster}" has no pool "${pool}"`);
    return p;
  }

  const contextOf = (cluster: string): PoolContext => ({ aws: clientsFor(deps, cluster), cluster, clusterConfig: clusterConfig(cluster) });

  function settingsOf(cluster: string): { settings: CapacitySettings; pools: PoolSettings[] } {
    const c = clusterConfig(cluster);
    return {
      settings: { ...c.capacity },
      pools: c.pools.map((p) => ({
        name: p.name,
        kind: p.kind,
        market: driverFor(p).market(p),
        fulfilmentTimeoutSeconds: p.fulfilmentTimeoutSeconds,
        ...(p.maxCapacity !== undefined ? { maxUnits: p.maxCapacity } : {}),
        ...(p.kind === 'asg' && p.lowerMinSizeOnScaleIn ? { lowerMinSizeOnScaleIn: true } : {}),
        overrides: poolOverrides(p).map((o) => ({
          instanceType: o.instanceType,
          ...(o.availabilityZone ? { availabilityZone: o.availabilityZone } : {}),
          ...(o.subnetId ? { subnetId: o.subnetId } : {}),
          weight: o.weight,
        })),
      })),
    };
  }

  /** ec2 instance id → ECS container instance status, and standalone task counts per instance. */
  async function clusterView(cluster: string): Promise<Map<string, { status: string; standaloneTasks: number }>> {
    const aws = clientsFor(deps, cluster);
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      const res = await awsCall('ecs:ListContainerInstances', () => aws.ecs.send(new ListContainerInstancesCommand({ cluster, nextToken })));
      arns.push(...(res.containerInstanceArns ?? []));
      nextToken = res.nextToken;
    } while (nextToken);
    const byArn = new Map<string, { instanceId: string; status: string }>();
    for (const batch of chunks(arns, 100)) {
      const res = await awsCall('ecs:DescribeContainerInstances', () =>
        aws.ecs.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: batch })),
      );
      for (const ci of res.containerInstances ?? []) {
        if (ci.containerInstanceArn && ci.ec2InstanceId) byArn.set(ci.containerInstanceArn, { instanceId: ci.ec2InstanceId, status: ci.status ?? 'UNKNOWN' });
      }
    }
    const standalone = new Map<string, number>();
    const taskArns: string[] = [];
    nextToken = undefined;
    do {
      const res = await awsCall('ecs:ListTasks', () => aws.ecs.send(new ListTasksCommand({ cluster, desiredStatus: 'RUNNING', nextToken })));
      taskArns.push(...(res.taskArns ?? []));
      nextToken = res.nextToken;
    } while (nextToken);
    for (const batch of chunks(taskArns, 100)) {
      const res = await awsCall('ecs:DescribeTasks', () => aws.ecs.send(new DescribeTasksCommand({ cluster, tasks: batch })));
      for (const t of res.tasks ?? []) {
        // Service tasks are in group `service:<name>` (started by `ecs-svc/...`); anything else is a standalone (batch) task.
        const isService = t.group?.startsWith('service:') || t.startedBy?.startsWith('ecs-svc/');
        if (isService || !t.containerInstanceArn) continue;
        standalone.set(t.containerInstanceArn, (standalone.get(t.containerInstanceArn) ?? 0) + 1);
      }
    }
    const out = new Map<string, { status: string; standaloneTasks: number }>();
    for (const [arn, ci] of byArn) out.set(ci.instanceId, { status: ci.status, standaloneTasks: standalone.get(arn) ?? 0 });
    return out;
  }

  function deliveredSince(ctx: PoolContext, pool: PoolConfig, state: PoolState, known: Set<string>): LaunchedInstance[] {
    return state.instances
      .filter((i) => !known.has(i.instanceId))
      .map((i) => ({
        instanceId: i.instanceId,
        instanceType: i.instanceType ?? 'unknown',
        ...(i.availabilityZone ? { availabilityZone: i.availabilityZone } : {}),
        weight: weightIn(ctx, pool, i.instanceType, i.availabilityZone),
      }));
  }

  return {
    /** Settings, pools in ladder order, and each pool's target, live instances and ACTIVE units. */
    async describeCapacity(input: { cluster: string }): Promise<CapacitySnapshot> {
      const { settings, pools } = settingsOf(input.cluster);
      const ctx = contextOf(input.cluster);
      const c = ctx.clusterConfig;
      const [view, raws] = await Promise.all([clusterView(input.cluster), Promise.all(c.pools.map((p) => driverFor(p).describe(ctx, p)))]);
      const marketOf = (p: PoolConfig) => driverFor(p).market(p);
      const spotTypes = [
        ...new Set(raws.flatMap((r, i) => (marketOf(c.pools[i]!) === 'spot' ? r.instances.map((x) => x.instanceType ?? '') : [])).filter(Boolean)),
      ];
      const prices = await spotPrices(clientsFor(deps, input.cluster), spotTypes);
      const state: PoolSnapshot[] = c.pools.map((p, idx) => {
        const raw = raws[idx]!;
        const market = marketOf(p);
        const instances: PoolInstance[] = raw.instances.map((i) => {
          const ci = view.get(i.instanceId);
          const price = market === 'spot' ? prices.get(`${i.instanceType}/${i.availabilityZone}`) : undefined;
          return {
            instanceId: i.instanceId,
            pool: p.name,
            instanceType: i.instanceType ?? 'unknown',
            ...(i.availabilityZone ? { availabilityZone: i.availabilityZone } : {}),
            market,
            weight: weightIn(ctx, p, i.instanceType, i.availabilityZone),
            state: i.state,
            ...(ci ? { containerStatus: ci.status } : {}),
            standaloneTasks: ci?.standaloneTasks ?? 0,
            ...(price !== undefined ? { hourlyPrice: price } : {}),
          };
        });
        const actualUnits = instances.reduce((s, i) => s + i.weight, 0);
        return {
          name: p.name,
          kind: p.kind,
          market,
          targetUnits: raw.targetUnits ?? actualUnits,
          actualUnits,
          ...(raw.minUnits !== undefined ? { minUnits: raw.minUnits } : {}),
          ...(raw.maxUnits !== undefined ? { maxUnits: raw.maxUnits } : {}),
          activeUnits: instances.filter((i) => i.containerStatus === 'ACTIVE').reduce((s, i) => s + i.weight, 0),
          instances,
        };
      });
      return { cluster: input.cluster, settings, pools, state };
    },

    /**
     * Asks one pool for units (the pool kind's driver says how: ec2-fleet launches at once with
     * CreateFleet `instant` over the overrides not marked unavailable; spot-fleet and asg raise their
     * target to `newTargetUnits`, absolute, so a retry does not add twice).
     */
    async requestPoolCapacity(input: RequestPoolCapacityInput): Promise<RequestPoolCapacityResult> {
      const pool = poolConfig(input.cluster, input.pool);
      return driverFor(pool).request(contextOf(input.cluster), pool, input);
    },

    /** Polls a pool whose request raised a target until it delivers `units` new units, reports a capacity error, or times out. */
    async awaitPoolFulfilment(input: AwaitPoolFulfilmentInput): Promise<AwaitPoolFulfilmentResult> {
      const pool = poolConfig(input.cluster, input.pool);
      const ctx = contextOf(input.cluster);
      const driver = driverFor(pool);
      const activity = Context.current();
      // A retried attempt keeps the first attempt's start, so the pool's timeout is not extended by retries.
      const resumed = activity.info.heartbeatDetails as { startedAt?: number } | undefined;
      const startedAt = resumed?.startedAt ?? Date.now();
      const deadline = startedAt + input.timeoutSeconds * 1000;
      const known = new Set(input.knownInstanceIds);
      const pollMs = (input.pollSeconds ?? 2) * 1000;
      for (;;) {
        const state = await driver.describe(ctx, pool);
        const fresh = deliveredSince(ctx, pool, state, known);
        const units = fresh.reduce((s, i) => s + i.weight, 0);
        activity.heartbeat({ startedAt, deliveredUnits: units });
        if (units >= input.units) return { deliveredUnits: units, instances: fresh, timedOut: false };
        // AWS clocks and ours differ by a little; a failure logged just before the request time still counts.
        const since = input.requestedAt ? Date.parse(input.requestedAt) - CLOCK_SKEW_MS : startedAt;
        const capacityError = await driver.capacityError(ctx, pool, state, new Date(since));
        if (capacityError) return { deliveredUnits: units, instances: fresh, capacityError, timedOut: false };
        if (Date.now() >= deadline) return { deliveredUnits: units, instances: fresh, timedOut: true };
        await pause(Math.min(pollMs, Math.max(0, deadline - Date.now())));
      }
    },

    /**
     * Withdraws an undelivered request: lowers a pool's target without letting the pool choose
     * victims (an ASG lowered by DesiredCapacity terminates by its own policy, serving instances
     * included). Instances outside `keepInstanceIds` that are not ACTIVE container instances may be
     * named to go; a pool without a target has nothing to lower. Units still held over the target
     * (a raise filled, and serving, before it was withdrawn) are answered as `surplusUnits`.
     */
    async setPoolTarget(input: SetPoolTargetInput): Promise<WithdrawOutcome> {
      const pool = poolConfig(input.cluster, input.pool);
      const ctx = contextOf(input.cluster);
      const driver = driverFor(pool);
      let unwanted: string[] = [];
      if (input.keepInstanceIds) {
        // Launched for the request and not serving (not an ACTIVE container instance): these may be named to go.
        const keep = new Set(input.keepInstanceIds);
        const [state, view] = await Promise.all([driver.describe(ctx, pool), clusterView(input.cluster)]);
        unwanted = state.instances.filter((i) => !keep.has(i.instanceId) && view.get(i.instanceId)?.status !== 'ACTIVE').map((i) => i.instanceId);
      }
      const dryRunCalls = await driver.withdraw(ctx, pool, input.targetUnits, input.dryRun, unwanted);
      if (input.dryRun || !input.keepInstanceIds) return { dryRunCalls };
      const after = await driver.describe(ctx, pool);
      const held = after.instances.reduce((s, i) => s + weightIn(ctx, pool, i.instanceType, i.availabilityZone), 0);
      const surplusUnits = Math.max(0, held - input.targetUnits);
      return { dryRunCalls, ...(surplusUnits > 0 ? { surplusUnits } : {}) };
    },

    /** Polls ECS until every instance is an ACTIVE container instance in the cluster, or the timeout. */
    async awaitContainerInstancesActive(input: AwaitContainerInstancesInput): Promise<AwaitContainerInstancesResult> {
      const ctx = Context.current();
      const resumed = ctx.info.heartbeatDetails as { startedAt?: number } | undefined;
      const startedAt = resumed?.startedAt ?? Date.now();
      const deadline = startedAt + input.timeoutSeconds * 1000;
      const pollMs = (input.pollSeconds ?? 2) * 1000;
      for (;;) {
        const view = await clusterView(input.cluster);
        const active = input.instanceIds.filter((id) => view.get(id)?.status === 'ACTIVE');
        const missing = input.instanceIds.filter((id) => !active.includes(id));
        ctx.heartbeat({ startedAt, active: active.length });
        if (missing.length === 0 || Date.now() >= deadline) return { active, missing };
        await pause(Math.min(pollMs, Math.max(0, deadline - Date.now())));
      }
    },

    /**
     * Takes one drained instance out of its pool for good: a pool that keeps a target (a `maintain`
     * Spot Fleet, an ASG) has it lowered by the instance's weight, so it does not launch a replacement.
     */
    async removePoolInstance(input: RemovePoolInstanceInput): Promise<MutationOutcome> {
      const pool = poolConfig(input.cluster, input.pool);
      return { dryRunCalls: await driverFor(pool).remove(contextOf(input.cluster), pool, input) };
    },
  };
}

export type CapacityActivities = ReturnType<typeof createCapacityActivities>;
