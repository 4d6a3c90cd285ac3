import { randomUUID } from 'node:crypto';
import {
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DescribeLifecycleHooksCommand,
  DetachInstancesCommand,
  SetDesiredCapacityCommand,
  type LifecycleHook,
} from '@aws-sdk/client-auto-scaling';
import { z } from 'zod';
import type { Behaviour, BehaviourContext, BehaviourFactory, SimRequest } from '../behaviour';
import { DEFAULT_ACCOUNT } from '../events';
import { awsErrorResponse, awsSuccessResponse, type SimResponse } from '../protocol';
import { endInstance } from './support/instance-end';

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
 * behaviour does not model them); ABANDON of a launch terminates the instance.
 *
 * Which instance a lower desired capacity takes: the newest (AWS's default termination policy ends in
 * "closest to the next billing hour", then random; the simulator picks deterministically).
 *
 * Routes: `GET /_sim/asg-lifecycle/actions` → `{ calls, active, closed }`; `POST /_sim/asg-lifecycle/launch`
 * `{ autoScalingGroupName, lifecycleHookName, instanceId }` → the opened action; `POST
 * /_sim/asg-lifecycle/advance` `{ seconds }` moves this module's clock (hook timeouts) forward.
 */

export interface LifecycleCall {
  action: 'CompleteLifecycleAction' | 'RecordLifecycleActionHeartbeat';
  autoScalingGroupName: string;
  lifecycleHookName: string;
  lifecycleActionToken?: string;
  instanceId?: string;
  /** CONTINUE or ABANDON, for CompleteLifecycleAction. */
  result?: string;
  /** False when AWS refused it (no such active action). */
  accepted: boolean;
  at: string;
}

const TERMINATING = 'autoscaling:EC2_INSTANCE_TERMINATING';
const LAUNCHING = 'autoscaling:EC2_INSTANCE_LAUNCHING';
const MAX_GLOBAL_TIMEOUT_S = 172_800;

export interface LifecycleActionState {
  token: string;
  autoScalingGroupName: string;
  lifecycleHookName: string;
  instanceId: string;
  transition: typeof TERMINATING | typeof LAUNCHING;
  heartbeatTimeoutSeconds: number;
  defaultResult: string;
  startedAt: string;
  /** When the heartbeat timeout runs out (restarted by each heartbeat). */
  expiresAt: string;
  globalExpiresAt: string;
  region: string;
  /** Set once the action ended: how and with what result. */
  closed?: { how: 'completed' | 'heartbeat-timeout' | 'global-timeout'; result: string; at: string };
}

const paramsSchema = z.object({
  AutoScalingGroupName: z.string().min(1),
  LifecycleHookName: z.string().min(1),
  LifecycleActionToken: z.string().optional(),
  InstanceId: z.string().optional(),
  LifecycleActionResult: z.string().optional(),
});

const launchSchema = z.object({ autoScalingGroupName: z.string().min(1), lifecycleHookName: z.string().min(1), instanceId: z.string().min(1), region: z.string().default('us-east-1') }).strict();

const xmlEscape = (s: string) => s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);
const regionOf = (req: SimRequest) => (req.region === 'unknown' ? 'us-east-1' : req.region);

export const asgLifecycle: BehaviourFactory = () => {
  const calls: LifecycleCall[] = [];
  const actions: LifecycleActionState[] = [];
  const active = () => actions.filter((a) => !a.closed);
  /** Tests move the lifecycle clock forward instead of waiting out a hook's timeout (at least 30 s on AWS). */
  let offsetMs = 0;
  const clock = () => Date.now() + offsetMs;

  async function hooksOf(ctx: BehaviourContext, region: string, asg: string, transition: string): Promise<LifecycleHook[]> {
    const out = await ctx.aws(region).autoscaling.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: asg }));
    return (out.LifecycleHooks ?? []).filter((h) => h.LifecycleTransition === transition);
  }

  function open(hook: LifecycleHook, instanceId: string, region: string, transition: LifecycleActionState['transition']): LifecycleActionState {
    const now = clock();
    const hb = hook.HeartbeatTimeout ?? 3600;
    const a: LifecycleActionState = {
      token: randomUUID(),
      autoScalingGroupName: hook.AutoScalingGroupName ?? '',
      lifecycleHookName: hook.LifecycleHookName ?? '',
      instanceId,
      transition,
      heartbeatTimeoutSeconds: hb,
      defaultResult: hook.DefaultResult ?? 'ABANDON',
      startedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + hb * 1000).toISOString(),
      globalExpiresAt: new Date(now + Math.min(100 * hb, MAX_GLOBAL_TIMEOUT_S) * 1000).toISOString(),
      region,
    };
    actions.push(a);
    return a;
  }

  async function announce(ctx: BehaviourContext, a: LifecycleActionState): Promise<void> {
    const terminating = a.transition === TERMINATING;
    await ctx.events.publish({
      source: 'aws.autoscaling',
      detailType: terminating ? 'EC2 Instance-terminate Lifecycle Action' : 'EC2 Instance-launch Lifecycle Action',
      detail: {
        Origin: terminating ? 'AutoScalingGroup' : 'EC2',
        Destination: terminating ? 'EC2' : 'AutoScalingGroup',
        LifecycleActionToken: a.token,
        AutoScalingGroupName: a.autoScalingGroupName,
        LifecycleHookName: a.lifecycleHookName,
        EC2InstanceId: a.instanceId,
        LifecycleTransition: a.transition,
      },
      resources: [`arn:aws:autoscaling:${a.region}:${DEFAULT_ACCOUNT}:autoScalingGroup:sim:autoScalingGroupName/${a.autoScalingGroupName}`],
      region: a.region,
    });
  }

  /** Ends the action; what the instance does next follows the transition and the result. */
  async function close(ctx: BehaviourContext, a: LifecycleActionState, how: NonNullable<LifecycleActionState['closed']>['how'], result: string): Promise<void> {
    a.closed = { how, result, at: new Date().toISOString() };
    const others = active().some((x) => x.instanceId === a.instanceId && x.transition === a.transition);
    if (a.transition === TERMINATING) {
      // ABANDON of one hook ends the wait for all: the instance terminates either way.
      if (result === 'ABANDON') for (const x of active().filter((y) => y.instanceId === a.instanceId)) x.closed = { how, result, at: a.closed.at };
      if (!others || result === 'ABANDON') await endInstance(ctx, a.instanceId, a.region);
    } else if (result === 'ABANDON') {
      for (const x of active().filter((y) => y.instanceId === a.instanceId)) x.closed = { how, result, at: a.closed.at };
      await endInstance(ctx, a.instanceId, a.region);
    }
  }

  function find(p: z.infer<typeof paramsSchema>): LifecycleActionState | undefined {
    return active().find(
      (a) =>
        a.autoScalingGroupName === p.AutoScalingGroupName &&
        a.lifecycleHookName === p.LifecycleHookName &&
        (p.LifecycleActionToken ? a.token === p.LifecycleActionToken : true) &&
        (p.InstanceId ? a.instanceId === p.InstanceId : true),
    );
  }

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
      `<Activity><ActivityId>${randomUUID()}</ActivityId><AutoScalingGroupName>${xmlEscape(asg)}</AutoScalingGroupName>` +
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

  /** Instances in Terminating:Wait are no longer in moto's group: DescribeAutoScalingGroups shows them, as AWS does. */
  function withWaiting(res: SimResponse): SimResponse | void {
    const waiting = active().filter((a) => a.transition === TERMINATING);
    if (waiting.length === 0) return;
    let xml = res.body.toString('utf8');
    let changed = false;
    for (const asg of new Set(waiting.map((a) => a.autoScalingGroupName))) {
      const at = xml.indexOf(`<AutoScalingGroupName>${xmlEscape(asg)}</AutoScalingGroupName>`);
      if (at < 0) continue;
      const ids = [...new Set(waiting.filter((a) => a.autoScalingGroupName === asg).map((a) => a.instanceId))];
      const members = ids.map((id) => `<member><InstanceId>${id}</InstanceId><LifecycleState>Terminating:Wait</LifecycleState><HealthStatus>Healthy</HealthStatus></member>`).join('');
      const empty = /<Instances\s*\/>/.exec(xml.slice(at));
      const openIdx = xml.indexOf('<Instances>', at);
      if (openIdx >= 0 && (!empty || openIdx < at + empty.index)) {
        xml = xml.slice(0, openIdx + '<Instances>'.length) + members + xml.slice(openIdx + '<Instances>'.length);
        changed = true;
      } else if (empty) {
        const i = at + empty.index;
        xml = `${xml.slice(0, i)}<Instances>${members}</Instances>${xml.slice(i + empty[0].length)}`;
        changed = true;
      }
    }
    if (!changed) return;
    const body = Buffer.from(xml);
    return { ...res, headers: { ...res.headers, 'content-length': String(body.length) }, body };
  }

  /** moto reports GlobalTimeout 172800 for every hook; AWS reports min(100 × HeartbeatTimeout, 172800) (API_LifecycleHook). */
  function globalTimeouts(res: SimResponse): SimResponse | void {
    const xml = res.body.toString('utf8');
    const fixed = xml.replace(/<member>([\s\S]*?)<\/member>/g, (m) => {
      const hb = Number(/<HeartbeatTimeout>(\d+)<\/HeartbeatTimeout>/.exec(m)?.[1] ?? 3600);
      return m.replace(/<GlobalTimeout>\d+<\/GlobalTimeout>/, `<GlobalTimeout>${Math.min(100 * hb, MAX_GLOBAL_TIMEOUT_S)}</GlobalTimeout>`);
    });
    if (fixed === xml) return;
    const body = Buffer.from(fixed);
    return { ...res, headers: { ...res.headers, 'content-length': String(body.length) }, body };
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
      if (req.action === 'DescribeAutoScalingGroups') return withWaiting(res);
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
        const a = open(hook, p.data.instanceId, p.data.region, LAUNCHING);
        await announce(ctx, a);
        return { status: 200, body: a };
      }
      return undefined;
    },

    reset() {
      calls.length = 0;
      actions.length = 0;
      offsetMs = 0;
    },
  };
  return behaviour;
};
