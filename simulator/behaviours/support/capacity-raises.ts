import { DescribeAutoScalingGroupsCommand, SetDesiredCapacityCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeSpotFleetInstancesCommand, ModifySpotFleetRequestCommand } from '@aws-sdk/client-ec2';
import type { BehaviourContext, SimRequest } from '../../behaviour';
import { awsSuccessResponse, escapeXml, type SimResponse } from '../../protocol';
import { scheduleRegistrations, type CapacityState, type PendingRaise } from './capacity-model';
import { param, topLevelItems } from './ec2-params';
import { recordBlocked } from './spot-fleet-history';

/**
 * Raises of a Spot Fleet (ModifySpotFleetRequest) or an ASG (SetDesiredCapacity) as the capacity
 * behaviour applies them to moto: clipped to the pool's limit, a Spot Fleet short of capacity keeps
 * its declared target (its history says why: spot-fleet-history.ts) and an ASG short of capacity gets
 * a failed scaling activity, which DescribeScalingActivities
 * (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DescribeScalingActivities.html)
 * reports with StatusCode `Failed` and the cause in StatusMessage. An ASG short of capacity keeps its
 * raised desired count and keeps trying ("Troubleshoot Amazon EC2 Auto Scaling: EC2 instance launch
 * failures", https://docs.aws.amazon.com/autoscaling/ec2/userguide/ts-as-capacity.html: the group
 * retries the launch; each failed try is a failed scaling activity): DescribeAutoScalingGroups
 * answers the raised DesiredCapacity with fewer instances (moto holds only what launched), and the
 * behaviour's tick raises moto again every `asgRetrySeconds` until the limit lets the rest launch.
 */

async function spotFleetInstances(ctx: BehaviourContext, sfr: string): Promise<string[]> {
  const res = await ctx.aws().ec2.send(new DescribeSpotFleetInstancesCommand({ SpotFleetRequestId: sfr }));
  return (res.ActiveInstances ?? []).map((i) => i.InstanceId ?? '').filter(Boolean);
}

async function asgInstances(ctx: BehaviourContext, name: string): Promise<string[]> {
  const res = await ctx.aws().autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }));
  return (res.AutoScalingGroups?.[0]?.Instances ?? []).map((i) => i.InstanceId ?? '').filter(Boolean);
}

/** Applies a raise to moto, clipped to the pool's limit; new instances are scheduled to join the cluster. */
export async function applyRaise(ctx: BehaviourContext, state: CapacityState, p: PendingRaise): Promise<void> {
  const rule = state.limits.pools[p.pool];
  const allowed = rule ? Math.min(p.target, rule.maxUnits) : p.target;
  if (p.kind === 'spot-fleet') {
    const before = new Set(await spotFleetInstances(ctx, p.pool));
    await ctx.aws().ec2.send(
      new ModifySpotFleetRequestCommand({
        SpotFleetRequestId: p.pool,
        TargetCapacity: allowed,
        ...(p.excessPolicy ? { ExcessCapacityTerminationPolicy: p.excessPolicy as 'noTermination' } : {}),
      }),
    );
    if (allowed < p.target) {
      const code = rule?.errorCode ?? 'InsufficientInstanceCapacity';
      state.declared.set(p.pool, { target: p.target, error: code });
      await recordBlocked(ctx, state, p.pool, code);
    } else state.declared.delete(p.pool);
    scheduleRegistrations(state, (await spotFleetInstances(ctx, p.pool)).filter((id) => !before.has(id)), state.config.cluster);
  } else {
    const before = new Set(await asgInstances(ctx, p.pool));
    await ctx.aws().autoscaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: p.pool, DesiredCapacity: allowed }));
    if (allowed < p.target) state.asgShort.set(p.pool, { target: p.target, triedAt: Date.now() });
    else state.asgShort.delete(p.pool);
    if (allowed < p.target) {
      const code = rule?.errorCode ?? 'InsufficientInstanceCapacity';
      state.failedActivities.push({
        asg: p.pool,
        at: new Date().toISOString(),
        code,
        message: `Launching a new EC2 instance. Status Reason: ${code}: We currently do not have sufficient capacity in the Availability Zone you requested. Launching EC2 instance failed.`,
      });
    }
    scheduleRegistrations(state, (await asgInstances(ctx, p.pool)).filter((id) => !before.has(id)), state.config.cluster);
  }
}

/** DescribeScalingActivities from the failed activities recorded here, newest first. */
export function scalingActivitiesResponse(req: SimRequest, state: CapacityState): SimResponse {
  const name = param(req.params, 'AutoScalingGroupName');
  const acts = state.failedActivities.filter((a) => !name || a.asg === name).reverse();
  const xml = acts
    .map(
      (a, i) =>
        `<member><ActivityId>sim-${i}-${escapeXml(a.at)}</ActivityId><AutoScalingGroupName>${escapeXml(a.asg)}</AutoScalingGroupName>` +
        `<Description>Launching a new EC2 instance.  Status Reason: ${escapeXml(a.code)}</Description><Cause>${escapeXml('a user request raised the desired capacity')}</Cause>` +
        `<StartTime>${a.at}</StartTime><EndTime>${a.at}</EndTime><StatusCode>Failed</StatusCode><StatusMessage>${escapeXml(a.message)}</StatusMessage><Progress>100</Progress></member>`,
    )
    .join('');
  return awsSuccessResponse(req, { xml: `<Activities>${xml}</Activities>` });
}

/** DescribeAutoScalingGroups with the desired count AWS keeps for groups short of capacity. */
export function withRaisedDesired(xml: string, state: CapacityState): string {
  if (state.asgShort.size === 0) return xml;
  return topLevelItems(
    xml,
    'AutoScalingGroups',
    (group) => {
      const name = /<AutoScalingGroupName>([^<]+)<\/AutoScalingGroupName>/.exec(group)?.[1];
      const short = name ? state.asgShort.get(name) : undefined;
      return short ? group.replace(/<DesiredCapacity>[^<]*<\/DesiredCapacity>/, `<DesiredCapacity>${short.target}</DesiredCapacity>`) : group;
    },
    'member',
  );
}

/** The groups short of capacity whose next launch attempt is due. */
export function dueRetries(state: CapacityState, nowMs: number): PendingRaise[] {
  const every = (state.config.asgRetrySeconds ?? 10) * 1000;
  return [...state.asgShort]
    .filter(([, s]) => nowMs - s.triedAt >= every)
    .map(([pool, s]) => ({ kind: 'asg' as const, pool, target: s.target, applyAt: nowMs }));
}
