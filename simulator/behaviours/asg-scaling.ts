import { DescribeAutoScalingGroupsCommand, DescribeAutoScalingInstancesCommand } from '@aws-sdk/client-auto-scaling';
import type { Behaviour, BehaviourContext, BehaviourFactory, SimRequest } from '../behaviour';
import { awsErrorResponse, type SimResponse } from '../protocol';
import { raisedDesiredCapacity } from './support/capacity-raises';

/**
 * TerminateInstanceInAutoScalingGroup as Auto Scaling answers it, where moto is laxer
 * (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_TerminateInstanceInAutoScalingGroup.html,
 * and the group's size limits, https://docs.aws.amazon.com/autoscaling/ec2/userguide/asg-capacity-limits.html:
 * the desired capacity never goes below the minimum):
 *  - with ShouldDecrementDesiredCapacity=true on a group whose desired capacity equals its minimum, the
 *    call fails with ValidationError "…will violate group's min size constraint…" and nothing is
 *    terminated (moto terminates and takes the desired capacity below the minimum). The desired capacity
 *    is the one the group keeps: a group raised past what could launch keeps its raised count and
 *    keeps trying (support/capacity-raises.ts), so one instance fewer can be above the minimum even
 *    though moto, holding only what launched, counts fewer;
 *  - an instance in no group fails with ValidationError "Instance Id not found - No managed instance
 *    found for instance ID: …" (moto answers 500 from a Python StopIteration);
 *  - SetDesiredCapacity (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_SetDesiredCapacity.html:
 *    "…equal to or greater than the minimum size of the group and less than or equal to the maximum
 *    size of the group") outside MinSize..MaxSize fails with ValidationError "New SetDesiredCapacity
 *    value N is above max value M for the AutoScalingGroup." (or below min); moto takes any value.
 */
async function outsideLimits(req: SimRequest, ctx: BehaviourContext): Promise<SimResponse | undefined> {
  const name = String(req.params.AutoScalingGroupName ?? '');
  const desired = Number(req.params.DesiredCapacity);
  const group = (await ctx.aws().autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }))).AutoScalingGroups?.[0];
  if (!group || !Number.isFinite(desired)) return undefined;
  const fail = (message: string) => awsErrorResponse(req, { status: 400, code: 'ValidationError', message });
  if (group.MaxSize !== undefined && desired > group.MaxSize) return fail(`New SetDesiredCapacity value ${desired} is above max value ${group.MaxSize} for the AutoScalingGroup.`);
  if (group.MinSize !== undefined && desired < group.MinSize) return fail(`New SetDesiredCapacity value ${desired} is below min value ${group.MinSize} for the AutoScalingGroup.`);
  return undefined;
}

export const asgScaling: BehaviourFactory = () => {
  const behaviour: Behaviour = {
    name: 'asg-scaling',

    async intercept(req, ctx) {
      if (req.service === 'autoscaling' && req.action === 'SetDesiredCapacity') return outsideLimits(req, ctx);
      if (req.service !== 'autoscaling' || req.action !== 'TerminateInstanceInAutoScalingGroup') return undefined;
      const instanceId = String(req.params.InstanceId ?? '');
      const decrement = String(req.params.ShouldDecrementDesiredCapacity ?? '').toLowerCase() === 'true';
      const asg = ctx.aws().autoscaling;
      const managed = (await asg.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }))).AutoScalingInstances?.[0];
      if (!managed?.AutoScalingGroupName) {
        return awsErrorResponse(req, { status: 400, code: 'ValidationError', message: `Instance Id not found - No managed instance found for instance ID: ${instanceId}` });
      }
      if (!decrement) return undefined;
      const group = (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [managed.AutoScalingGroupName] }))).AutoScalingGroups?.[0];
      const desired = raisedDesiredCapacity(ctx, managed.AutoScalingGroupName) ?? group?.DesiredCapacity ?? 0;
      const min = group?.MinSize ?? 0;
      if (desired - 1 < min) {
        return awsErrorResponse(req, {
          status: 400,
          code: 'ValidationError',
          message: `Currently, desiredSize equals minSize (${min}). Terminating instance without replacement will violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.`,
        });
      }
      return undefined;
    },

    reset() {},
  };
  return behaviour;
};
