import { randomUUID } from 'node:crypto';
import { DescribeAutoScalingGroupsCommand, DescribeAutoScalingInstancesCommand, DetachInstancesCommand, SetDesiredCapacityCommand, type LifecycleHook } from '@aws-sdk/client-auto-scaling';
import { z } from 'zod';
import type { Behaviour, BehaviourContext, BehaviourFactory, SimRequest } from '../behaviour';
import { awsErrorResponse, awsSuccessResponse, escapeXml, type SimResponse } from '../protocol';
import { createLifecycleActions, hooksOf, LAUNCHING, TERMINATING, type LifecycleCall } from './support/lifecycle-actions';
import { globalTimeouts, withWaiting } from './support/lifecycle-responses';

/**
 * Auto Scaling lifecycle hooks as Amazon EC2 Auto Scaling runs them; moto stores hooks
 * (PutLifecycleHook, DescribeLifecycleHooks) but never runs one. Follows:
 *  - "Amazon EC2 Auto Scaling lifecycle hooks" (https://docs.aws.amazon.com/autoscaling/ec2/userguide/lifecycle-hooks.html)
 *    and "Configure a notification target for lifecycle notifications / EventBridge"
 *    (https://docs.aws.amazon.com/autoscaling/ec2/userguide/prepare-for-lifecycle-notifications.html,
 *    https://docs.aws.amazon.com/autoscaling/ec2/userguide/automating-ec2-auto-scaling-with-eventbridge.html):
 *    an instance the group terminates (TerminateInstanceInAutoScalingGroup, or a lower desired
 *    capacity) while the group has an `autoscaling:EC2_INSTANCE_TERMINATING` hook enters
 *    `Terminating:Wait`, and `EC2 Instance-terminate Lifecycle Action` (detail LifecycleActionToken,
 *    AutoScalingGroupName, LifecycleHookName, EC2InstanceId, LifecycleTransition, Origin, Destination)
 *    goes to EventBridge. The instance no longer counts toward the group's capacity (with
 *    ShouldDecrementDesiredCapacity false the group launches its replacement at once);
 *  - "Complete a lifecycle action" (https://docs.aws.amazon.com/autoscaling/ec2/userguide/completing-lifecycle-hooks.html),
 *    API_CompleteLifecycleAction and API_RecordLifecycleActionHeartbeat: the action is named by
 *    token or instance id with its group and hook; a heartbeat restarts the hook's HeartbeatTimeout;
 *    completing ends the wait (for a termination, CONTINUE and ABANDON both terminate the instance);
 *    a call for an action that is not (or no longer) waiting answers `ValidationError` "No active
 *    Lifecycle Action found with instance ID …" (or "… with token …");
 *  - the timeouts (https://docs.aws.amazon.com/autoscaling/ec2/userguide/lifecycle-hooks-overview.html):
 *    when HeartbeatTimeout (default 3600 s) passes without a heartbeat, or the global timeout
 *    (100 × HeartbeatTimeout, at most 48 h) passes, the hook's DefaultResult applies; DescribeLifecycleHooks
 *    reports that GlobalTimeout (moto reports 48 h for every hook).
 * Launch hooks (`Pending:Wait`) are opened by `POST /_sim/asg-lifecycle/launch` (the capacity
 * behaviour does not model them); ABANDON of a launch terminates the instance. With `destination:
 * WarmPool` the launch is into the group's warm pool ("Use lifecycle hooks with a warm pool in Auto
 * Scaling group", https://docs.aws.amazon.com/autoscaling/ec2/userguide/warm-pool-instance-lifecycle.html,
 * and "Warm pool example events and patterns": Origin EC2, Destination WarmPool, Warmed:Pending:Wait);
 * CONTINUE then stops the instance into the pool (Warmed:Stopped).
 *
 * Which instance a lower desired capacity takes: the newest (AWS's default termination policy ends in
 * "closest to the next billing hour", then random; the simulator picks deterministically).
 *
 * Routes: `GET /_sim/asg-lifecycle/actions` → `{ calls, active, closed }`; `POST /_sim/asg-lifecycle/launch`
 * `{ autoScalingGroupName, lifecycleHookName, instanceId, destination? }` → the opened action; `POST
 * /_sim/asg-lifecycle/advance` `{ seconds }` moves this module's clock (hook timeouts) forward.
 *
 * The actions themselves (open, announce, close) are support/lifecycle-actions.ts; the rewrites of
 * moto's answers are support/lifecycle-responses.ts.
 */

export type { LifecycleActionState, LifecycleCall } from './support/lifecycle-actions';

const paramsSchema = z.object({
  AutoScalingGroupName: z.string().min(1),
  LifecycleHookName: z.string().min(1),
  LifecycleActionToken: z.string().optional(),
  InstanceId: z.string().optional(),
  LifecycleActionResult: z.string().optional(),
});

const launchSchema = z
  .object({
    autoScalingGroupName: z.string().min(1),
    lifecycleHookName: z.string().min(1),
    instanceId: z.string().min(1),
    region: z.string().default('us-east-1'),
    destination: z.enum(['AutoScalingGroup', 'WarmPool']).optional(),
  })
  .strict();

const regionOf = (req: SimRequest) => (req.region === 'unknown' ? 'us-east-1' : req.region);

export const asgLifecycle: BehaviourFactory = () => {
  const calls: LifecycleCall[] = [];
  /** Tests move the lifecycle clock forward instead of waiting out a hook's timeout (at least 30 s on AWS). */
  let offsetMs = 0;
  const clock = () => Date.now() + offsetMs;
  const lifecycle = createLifecycleActions(clock);
  const { actions, active, open, announce, close, find } = lifecycle;

  /** Takes instances out of the group into Terminating:Wait, one action per terminate hook. */
  async function startTerminating(ctx: BehaviourContext, region: string, asg: string, hooks: LifecycleHook[], instanceIds: string[], decrement: boolean): Promise<void> {
    await ctx.aws(region).autoscaling.send(new DetachInstancesCommand({ AutoScalingGroupName: asg, InstanceIds: instanceIds, ShouldDecrementDesiredCapacity: decrement }));
    for (const id of instanceIds) for (const h of hooks) await announce(ctx, open(h, id, region, TERMINATING));
  }

  async function terminateInGroup(req: SimRequest, ctx: BehaviourContext): Promise<SimResponse | undefined> {
    const region = regionOf(req);
    const instanceId = String(req.params.InstanceId ?? '');
    const decrement = String(req.params.ShouldDecrementDesiredCapacity ?? '') === 'true';
    if (active().some((a) => a.instanceId === instanceId && a.transition === TERMINATING)) {
      return awsErrorResponse(req, { status: 400, code: 'ValidationError', message: `The instance ${instanceId} is already in Terminating:Wait.` });
    }
    const out = await ctx.aws(region).autoscaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }));
    const asg = out.AutoScalingInstances?.[0]?.AutoScalingGroupName;
    if (!asg) return undefined; // moto answers for an instance in no group
    const hooks = await hooksOf(ctx, region, asg, TERMINATING);
    if (hooks.length === 0) return undefined;
    await startTerminating(ctx, region, asg, hooks, [instanceId], decrement);
    const activity =
      `<Activity><ActivityId>${randomUUID()}</ActivityId><AutoScalingGroupName>${escapeXml(asg)}</AutoScalingGroupName>` +
      `<Description>Terminating EC2 instance: ${instanceId}</Description><Cause>At ${new Date().toISOString()} instance ${instanceId} was taken out of service in response to a user request${decrement ? ', shrinking the capacity' : ''}.</Cause>` +
      `<StartTime>${new Date().toISOString()}</StartTime><StatusCode>InProgress</StatusCode><Progress>0</Progress></Activity>`;
    return awsSuccessResponse(req, { xml: activity });
  }

  /** A lower desired capacity on a group with a terminate hook: the instances it takes wait in Terminating:Wait. */
  async function lowerDesired(req: SimRequest, ctx: BehaviourContext): Promise<SimResponse | undefined> {
    const region = regionOf(req);
    const asg = String(req.params.AutoScalingGroupName ?? '');
    const desired = Number(req.params.DesiredCapacity);
    if (!asg || !Number.isFinite(desired)) return undefined;
    const hooks = await hooksOf(ctx, region, asg, TERMINATING);
    if (hooks.length === 0) return undefined;
    const g = (await ctx.aws(region).autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [asg] }))).AutoScalingGroups?.[0];
    const inService = (g?.Instances ?? []).map((i) => i.InstanceId ?? '').filter(Boolean);
    if (!g || desired >= inService.length) return undefined;
    const victims = inService.slice(desired);
    await startTerminating(ctx, region, asg, hooks, victims, true);
    await ctx.aws(region).autoscaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: asg, DesiredCapacity: desired }));
    return awsSuccessResponse(req, {});
  }

  function lifecycleCall(req: SimRequest, ctx: BehaviourContext): Promise<SimResponse> | SimResponse {
    const p = paramsSchema.safeParse(req.params);
    if (!p.success) {
      return awsErrorResponse(req, { status: 400, code: 'ValidationError', message: p.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
    }
    if (!p.data.LifecycleActionToken && !p.data.InstanceId) {
      return awsErrorResponse(req, { status: 400, code: 'ValidationError', message: 'either LifecycleActionToken or InstanceId is required' });
    }
    const completing = req.action === 'CompleteLifecycleAction';
    if (completing && !['CONTINUE', 'ABANDON'].includes(p.data.LifecycleActionResult ?? '')) {
      return awsErrorResponse(req, { status: 400, code: 'ValidationError', message: 'LifecycleActionResult must be CONTINUE or ABANDON' });
    }
    const a = find(p.data);
    calls.push({
      action: req.action as LifecycleCall['action'],
      autoScalingGroupName: p.data.AutoScalingGroupName,
      lifecycleHookName: p.data.LifecycleHookName,
      lifecycleActionToken: p.data.LifecycleActionToken,
      instanceId: p.data.InstanceId,
      result: p.data.LifecycleActionResult,
      accepted: a !== undefined,
      at: new Date().toISOString(),
    });
    if (!a) {
      const which = p.data.LifecycleActionToken ? `token ${p.data.LifecycleActionToken}` : `instance ID ${p.data.InstanceId}`;
      return awsErrorResponse(req, { status: 400, code: 'ValidationError', message: `No active Lifecycle Action found with ${which}` });
    }
    if (!completing) {
      a.expiresAt = new Date(Math.min(clock() + a.heartbeatTimeoutSeconds * 1000, Date.parse(a.globalExpiresAt))).toISOString();
      return awsSuccessResponse(req, { xml: '' });
    }
    return close(ctx, a, 'completed', p.data.LifecycleActionResult!).then(() => awsSuccessResponse(req, { xml: '' }));
  }

  const behaviour: Behaviour = {
    name: 'asg-lifecycle',

    intercept(req, ctx) {
      if (req.service !== 'autoscaling') return undefined;
      switch (req.action) {
        case 'CompleteLifecycleAction':
        case 'RecordLifecycleActionHeartbeat':
          return lifecycleCall(req, ctx);
        case 'TerminateInstanceInAutoScalingGroup':
          return terminateInGroup(req, ctx);
        case 'SetDesiredCapacity':
          return lowerDesired(req, ctx);
        default:
          return undefined;
      }
    },

    afterResponse(req, res) {
      if (req.service !== 'autoscaling' || res.status !== 200) return;
      if (req.action === 'DescribeAutoScalingGroups') return withWaiting(res, active());
      if (req.action === 'DescribeLifecycleHooks') return globalTimeouts(res);
      return;
    },

    tick: {
      intervalMs: 1_000,
      async run(ctx) {
        const now = clock();
        for (const a of active()) {
          if (a.closed) continue; // closed by a sibling hook's ABANDON in this pass
          if (now >= Date.parse(a.globalExpiresAt)) await close(ctx, a, 'global-timeout', a.defaultResult);
          else if (now >= Date.parse(a.expiresAt)) await close(ctx, a, 'heartbeat-timeout', a.defaultResult);
        }
      },
    },

    async route(req, ctx) {
      if (req.method === 'GET' && (req.path === '/' || req.path === '/actions')) return { status: 200, body: { calls, active: active(), closed: actions.filter((a) => a.closed) } };
      if (req.method === 'POST' && req.path === '/advance') {
        const p = z.object({ seconds: z.number().nonnegative() }).strict().safeParse(req.body ?? {});
        if (!p.success) return { status: 400, body: { error: p.error.message } };
        offsetMs += p.data.seconds * 1000;
        return { status: 200, body: { offsetSeconds: offsetMs / 1000 } };
      }
      if (req.method === 'POST' && req.path === '/launch') {
        const p = launchSchema.safeParse(req.body ?? {});
        if (!p.success) return { status: 400, body: { error: p.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') } };
        const hook = (await hooksOf(ctx, p.data.region, p.data.autoScalingGroupName, LAUNCHING)).find((h) => h.LifecycleHookName === p.data.lifecycleHookName);
        if (!hook) return { status: 404, body: { error: `no launch hook ${p.data.lifecycleHookName} on ${p.data.autoScalingGroupName}` } };
        const a = open(hook, p.data.instanceId, p.data.region, LAUNCHING, p.data.destination);
        await announce(ctx, a);
        return { status: 200, body: a };
      }
      return undefined;
    },

    reset() {
      calls.length = 0;
      lifecycle.reset();
      offsetMs = 0;
    },
  };
  return behaviour;
};