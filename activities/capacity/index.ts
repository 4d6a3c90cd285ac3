import { Context } from '@temporalio/activity';
import {
  DescribeAutoScalingGroupsCommand,
  DescribeScalingActivitiesCommand,
  SetDesiredCapacityCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  type AutoScalingGroup,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateFleetCommand,
  DescribeInstancesCommand,
  DescribeSpotFleetInstancesCommand,
  DescribeSpotFleetRequestsCommand,
  DescribeSpotPriceHistoryCommand,
  ModifySpotFleetRequestCommand,
  TerminateInstancesCommand,
  type CreateFleetCommandInput,
  type Instance,
  type _InstanceType,
} from '@aws-sdk/client-ec2';
import { DescribeContainerInstancesCommand, DescribeTasksCommand, ListContainerInstancesCommand, ListTasksCommand } from '@aws-sdk/client-ecs';
import { ApplicationFailure } from '@temporalio/common';
import type { DryRunCall } from '../../common/controls';
import { FailureType } from '../../common/failures';
import type { ClusterConfig, PoolConfig } from '../../config/schema';
import { awsCall, classifyAwsError } from '../aws/errors';
import { mutatingAwsCall } from '../aws/dry-run';
import type { ActivityDeps } from '../deps';
import {
  POOL_TAG_CLUSTER,
  POOL_TAG_POOL,
  type AwaitContainerInstancesInput,
  type AwaitContainerInstancesResult,
  type AwaitPoolFulfilmentInput,
  type AwaitPoolFulfilmentResult,
  type CapacitySettings,
  type CapacitySnapshot,
  type LaunchedInstance,
  type Market,
  type MutationOutcome,
  type OverrideCapacityError,
  type PoolInstance,
  type PoolSettings,
  type PoolSnapshot,
  type RemovePoolInstanceInput,
  type RequestPoolCapacityInput,
  type RequestPoolCapacityResult,
  type SetPoolTargetInput,
} from './types';

/**
 * Capacity activities: one AWS concern each, called by workflows/capacity.ts. Pools are looked up by
 * name in the config the worker runs with, so the workflow history carries names, not ARNs.
 * Waits poll and heartbeat; a retried wait resumes from its heartbeat instead of starting over.
 */

const LIVE_STATES = ['pending', 'running'];
const CLOCK_SKEW_MS = 5_000;

function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, FailureType.InvalidRequest);
}

function poolMarket(pool: PoolConfig): Market {
  return pool.kind === 'spot-fleet' ? 'spot' : pool.market;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Waits `ms`, or throws when Temporal cancels the activity (heartbeat timeout, workflow gone). */
async function pause(ms: number): Promise<void> {
  await Context.current().sleep(ms);
}

export function createCapacityActivities(deps: ActivityDeps) {
  const { aws } = deps;

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

  function weightOf(cluster: string, pool: PoolConfig, instanceType: string | undefined, availabilityZone?: string): number {
    if (pool.kind === 'ec2-fleet') {
      const o =
        pool.overrides.find((x) => x.instanceType === instanceType && (!availabilityZone || !x.availabilityZone || x.availabilityZone === availabilityZone)) ??
        pool.overrides.find((x) => x.instanceType === instanceType);
      if (o) return o.weight;
    }
    return (instanceType && clusterConfig(cluster).instanceWeights[instanceType]) || 1;
  }

  function settingsOf(cluster: string): { settings: CapacitySettings; pools: PoolSettings[] } {
    const c = clusterConfig(cluster);
    return {
      settings: { ...c.capacity },
      pools: c.pools.map((p) => ({
        name: p.name,
        kind: p.kind,
        market: poolMarket(p),
        fulfilmentTimeoutSeconds: p.fulfilmentTimeoutSeconds,
        ...(p.maxCapacity !== undefined ? { maxUnits: p.maxCapacity } : {}),
        overrides:
          p.kind === 'ec2-fleet'
            ? p.overrides.map((o) => ({
                instanceType: o.instanceType,
                ...(o.availabilityZone ? { availabilityZone: o.availabilityZone } : {}),
                ...(o.subnetId ? { subnetId: o.subnetId } : {}),
                weight: o.weight,
              }))
            : [],
      })),
    };
  }

  async function describeInstances(filters: { Name: string; Values: string[] }[], instanceIds?: string[]): Promise<Instance[]> {
    if (instanceIds && instanceIds.length === 0) return [];
    const out: Instance[] = [];
    let NextToken: string | undefined;
    do {
      const res = await awsCall('ec2:DescribeInstances', () =>
        aws.ec2.send(new DescribeInstancesCommand({ Filters: filters, ...(instanceIds ? { InstanceIds: instanceIds } : {}), NextToken })),
      );
      for (const r of res.Reservations ?? []) out.push(...(r.Instances ?? []));
      NextToken = res.NextToken;
    } while (NextToken);
    return out;
  }

  interface RawPoolState {
    targetUnits?: number;
    activityStatus?: string;
    instances: { instanceId: string; instanceType?: string; availabilityZone?: string; state: string }[];
    asg?: AutoScalingGroup;
  }

  /** A pool's live instances (pending or running) and its target as AWS holds it. */
  async function poolState(cluster: string, pool: PoolConfig): Promise<RawPoolState> {
    const live = [{ Name: 'instance-state-name', Values: LIVE_STATES }];
    const fromEc2 = (list: Instance[]) =>
      list.map((i) => ({
        instanceId: i.InstanceId ?? '',
        instanceType: i.InstanceType,
        availabilityZone: i.Placement?.AvailabilityZone,
        state: i.State?.Name ?? 'unknown',
      }));
    switch (pool.kind) {
      case 'ec2-fleet': {
        const list = await describeInstances([
          ...live,
          { Name: `tag:${POOL_TAG_CLUSTER}`, Values: [cluster] },
          { Name: `tag:${POOL_TAG_POOL}`, Values: [pool.name] },
        ]);
        return { instances: fromEc2(list) };
      }
      case 'spot-fleet': {
        const req = await awsCall('ec2:DescribeSpotFleetRequests', () =>
          aws.ec2.send(new DescribeSpotFleetRequestsCommand({ SpotFleetRequestIds: [pool.spotFleetRequestId] })),
        );
        const cfg = req.SpotFleetRequestConfigs?.[0];
        const ids: string[] = [];
        let NextToken: string | undefined;
        do {
          const res = await awsCall('ec2:DescribeSpotFleetInstances', () =>
            aws.ec2.send(new DescribeSpotFleetInstancesCommand({ SpotFleetRequestId: pool.spotFleetRequestId, NextToken })),
          );
          ids.push(...(res.ActiveInstances ?? []).map((a) => a.InstanceId ?? '').filter(Boolean));
          NextToken = res.NextToken;
        } while (NextToken);
        const list = await describeInstances(live, ids);
        return {
          targetUnits: cfg?.SpotFleetRequestConfig?.TargetCapacity ?? 0,
          activityStatus: cfg?.ActivityStatus,
          instances: fromEc2(list),
        };
      }
      case 'asg': {
        const res = await awsCall('autoscaling:DescribeAutoScalingGroups', () =>
          aws.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [pool.autoScalingGroupName] })),
        );
        const g = res.AutoScalingGroups?.[0];
        if (!g) throw ApplicationFailure.nonRetryable(`Auto Scaling group ${pool.autoScalingGroupName} not found`, FailureType.AwsNotFound);
        const leaving = /Terminat|Detach|Standby/;
        return {
          targetUnits: g.DesiredCapacity ?? 0,
          asg: g,
          instances: (g.Instances ?? [])
            .filter((i) => !leaving.test(i.LifecycleState ?? ''))
            .map((i) => ({
              instanceId: i.InstanceId ?? '',
              instanceType: i.InstanceType,
              availabilityZone: i.AvailabilityZone,
              state: i.LifecycleState === 'InService' ? 'running' : 'pending',
            })),
        };
      }
    }
  }

  /** ec2 instance id → ECS container instance status, and standalone task counts per instance. */
  async function clusterView(cluster: string): Promise<Map<string, { status: string; standaloneTasks: number }>> {
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

  /** Latest spot price per type/zone; absent where the API has none (prices only order scale-in victims). */
  async function spotPrices(types: string[]): Promise<Map<string, number>> {
    const prices = new Map<string, number>();
    if (types.length === 0) return prices;
    try {
      const res = await awsCall('ec2:DescribeSpotPriceHistory', () =>
        aws.ec2.send(
          new DescribeSpotPriceHistoryCommand({
            InstanceTypes: types as _InstanceType[],
            ProductDescriptions: ['Linux/UNIX'],
            StartTime: new Date(),
          }),
        ),
      );
      for (const p of res.SpotPriceHistory ?? []) {
        const price = Number(p.SpotPrice);
        const key = `${p.InstanceType}/${p.AvailabilityZone}`;
        if (Number.isFinite(price) && !prices.has(key)) prices.set(key, price);
      }
    } catch {
      // Prices are a tie-breaker only; scale-in falls back to pool order without them.
    }
    return prices;
  }

  function deliveredSince(cluster: string, pool: PoolConfig, state: RawPoolState, known: Set<string>): LaunchedInstance[] {
    return state.instances
      .filter((i) => !known.has(i.instanceId))
      .map((i) => ({
        instanceId: i.instanceId,
        instanceType: i.instanceType ?? 'unknown',
        ...(i.availabilityZone ? { availabilityZone: i.availabilityZone } : {}),
        weight: weightOf(cluster, pool, i.instanceType, i.availabilityZone),
      }));
  }

  /** A pool's own report that it cannot deliver: Spot Fleet ActivityStatus `error`, or a failed ASG scaling activity. */
  async function poolCapacityError(pool: PoolConfig, state: RawPoolState, since: Date): Promise<{ code: string; message: string } | undefined> {
    if (pool.kind === 'spot-fleet' && state.activityStatus === 'error') {
      return { code: 'SpotFleetUnfulfilled', message: `Spot Fleet ${pool.spotFleetRequestId} reports ActivityStatus error` };
    }
    if (pool.kind === 'asg') {
      const res = await awsCall('autoscaling:DescribeScalingActivities', () =>
        aws.autoscaling.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: pool.autoScalingGroupName, MaxRecords: 20 })),
      );
      const failed = (res.Activities ?? []).find((a) => a.StatusCode === 'Failed' && a.StartTime && a.StartTime >= since);
      if (failed) {
        const text = `${failed.StatusMessage ?? ''} ${failed.Description ?? ''}`;
        const code = /InsufficientInstanceCapacity|MaxSpotInstanceCountExceeded|SpotMaxPriceTooLow|InstanceLimitExceeded|VcpuLimitExceeded/.exec(text)?.[0];
        return { code: code ?? 'ScalingActivityFailed', message: text.trim().slice(0, 500) };
      }
    }
    return undefined;
  }

  return {
    /** Settings, pools in ladder order, and each pool's target, live instances and ACTIVE units. */
    async describeCapacity(input: { cluster: string }): Promise<CapacitySnapshot> {
      const { settings, pools } = settingsOf(input.cluster);
      const c = clusterConfig(input.cluster);
      const [view, raws] = await Promise.all([clusterView(input.cluster), Promise.all(c.pools.map((p) => poolState(input.cluster, p)))]);
      const spotTypes = [
        ...new Set(raws.flatMap((r, i) => (poolMarket(c.pools[i]!) === 'spot' ? r.instances.map((x) => x.instanceType ?? '') : [])).filter(Boolean)),
      ];
      const prices = await spotPrices(spotTypes);
      const state: PoolSnapshot[] = c.pools.map((p, idx) => {
        const raw = raws[idx]!;
        const market = poolMarket(p);
        const instances: PoolInstance[] = raw.instances.map((i) => {
          const ci = view.get(i.instanceId);
          const price = market === 'spot' ? prices.get(`${i.instanceType}/${i.availabilityZone}`) : undefined;
          return {
            instanceId: i.instanceId,
            pool: p.name,
            instanceType: i.instanceType ?? 'unknown',
            ...(i.availabilityZone ? { availabilityZone: i.availabilityZone } : {}),
            market,
            weight: weightOf(input.cluster, p, i.instanceType, i.availabilityZone),
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
          activeUnits: instances.filter((i) => i.containerStatus === 'ACTIVE').reduce((s, i) => s + i.weight, 0),
          instances,
        };
      });
      return { cluster: input.cluster, settings, pools, state };
    },

    /**
     * Asks one pool for units. ec2-fleet: CreateFleet `instant` with price-capacity-optimized over the
     * overrides not marked unavailable, answering with what launched and per-override errors.
     * spot-fleet / asg: raises the target to `newTargetUnits` (absolute, so a retry does not add twice).
     */
    async requestPoolCapacity(input: RequestPoolCapacityInput): Promise<RequestPoolCapacityResult> {
      const pool = poolConfig(input.cluster, input.pool);
      if (pool.kind === 'ec2-fleet') {
        const excluded = (o: { instanceType: string; availabilityZone?: string }) =>
          input.excludeOverrides.some((x) => x.instanceType === o.instanceType && (x.availabilityZone === undefined || x.availabilityZone === o.availabilityZone));
        const overrides = pool.overrides.filter((o) => !excluded(o));
        if (overrides.length === 0) throw invalid(`pool ${pool.name}: every override is marked unavailable`);
        const params: CreateFleetCommandInput = {
          Type: 'instant',
          ClientToken: input.clientToken,
          TargetCapacitySpecification: { TotalTargetCapacity: input.units, DefaultTargetCapacityType: pool.market },
          ...(pool.market === 'spot'
            ? { SpotOptions: { AllocationStrategy: 'price-capacity-optimized' } }
            : { OnDemandOptions: { AllocationStrategy: 'lowest-price' } }),
          LaunchTemplateConfigs: [
            {
              LaunchTemplateSpecification: {
                ...(pool.launchTemplate.id ? { LaunchTemplateId: pool.launchTemplate.id } : { LaunchTemplateName: pool.launchTemplate.name }),
                Version: pool.launchTemplate.version,
              },
              Overrides: overrides.map((o) => ({
                InstanceType: o.instanceType as _InstanceType,
                ...(o.subnetId ? { SubnetId: o.subnetId } : {}),
                ...(o.availabilityZone ? { AvailabilityZone: o.availabilityZone } : {}),
                WeightedCapacity: o.weight,
              })),
            },
          ],
          TagSpecifications: [
            {
              ResourceType: 'instance',
              Tags: [
                { Key: POOL_TAG_CLUSTER, Value: input.cluster },
                { Key: POOL_TAG_POOL, Value: pool.name },
              ],
            },
          ],
        };
        const m = await mutatingAwsCall(input.dryRun, 'ec2:CreateFleet', { ...params }, () =>
          aws.ec2.send(new CreateFleetCommand(params)),
        );
        if (m.dryRun) return { kind: 'instant', launched: [], launchedUnits: 0, errors: [], dryRunCall: m.call };
        const launched: LaunchedInstance[] = [];
        for (const group of m.result.Instances ?? []) {
          const o = group.LaunchTemplateAndOverrides?.Overrides;
          const type = group.InstanceType ?? o?.InstanceType;
          for (const id of group.InstanceIds ?? []) {
            launched.push({
              instanceId: id,
              instanceType: type ?? 'unknown',
              ...(o?.AvailabilityZone ? { availabilityZone: o.AvailabilityZone } : {}),
              weight: o?.WeightedCapacity ?? weightOf(input.cluster, pool, type, o?.AvailabilityZone),
            });
          }
        }
        const errors: OverrideCapacityError[] = (m.result.Errors ?? []).map((e) => {
          const o = e.LaunchTemplateAndOverrides?.Overrides;
          const cfg = pool.overrides.find((x) => x.instanceType === o?.InstanceType && (!o?.SubnetId || x.subnetId === o.SubnetId));
          const zone = o?.AvailabilityZone ?? cfg?.availabilityZone;
          return {
            instanceType: o?.InstanceType ?? 'unknown',
            ...(zone ? { availabilityZone: zone } : {}),
            code: e.ErrorCode ?? 'Unknown',
            message: e.ErrorMessage ?? '',
          };
        });
        // Nothing launched and no error is about capacity: the request itself is wrong; say so instead of skipping the pool quietly.
        if (launched.length === 0 && errors.length > 0 && errors.every((e) => classifyAwsError({ name: e.code }).type !== FailureType.AwsCapacityUnavailable)) {
          const first = errors[0]!;
          const c = classifyAwsError({ name: first.code });
          throw ApplicationFailure.create({ type: c.type, nonRetryable: true, message: `ec2:CreateFleet: ${first.code}: ${first.message}` });
        }
        return { kind: 'instant', launched, launchedUnits: launched.reduce((s, i) => s + i.weight, 0), errors };
      }
      const mutation = await setTarget(pool, input.newTargetUnits, input.dryRun, 'raise');
      return { kind: 'target', newTargetUnits: input.newTargetUnits, ...(mutation ? { dryRunCall: mutation } : {}) };
    },

    /** Polls a spot-fleet or asg pool until it delivers `units` new units, reports a capacity error, or times out. */
    async awaitPoolFulfilment(input: AwaitPoolFulfilmentInput): Promise<AwaitPoolFulfilmentResult> {
      const pool = poolConfig(input.cluster, input.pool);
      const ctx = Context.current();
      // A retried attempt keeps the first attempt's start, so the pool's timeout is not extended by retries.
      const resumed = ctx.info.heartbeatDetails as { startedAt?: number } | undefined;
      const startedAt = resumed?.startedAt ?? Date.now();
      const deadline = startedAt + input.timeoutSeconds * 1000;
      const known = new Set(input.knownInstanceIds);
      const pollMs = (input.pollSeconds ?? 2) * 1000;
      for (;;) {
        const state = await poolState(input.cluster, pool);
        const fresh = deliveredSince(input.cluster, pool, state, known);
        const units = fresh.reduce((s, i) => s + i.weight, 0);
        ctx.heartbeat({ startedAt, deliveredUnits: units });
        if (units >= input.units) return { deliveredUnits: units, instances: fresh, timedOut: false };
        // AWS clocks and ours differ by a little; a failure logged just before the request time still counts.
        const since = input.requestedAt ? Date.parse(input.requestedAt) - CLOCK_SKEW_MS : startedAt;
        const capacityError = await poolCapacityError(pool, state, new Date(since));
        if (capacityError) return { deliveredUnits: units, instances: fresh, capacityError, timedOut: false };
        if (Date.now() >= deadline) return { deliveredUnits: units, instances: fresh, timedOut: true };
        await pause(Math.min(pollMs, Math.max(0, deadline - Date.now())));
      }
    },

    /** Sets a spot-fleet or asg pool's target without terminating anything (withdraws an undelivered request). */
    async setPoolTarget(input: SetPoolTargetInput): Promise<MutationOutcome> {
      const pool = poolConfig(input.cluster, input.pool);
      if (pool.kind === 'ec2-fleet') return { dryRunCalls: [] };
      const call = await setTarget(pool, input.targetUnits, input.dryRun, 'lower');
      return { dryRunCalls: call ? [call] : [] };
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
     * Takes one drained instance out of its pool for good: the pool's target goes down by its weight
     * first, so a `maintain` Spot Fleet or an ASG does not launch a replacement.
     */
    async removePoolInstance(input: RemovePoolInstanceInput): Promise<MutationOutcome> {
      const pool = poolConfig(input.cluster, input.pool);
      const calls: DryRunCall[] = [];
      const record = <T>(m: { dryRun: true; call: DryRunCall } | { dryRun: false; result: T }) => {
        if (m.dryRun) calls.push(m.call);
      };
      switch (pool.kind) {
        case 'ec2-fleet':
          break;
        case 'spot-fleet': {
          const state = await poolState(input.cluster, pool);
          const active = state.instances.some((i) => i.instanceId === input.instanceId);
          if (active) {
            const activeUnits = state.instances.reduce((s, i) => s + weightOf(input.cluster, pool, i.instanceType, i.availabilityZone), 0);
            // min(): a retry after the target already went down does not lower it twice.
            const target = Math.max(0, Math.min(state.targetUnits ?? 0, activeUnits - input.weight));
            const call = await setTarget(pool, target, input.dryRun, 'lower');
            if (call) calls.push(call);
          }
          break;
        }
        case 'asg': {
          const params = { InstanceId: input.instanceId, ShouldDecrementDesiredCapacity: true };
          try {
            record(
              await mutatingAwsCall(input.dryRun, 'autoscaling:TerminateInstanceInAutoScalingGroup', params, () =>
                aws.autoscaling.send(new TerminateInstanceInAutoScalingGroupCommand(params)),
              ),
            );
          } catch (err) {
            // Already gone from the group (a retry after success): the goal is reached.
            if (!(err instanceof ApplicationFailure && (err.type === FailureType.AwsNotFound || err.type === FailureType.AwsValidation))) throw err;
          }
          return { dryRunCalls: calls };
        }
      }
      const params = { InstanceIds: [input.instanceId] };
      record(await mutatingAwsCall(input.dryRun, 'ec2:TerminateInstances', params, () => aws.ec2.send(new TerminateInstancesCommand(params))));
      return { dryRunCalls: calls };
    },
  };

  async function setTarget(pool: PoolConfig, target: number, dryRun: boolean | undefined, direction: 'raise' | 'lower'): Promise<DryRunCall | undefined> {
    if (pool.kind === 'spot-fleet') {
      const params = {
        SpotFleetRequestId: pool.spotFleetRequestId,
        TargetCapacity: target,
        // Lowering never terminates: fleetops chooses and drains victims itself.
        ...(direction === 'lower' ? { ExcessCapacityTerminationPolicy: 'noTermination' as const } : {}),
      };
      const m = await mutatingAwsCall(dryRun, 'ec2:ModifySpotFleetRequest', params, () => aws.ec2.send(new ModifySpotFleetRequestCommand(params)));
      return m.dryRun ? m.call : undefined;
    }
    if (pool.kind === 'asg') {
      const params = { AutoScalingGroupName: pool.autoScalingGroupName, DesiredCapacity: target, HonorCooldown: false };
      const m = await mutatingAwsCall(dryRun, 'autoscaling:SetDesiredCapacity', params, () => aws.autoscaling.send(new SetDesiredCapacityCommand(params)));
      return m.dryRun ? m.call : undefined;
    }
    return undefined;
  }
}

export type CapacityActivities = ReturnType<typeof createCapacityActivities>;
