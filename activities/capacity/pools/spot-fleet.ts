import { DescribeSpotFleetInstancesCommand, DescribeSpotFleetRequestsCommand, ModifySpotFleetRequestCommand } from '@aws-sdk/client-ec2';
import type { DryRunCall } from '../../../common/controls';
import { mutatingAwsCall } from '../../aws/dry-run';
import { awsCall } from '../../aws/errors';
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
  /** A `maintain` fleet launches a replacement for an interrupted instance. */
  replacesOwnInstances: () => true,

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
    return {
      targetUnits: cfg?.SpotFleetRequestConfig?.TargetCapacity ?? 0,
      activityStatus: cfg?.ActivityStatus,
      instances: fromEc2(list),
    };
  },

  async capacityError(_ctx, pool, state) {
    if (state.activityStatus !== 'error') return undefined;
    return { code: 'SpotFleetUnfulfilled', message: `Spot Fleet ${pool.spotFleetRequestId} reports ActivityStatus error` };
  },

  async request(ctx, pool, input) {
    return raisedTarget(input.newTargetUnits, await setTargetCapacity(ctx, pool, input.newTargetUnits, input.dryRun, 'raise'));
  },

  withdraw: (ctx, pool, targetUnits, dryRun) => setTargetCapacity(ctx, pool, targetUnits, dryRun, 'lower'),

  /** A `maintain` fleet replaces what it loses: its target goes down by the instance's weight first. */
  async remove(ctx, pool, input) {
    const calls: DryRunCall[] = [];
    const state = await spotFleetDriver.describe(ctx, pool);
    if (state.instances.some((i) => i.instanceId === input.instanceId)) {
      const activeUnits = state.instances.reduce((s, i) => s + weightIn(ctx, pool, i.instanceType, i.availabilityZone), 0);
      // min(): a retry after the target already went down does not lower it twice.
      const target = Math.max(0, Math.min(state.targetUnits ?? 0, activeUnits - input.weight));
      calls.push(...(await setTargetCapacity(ctx, pool, target, input.dryRun, 'lower')));
    }
    calls.push(...(await terminateInstance(ctx, input.instanceId, input.dryRun)));
    return calls;
  },
};

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
