import {
  DescribeAutoScalingGroupsCommand,
  DescribeScalingActivitiesCommand,
  SetDesiredCapacityCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { ApplicationFailure } from '@temporalio/common';
import type { DryRunCall } from '../../../contracts/controls';
import { FailureType } from '../../../common/failures';
import { mutatingAwsCall } from '../../aws/dry-run';
import { awsCall } from '../../aws/errors';
import { dryRunCalls, raisedTarget, weightIn, type PoolContext, type PoolDriver, type PoolOf } from './driver';

/**
 * `asg`: an Auto Scaling group (on-demand by default) whose DesiredCapacity fleetops moves. The group
 * launches on its own once raised, and reports failure as a failed scaling activity.
 */
export const asgDriver: PoolDriver<'asg'> = {
  market: (pool) => pool.market,
  async describe(ctx, pool) {
    const res = await awsCall('autoscaling:DescribeAutoScalingGroups', () =>
      ctx.aws.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [pool.autoScalingGroupName] })),
    );
    const g = res.AutoScalingGroups?.[0];
    if (!g) throw ApplicationFailure.nonRetryable(`Auto Scaling group ${pool.autoScalingGroupName} not found`, FailureType.AwsNotFound);
    const leaving = /Terminat|Detach|Standby/;
    return {
      targetUnits: g.DesiredCapacity ?? 0,
      minUnits: g.MinSize ?? 0,
      ...(g.MaxSize !== undefined ? { maxUnits: g.MaxSize } : {}),
      // Health check replacement of a terminated instance always; a rebalance replacement with CapacityRebalance.
      replaces: { interrupted: true, onRebalance: g.CapacityRebalance === true },
      instances: (g.Instances ?? [])
        .filter((i) => !leaving.test(i.LifecycleState ?? ''))
        .map((i) => ({
          instanceId: i.InstanceId ?? '',
          instanceType: i.InstanceType,
          availabilityZone: i.AvailabilityZone,
          state: i.LifecycleState === 'InService' ? 'running' : 'pending',
        })),
    };
  },

  async capacityError(ctx, pool, _state, since) {
    const res = await awsCall('autoscaling:DescribeScalingActivities', () =>
      ctx.aws.autoscaling.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: pool.autoScalingGroupName, MaxRecords: 20 })),
    );
    const failed = (res.Activities ?? []).find((a) => a.StatusCode === 'Failed' && a.StartTime && a.StartTime >= since);
    if (!failed) return undefined;
    const text = `${failed.StatusMessage ?? ''} ${failed.Description ?? ''}`;
    const code = /InsufficientInstanceCapacity|MaxSpotInstanceCountExceeded|SpotMaxPriceTooLow|InstanceLimitExceeded|VcpuLimitExceeded/.exec(text)?.[0];
    return { code: code ?? 'ScalingActivityFailed', message: text.trim().slice(0, 500) };
  },

  async request(ctx, pool, input) {
    return raisedTarget(input.newTargetUnits, await setDesiredCapacity(ctx, pool, input.newTargetUnits, input.dryRun));
  },

  /**
   * Never lowers DesiredCapacity below what the group holds: Auto Scaling would choose the victims by
   * its termination policy, serving instances included. Unwanted instances are named
   * (TerminateInstanceInAutoScalingGroup, decrementing), then the target goes down only to the
   * units still in the group, which terminates nothing.
   */
  async withdraw(ctx, pool, targetUnits, dryRun, unwanted = []) {
    const calls: DryRunCall[] = [];
    let g = await asgDriver.describe(ctx, pool);
    for (const id of unwanted) {
      if ((g.targetUnits ?? 0) <= targetUnits) break;
      if (!g.instances.some((i) => i.instanceId === id)) continue;
      try {
        calls.push(...(await terminateInGroup(ctx, id, dryRun)));
      } catch (err) {
        // At the group's minimum: the instance stays; the target cannot go lower anyway.
        if (err instanceof ApplicationFailure && err.type === FailureType.AwsValidation) break;
        throw err;
      }
      g = dryRun ? { ...g, targetUnits: (g.targetUnits ?? 0) - weightIn(ctx, pool, g.instances.find((i) => i.instanceId === id)?.instanceType), instances: g.instances.filter((i) => i.instanceId !== id) } : await asgDriver.describe(ctx, pool);
    }
    const held = g.instances.reduce((s, i) => s + weightIn(ctx, pool, i.instanceType, i.availabilityZone), 0);
    const lowest = Math.max(targetUnits, held, g.minUnits ?? 0);
    if (lowest < (g.targetUnits ?? 0)) calls.push(...(await setDesiredCapacity(ctx, pool, lowest, dryRun)));
    return calls;
  },

  /**
   * One call terminates the instance and lowers DesiredCapacity with it, so the group does not
   * replace it. At the group's minimum Auto Scaling refuses (ValidationError "…would violate group's
   * min size…"): the minimum is lowered first only when the pool allows it, else PoolAtMinimum.
   */
  async remove(ctx, pool, input) {
    // The group already launched this instance's replacement (Capacity Rebalancing) and runs one over
    // its desired count: terminating without decrementing puts it back at that count, at MinSize too.
    if (input.keepTarget) return terminateInGroup(ctx, input.instanceId, input.dryRun, false).catch((err: unknown) => (goneFromGroup(err) ? [] : Promise.reject(err)));
    try {
      return await terminateInGroup(ctx, input.instanceId, input.dryRun);
    } catch (err) {
      if (!(err instanceof ApplicationFailure)) throw err;
      // Already gone from the group (a retry after success): the goal is reached.
      if (goneFromGroup(err)) return [];
      if (err.type !== FailureType.AwsValidation || !/min size/i.test(err.message)) throw err;
      if (!pool.lowerMinSizeOnScaleIn) {
        throw ApplicationFailure.create({
          type: FailureType.PoolAtMinimum,
          nonRetryable: true,
          message: `Auto Scaling group ${pool.autoScalingGroupName} is at its min size: ${input.instanceId} stays (lowerMinSizeOnScaleIn is off)`,
        });
      }
      const g = await asgDriver.describe(ctx, pool);
      const params = { AutoScalingGroupName: pool.autoScalingGroupName, MinSize: Math.max(0, Math.min(g.minUnits ?? 0, (g.targetUnits ?? 0) - 1)) };
      const lowered = await mutatingAwsCall(input.dryRun, 'autoscaling:UpdateAutoScalingGroup', params, () =>
        ctx.aws.autoscaling.send(new UpdateAutoScalingGroupCommand(params)),
      );
      return [...dryRunCalls(lowered), ...(await terminateInGroup(ctx, input.instanceId, input.dryRun))];
    }
  },
};

function goneFromGroup(err: unknown): boolean {
  return err instanceof ApplicationFailure && (err.type === FailureType.AwsNotFound || (err.type === FailureType.AwsValidation && /Instance Id not found|No managed instance/i.test(err.message)));
}

async function terminateInGroup(ctx: PoolContext, instanceId: string, dryRun: boolean | undefined, decrement = true): Promise<DryRunCall[]> {
  const params = { InstanceId: instanceId, ShouldDecrementDesiredCapacity: decrement };
  return dryRunCalls(
    await mutatingAwsCall(dryRun, 'autoscaling:TerminateInstanceInAutoScalingGroup', params, () =>
      ctx.aws.autoscaling.send(new TerminateInstanceInAutoScalingGroupCommand(params)),
    ),
  );
}

async function setDesiredCapacity(ctx: PoolContext, pool: PoolOf<'asg'>, target: number, dryRun: boolean | undefined): Promise<DryRunCall[]> {
  const params = { AutoScalingGroupName: pool.autoScalingGroupName, DesiredCapacity: target, HonorCooldown: false };
  return dryRunCalls(await mutatingAwsCall(dryRun, 'autoscaling:SetDesiredCapacity', params, () => ctx.aws.autoscaling.send(new SetDesiredCapacityCommand(params))));
}
