import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TASK_QUEUE_CRITICAL, TASK_QUEUE_DEFAULT } from '../../common/task-queues';
import { FleetopsCluster, FleetopsInstanceId, FleetopsKind } from '../../common/search-attributes';
import { parseEvent } from '../../router/events';
import { INSTANCE_STATES, instanceStateChange } from '../../router/events/instance-state-change';
import { accountOfQueue, asgNotificationToEnvelope, isAsgNotification } from '../../router/events/asg-notification';
import { decisionsOf, routeEvent, type RouteDecision, type RouteResult } from '../../router/routes';
import { ROOT } from '../../testkit/paths';
import { createTestWorld, example, newInstanceId } from '../../testkit/router/fixtures';

/**
 * The interruption sources beyond spot warnings (docs/contract.md, Events): EC2 state
 * changes, AWS Health scheduled changes, ASG launch lifecycle actions and the hook's test notification,
 * and ASG notifications delivered straight to the queue in the ASG's own format. Every example file is
 * a real AWS-format event (router/events/examples/, asg-direct/ for the ASG's own format).
 */

const world = createTestWorld();
const EXAMPLES = join(ROOT, 'router', 'events', 'examples');

function route(raw: unknown): RouteResult {
  const parsed = parseEvent(raw);
  if (!parsed.ok) throw new Error(parsed.error);
  return routeEvent(parsed.event, world.config);
}
const one = (r: RouteResult): RouteDecision => {
  const all = decisionsOf(r);
  expect(all).toHaveLength(1);
  return all[0]!;
};

describe('every example event parses as a known kind', () => {
  it.each(readdirSync(EXAMPLES).filter((f) => f.endsWith('.json')))('%s', (file) => {
    const parsed = parseEvent(JSON.parse(readFileSync(join(EXAMPLES, file), 'utf8')));
    expect(parsed).toMatchObject({ ok: true, event: { kind: file.replace(/\.json$/, '') } });
  });

  it.each(readdirSync(join(EXAMPLES, 'asg-direct')))('asg-direct/%s becomes the envelope of its kind', (file) => {
    const body = JSON.parse(readFileSync(join(EXAMPLES, 'asg-direct', file), 'utf8'));
    expect(isAsgNotification(body)).toBe(true);
    const converted = asgNotificationToEnvelope(body, { account: '123456789012', region: 'us-east-1' });
    if (!converted.ok) throw new Error(converted.error);
    const kind = { 'lifecycle-launch.json': 'lifecycle-launch', 'lifecycle-terminate.json': 'lifecycle-terminate', 'test-notification.json': 'lifecycle-test-notification' }[file];
    expect(parseEvent(converted.envelope)).toMatchObject({ ok: true, event: { kind } });
  });
});

describe('EC2 Instance State-change Notification', () => {
  it.each(['stopping', 'shutting-down'])('%s: signal-with-start of the drain, on the warning deadline', (state) => {
    const e = world.event('instance-state-change', { state });
    const id = e.detail['instance-id'] as string;
    expect(one(route(e))).toMatchObject({
      action: 'signalWithStart',
      workflowType: 'spotDrain',
      taskQueue: TASK_QUEUE_CRITICAL,
      workflowId: `drain-${id}`,
      signal: { name: 'drainEvent', arg: { kind: 'instance-stopping', instanceId: id, eventId: e.id, deadline: new Date(Date.parse(e.time) + 120_000).toISOString() } },
    });
  });

  it.each(['stopped', 'terminated'])('%s: signals a running drain only (closes it), never starts one', (state) => {
    const e = world.event('instance-state-change', { state });
    const id = e.detail['instance-id'] as string;
    // A stop says the instance comes back: its drain waits for `running`.
    const action = state === 'stopped' ? { instanceAction: 'stop' } : {};
    expect(one(route(e))).toEqual({ action: 'signal', workflowId: `drain-${id}`, signal: { name: 'drainEvent', arg: { kind: 'instance-gone', instanceId: id, eventId: e.id, eventTime: e.time, ...action } } });
  });

  it('running: signals a running drain only (a stopped instance is back), never starts one', () => {
    const e = world.event('instance-state-change', { state: 'running' });
    const id = e.detail['instance-id'] as string;
    expect(one(route(e))).toEqual({ action: 'signal', workflowId: `drain-${id}`, signal: { name: 'drainEvent', arg: { kind: 'instance-running', instanceId: id, eventId: e.id, eventTime: e.time } } });
  });

  it('its EventBridge rule lets through every state the route acts on, running included, and no other', () => {
    const acted = INSTANCE_STATES.filter((state) => one(route(world.event('instance-state-change', { state }))).action !== 'ignore');
    const rule = instanceStateChange.rule as { detail?: { state?: string[] } };
    expect([...(rule.detail?.state ?? [])].sort()).toEqual([...acted].sort());
  });

  it('pending: ignored with the reason', () => {
    expect(one(route(world.event('instance-state-change', { state: 'pending' })))).toMatchObject({ action: 'ignore', reason: expect.stringContaining('is pending') });
  });

  it('a state EC2 does not have, or a malformed instance id, is named in the error', () => {
    const e = world.event('instance-state-change');
    e.detail.state = 'hibernated';
    expect(parseEvent(e, ['events', 2])).toMatchObject({ ok: false, error: expect.stringContaining('events[2].detail.state:') });
    e.detail.state = 'stopping';
    e.detail['instance-id'] = 'i-XYZ';
    expect(parseEvent(e)).toMatchObject({ ok: false, error: expect.stringContaining('detail.instance-id:') });
  });
});

describe('AWS Health Event', () => {
  it('an EC2 scheduled change drains each affected instance ahead of startTime (replacement first, relaxed deadline)', () => {
    const [a, b] = [newInstanceId(), newInstanceId()];
    const e = world.event('health-event', { instanceId: a });
    e.detail.affectedEntities = [{ entityValue: a }, { entityValue: b }];
    e.resources = [a, b];
    e.detail.startTime = 'Wed, 10 May 2023 06:10:00 GMT';
    const r = route(e);
    expect(r.action).toBe('each');
    const decisions = decisionsOf(r);
    expect(decisions.map((d) => d.workflowId)).toEqual([`drain-${a}`, `drain-${b}`]);
    for (const [d, id] of [[decisions[0], a], [decisions[1], b]] as const) {
      expect(d).toMatchObject({
        action: 'signalWithStart',
        taskQueue: TASK_QUEUE_CRITICAL,
        signal: { arg: { kind: 'scheduled-change', instanceId: id, eventId: e.id, eventTime: e.time, deadline: '2023-05-10T06:10:00.000Z' } },
      });
    }
  });

  it.each([
    ['another service', { service: 'RDS' }, 'only EC2 scheduled changes'],
    ['an issue, not a scheduled change', { eventTypeCategory: 'issue' }, 'only EC2 scheduled changes'],
    ['a closed event', { statusCode: 'closed' }, 'is closed'],
    ['no instance', { affectedEntities: [{ entityValue: 'vol-0123456789abcdef0' }] }, 'names no EC2 instance'],
  ])('%s is ignored with the reason', (_what, change, reason) => {
    const e = world.event('health-event');
    Object.assign(e.detail, change);
    if ('affectedEntities' in change) e.resources = [];
    expect(one(route(e))).toMatchObject({ action: 'ignore', reason: expect.stringContaining(reason) });
  });

  it('a startTime that is not a date is named in the error', () => {
    const e = world.event('health-event');
    e.detail.startTime = 'next Tuesday';
    expect(parseEvent(e)).toMatchObject({ ok: false, error: expect.stringContaining('detail.startTime:') });
  });
});

describe('EC2 Instance-launch Lifecycle Action', () => {
  it("starts launch-<instance-id> for a group that is a cluster's pool, with that cluster's timeout and heartbeat", () => {
    const e = world.event('lifecycle-launch');
    const id = e.detail.EC2InstanceId as string;
    const cluster = world.config.clusters[world.cluster]!;
    expect(one(route(e))).toMatchObject({
      action: 'start',
      workflowType: 'launch',
      taskQueue: TASK_QUEUE_DEFAULT,
      workflowId: `launch-${id}`,
      reusePolicy: 'REJECT_DUPLICATE',
      args: [
        {
          instanceId: id,
          cluster: world.cluster,
          lifecycle: { hookName: 'my-launch-hook', asgName: 'demo-on-demand', actionToken: '19ad2f2c-5fcc-4fa1-bc9b-6a7d2fbfe26a' },
          eventId: e.id,
          eventTime: e.time,
          timeoutSeconds: cluster.capacity.registrationTimeoutSeconds,
          heartbeatSeconds: cluster.drain.lifecycleHeartbeatSeconds,
        },
      ],
      searchAttributes: [
        { key: FleetopsKind, value: 'launch' },
        { key: FleetopsCluster, value: world.cluster },
        { key: FleetopsInstanceId, value: id },
      ],
    });
  });

  it('a launch into the warm pool (Destination WarmPool) says so to the launch, which completes it at once', () => {
    const e = world.event('lifecycle-launch');
    Object.assign(e.detail, { Origin: 'EC2', Destination: 'WarmPool' });
    expect(one(route(e))).toMatchObject({ action: 'start', workflowType: 'launch', args: [expect.objectContaining({ destination: 'WarmPool' })] });
    // Leaving the pool to join the group is a launch like any other: it waits for the cluster.
    Object.assign(e.detail, { Origin: 'WarmPool', Destination: 'AutoScalingGroup' });
    expect(one(route(e))).toMatchObject({ action: 'start', args: [expect.not.objectContaining({ destination: expect.anything() })] });
  });

  it('a group no cluster names is ignored with the reason', () => {
    const e = world.event('lifecycle-launch');
    e.detail.AutoScalingGroupName = 'somebody-elses-asg';
    expect(one(route(e))).toMatchObject({ action: 'ignore', reason: 'no cluster in the config has Auto Scaling group somebody-elses-asg as a pool' });
  });
});

describe('autoscaling:TEST_NOTIFICATION', () => {
  it.each(['EC2 Instance-terminate Lifecycle Action', 'EC2 Instance-launch Lifecycle Action'])('under %s: ignored, never an error', (detailType) => {
    const e = { ...example('lifecycle-test-notification'), 'detail-type': detailType };
    expect(one(route(e))).toMatchObject({ action: 'ignore', workflowId: null, reason: expect.stringContaining('autoscaling:TEST_NOTIFICATION for my-asg') });
  });

  it('a lifecycle action that is not a test notification is still checked strictly', () => {
    const e = world.event('lifecycle-terminate');
    delete e.detail.LifecycleActionToken;
    expect(parseEvent(e)).toMatchObject({ ok: false, error: expect.stringContaining('detail.LifecycleActionToken:') });
  });
});

describe("the ASG's own notification format (straight to the queue)", () => {
  const direct = (name: string) => JSON.parse(readFileSync(join(EXAMPLES, 'asg-direct', name), 'utf8')) as Record<string, unknown>;

  it("takes its account from the queue it arrived on, never from the body's AccountId (anyone may write that)", () => {
    const forged = { ...direct('lifecycle-terminate.json'), AccountId: '999999999999' };
    expect(asgNotificationToEnvelope(forged, { account: '123456789012', region: 'us-east-1' })).toMatchObject({ ok: true, envelope: { account: '123456789012' } });
    const { AccountId: _gone, ...without } = forged;
    expect(asgNotificationToEnvelope(without, { account: '210987654321', region: 'us-east-1' })).toMatchObject({ ok: true, envelope: { account: '210987654321' } });
    expect(accountOfQueue('https://sqs.us-east-1.amazonaws.com/210987654321/fleetops-lifecycle')).toBe('210987654321');
    expect(accountOfQueue('http://127.0.0.1:4566/123456789012/fleetops-lifecycle')).toBe('123456789012');
    expect(accountOfQueue('arn:aws:sqs:us-east-1:123456789012:fleetops-lifecycle')).toBe('123456789012');
    expect(accountOfQueue('http://127.0.0.1:4566/queue/fleetops-lifecycle')).toBeUndefined();
  });

  it('becomes the envelope EventBridge would have delivered: id from RequestId, time, account, detail', () => {
    const converted = asgNotificationToEnvelope(direct('lifecycle-terminate.json'), { account: '123456789012', region: 'us-east-1' });
    expect(converted).toEqual({
      ok: true,
      envelope: {
        version: '0',
        id: 'd43a2a4e-6f55-46a5-9c6b-2f4a9d5e8b71',
        'detail-type': 'EC2 Instance-terminate Lifecycle Action',
        source: 'aws.autoscaling',
        account: '123456789012',
        time: '2021-01-20T10:02:51Z',
        region: 'us-east-1',
        resources: [],
        detail: {
          Origin: 'AutoScalingGroup',
          LifecycleHookName: 'my-termination-hook',
          Destination: 'EC2',
          LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
          AutoScalingGroupName: 'my-asg',
          EC2InstanceId: 'i-0598c7d356eba48d7',
          LifecycleActionToken: '0befcbdb-6ecd-498a-9ff7-ae9b54447cd6',
          NotificationMetadata: 'drain-first',
        },
      },
    });
    const test = asgNotificationToEnvelope(direct('test-notification.json'), { account: '123456789012', region: 'us-east-1' });
    expect(test).toMatchObject({ ok: true, envelope: { region: 'us-west-2', resources: [expect.stringContaining('autoScalingGroupName/my-asg')] } });
  });

  it('a notification without a transition, or with a bad field, is an error naming the field', () => {
    const body = direct('lifecycle-launch.json');
    delete body.LifecycleTransition;
    expect(asgNotificationToEnvelope(body, { account: '123456789012', region: 'us-east-1' })).toEqual({ ok: false, error: expect.stringMatching(/^LifecycleTransition: /) });
    expect(asgNotificationToEnvelope({ ...direct('lifecycle-launch.json'), LifecycleTransition: 'autoscaling:EC2_INSTANCE_REBOOTING' }, { account: '123456789012', region: 'us-east-1' })).toEqual({
      ok: false,
      error: expect.stringMatching(/^LifecycleTransition: /),
    });
    const bad = asgNotificationToEnvelope({ ...direct('lifecycle-launch.json'), EC2InstanceId: 'i-nope' }, { account: '123456789012', region: 'us-east-1' });
    if (!bad.ok) throw new Error(bad.error);
    expect(parseEvent(bad.envelope)).toMatchObject({ ok: false, error: expect.stringContaining('detail.EC2InstanceId:') });
  });

  it('is told apart from an EventBridge envelope', () => {
    expect(isAsgNotification(example('lifecycle-terminate'))).toBe(false);
    expect(isAsgNotification(direct('lifecycle-launch.json'))).toBe(true);
    expect(isAsgNotification([direct('lifecycle-launch.json')])).toBe(false);
  });
});
