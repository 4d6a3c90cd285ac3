import {
  DescribeSpotFleetInstancesCommand,
  DescribeSpotFleetRequestHistoryCommand,
  DescribeSpotFleetRequestsCommand,
  ModifySpotFleetRequestCommand,
  type HistoryRecord,
} from '@aws-sdk/client-ec2';
import type { DryRunCall } from '../../../contracts/controls';
import { mutatingAwsCall } from '../../aws/dry-run';
import { awsCall } from '../../aws/errors';
import type { OverrideRef } from '../types';
import {
  LIVE_STATES,
  describeInstances,
  dryRunCalls,
  fromEc2,
  raisedTarget,
  terminateInstance,
  weightIn,
  type PoolContext,
  type PoolDriver,
  type PoolOf,
} from './driver';

/**
 * `spot-fleet`: an existing legacy Spot Fleet request (type `maintain`) whose target capacity
 * fleetops moves. The fleet launches on its own once raised, and reports failure in its ActivityStatus.
 */
export const spotFleetDriver: PoolDriver<'spot-fleet'> = {
  market: () => 'spot',
  async describe(ctx, pool) {
    const req = await awsCall('ec2:DescribeSpotFleetRequests', () =>
      ctx.aws.ec2.send(new DescribeSpotFleetRequestsCommand({ SpotFleetRequestIds: [pool.spotFleetRequestId] })),
    );
    const cfg = req.SpotFleetRequestConfigs?.[0];
    const ids: string[] = [];
    let NextToken: string | undefined;
    do {
      const res = await awsCall('ec2:DescribeSpotFleetInstances', () =>
        ctx.aws.ec2.send(new DescribeSpotFleetInstancesCommand({ SpotFleetRequestId: pool.spotFleetRequestId, NextToken })),
      );
      ids.push(...(res.ActiveInstances ?? []).map((a) => a.InstanceId ?? '').filter(Boolean));
      NextToken = res.NextToken;
    } while (NextToken);
    const list = await describeInstances(ctx, [{ Name: 'instance-state-name', Values: LIVE_STATES }], ids);
    // "Spot Fleet request types": only a `maintain` fleet (the default type) replaces what it loses;
    // Capacity Rebalancing (launch, launch-before-terminate) exists only for `maintain` fleets.
    const c = cfg?.SpotFleetRequestConfig;
    const maintain = (c?.Type ?? 'maintain') === 'maintain';
    const strategy = c?.SpotMaintenanceStrategies?.CapacityRebalance?.ReplacementStrategy;
    return {
      targetUnits: c?.TargetCapacity ?? 0,
      activityStatus: cfg?.ActivityStatus,
      instances: fromEc2(list),
      replaces: { interrupted: maintain, onRebalance: maintain && (strategy === 'launch' || strategy === 'launch-before-terminate') },
    };
  },

  /**
   * A capacity shortage leaves the fleet `pending_fulfillment`; only its history says so
   * (DescribeSpotFleetRequestHistory: an `error` record such as allLaunchSpecsTemporarilyBlacklisted,
   * and `information` records naming each launch specification that failed). Reading it finds a
   * blocked fleet within a poll or two instead of at the fulfilment timeout.
   */
  async capacityError(ctx, pool, state, since) {
    if (state.activityStatus === 'error') {
      return { code: 'SpotFleetUnfulfilled', message: `Spot Fleet ${pool.spotFleetRequestId} reports ActivityStatus error` };
    }
    const records: HistoryRecord[] = [];
    let NextToken: string | undefined;
    do {
      const res = await awsCall('ec2:DescribeSpotFleetRequestHistory', () =>
        ctx.aws.ec2.send(new DescribeSpotFleetRequestHistoryCommand({ SpotFleetRequestId: pool.spotFleetRequestId, StartTime: since, NextToken })),
      );
      records.push(...(res.HistoryRecords ?? []));
      NextToken = res.NextToken;
    } while (NextToken);
    const error = records.find((r) => r.EventType === 'error');
    if (!error) return undefined;
    const offerings = records
      .filter((r) => r.EventType === 'information' && BLOCKED_SPEC.test(r.EventInformation?.EventSubType ?? ''))
      .map((r) => offeringIn(r.EventInformation?.EventDescription ?? ''))
      .filter((o): o is OverrideRef => o !== undefined);
    return {
      code: error.EventInformation?.EventSubType ?? 'SpotFleetError',
      message: `Spot Fleet ${pool.spotFleetRequestId}: ${error.EventInformation?.EventDescription ?? 'error in its history'}`.slice(0, 500),
      ...(offerings.length ? { offerings } : {}),
    };
  },

  async request(ctx, pool, input) {
    return raisedTarget(input.newTargetUnits, await setTargetCapacity(ctx, pool, input.newTargetUnits, input.dryRun, 'raise'));
  },

  withdraw: (ctx, pool, targetUnits, dryRun) => setTargetCapacity(ctx, pool, targetUnits, dryRun, 'lower'),

  /**
   * A `maintain` fleet replaces what it loses: its target goes down by the instance's weight first,
   * unless the fleet already launched the replacement (Capacity Rebalancing, `keepTarget`).
   */
  async remove(ctx, pool, input) {
    const calls: DryRunCall[] = [];
    const state = await spotFleetDriver.describe(ctx, pool);
    if (!input.keepTarget && state.instances.some((i) => i.instanceId === input.instanceId)) {
      const activeUnits = state.instances.reduce((s, i) => s + weightIn(ctx, pool, i.instanceType, i.availabilityZone), 0);
      // min(): a retry after the target already went down does not lower it twice.
      const target = Math.max(0, Math.min(state.targetUnits ?? 0, activeUnits - input.weight));
      calls.push(...(await setTargetCapacity(ctx, pool, target, input.dryRun, 'lower')));
    }
    calls.push(...(await terminateInstance(ctx, input.instanceId, input.dryRun)));
    return calls;
  },
};

/** Information records that name a launch specification that could not launch. */
const BLOCKED_SPEC = /launchSpecTemporarilyBlacklisted|launchSpecUnusable/;

/** The instance type and zone a history record's description names ("m5.large, ami-…, Linux/UNIX, us-east-1a: …"). */
function offeringIn(description: string): OverrideRef | undefined {
  const type = /\b([a-z][a-z0-9-]*\.[0-9]*[a-z0-9]+)\b/.exec(description)?.[1];
  if (!type) return undefined;
  const zone = /\b([a-z]{2}(?:-gov)?-[a-z]+-\d[a-z])\b/.exec(description)?.[1];
  return { instanceType: type, ...(zone ? { availabilityZone: zone } : {}) };
}

async function setTargetCapacity(
  ctx: PoolContext,
  pool: PoolOf<'spot-fleet'>,
  target: number,
  dryRun: boolean | undefined,
  direction: 'raise' | 'lower',
): Promise<DryRunCall[]> {
  const params = {
    SpotFleetRequestId: pool.spotFleetRequestId,
    TargetCapacity: target,
    // Lowering never terminates: fleetops chooses and drains victims itself.
    ...(direction === 'lower' ? { ExcessCapacityTerminationPolicy: 'noTermination' as const } : {}),
  };
  return dryRunCalls(await mutatingAwsCall(dryRun, 'ec2:ModifySpotFleetRequest', params, () => ctx.aws.ec2.send(new ModifySpotFleetRequestCommand(params))));
}
