import { Connection, WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  FleetopsCluster,
  FleetopsInstanceId,
  FleetopsKind,
  FleetopsService,
  FleetopsSeverity,
} from '../../common/search-attributes';
import { blockingIncidentsQuery } from '../../activities/deploy/incidents';
import { TASK_QUEUE_DRAIN_COORDINATOR } from '../../common/task-queues';
import { drainCoordinatorWorkflowId } from '../../common/workflow-ids';
import { Dispatcher } from '../../router/dispatch';
import { createRouterMetrics } from '../../router/metrics';
import { decisionsOf, routeEvent, shortIdOf } from '../../router/routes';
import { parseEvent } from '../../router/events';
import { until } from '../../testkit/poll';
import { connectDevServer } from '../harness/temporal';
import { createTestWorld, newInstanceId, type Envelope } from '../../testkit/router/fixtures';
import { AWS_EVENTS_TEST_TOKEN, bearer, metricValue, startedWith, startTestRouter, TEST_TOKEN, TEST_TOKENS, type TestRouter } from '../../testkit/router/router-harness';

let env: TestWorkflowEnvironment;
const world = createTestWorld();
let router: TestRouter;
/** Closed after the suite: closing one while the SDK has a retry of a failed call scheduled makes it throw later. */
const deadConnections: Connection[] = [];

beforeAll(async () => {
  env = await connectDevServer();
  router = await startTestRouter(world, env.connection);
});

afterAll(async () => {
  await router?.stop();
  await Promise.all(deadConnections.map((c) => c.close()));
  await env?.teardown();
});

const handle = (id: string) => env.client.workflow.getHandle(id);

/** The workflow's id if the query lists it (visibility is eventually consistent: callers ask again). */
async function listed(query: string, workflowId: string): Promise<string | undefined> {
  for await (const wf of env.client.workflow.list({ query })) if (wf.workflowId === workflowId) return wf.workflowId;
  return undefined;
}

async function describeStarted(id: string) {
  const d = await handle(id).describe();
  return {
    type: d.type,
    taskQueue: d.taskQueue,
    status: d.status.name,
    kind: d.typedSearchAttributes.get(FleetopsKind),
    cluster: d.typedSearchAttributes.get(FleetopsCluster),
    service: d.typedSearchAttributes.get(FleetopsService),
    instanceId: d.typedSearchAttributes.get(FleetopsInstanceId),
    severity: d.typedSearchAttributes.get(FleetopsSeverity),
    summary: await d.staticSummary(),
  };
}

describe('every event kind routed against the dev server', () => {
  it('spot interruption warning → spotDrain on fleetops-critical, signal-with-start with the deadline', async () => {
    const e = world.event('spot-interruption-warning');
    const instanceId = e.detail['instance-id'] as string;
    const res = await router.post(e);
    expect(res).toEqual({ status: 202, body: { results: [{ eventId: e.id, action: 'started', workflowId: `drain-${instanceId}` }] } });
    expect(await describeStarted(`drain-${instanceId}`)).toMatchObject({
      type: 'spotDrain',
      taskQueue: 'fleetops-critical',
      status: 'RUNNING',
      kind: 'drain',
      instanceId,
      summary: expect.stringContaining(instanceId),
    });
    expect(await startedWith(handle(`drain-${instanceId}`))).toEqual({
      args: [{ instanceId }],
      signals: [
        {
          name: 'drainEvent',
          arg: { kind: 'interruption-warning', instanceId, eventId: e.id, eventTime: e.time, deadline: new Date(Date.parse(e.time) + 120_000).toISOString() },
        },
      ],
    });
  });

  it('sends the warnings of concurrent requests to the drain coordinator in one signal, on its own task queue', async () => {
    const events = [world.event('spot-interruption-warning'), world.event('spot-interruption-warning'), world.event('spot-interruption-warning')];
    const ids = events.map((e) => e.detail['instance-id'] as string);
    const answers = await Promise.all(events.map((e) => router.post(e)));
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202]);
    // Other tests signal the same coordinator: the signal that carries one of these carries all three.
    const { signals } = await startedWith(handle(drainCoordinatorWorkflowId()));
    const ours = signals.filter((s) => (s.arg as { instanceId: string }[]).some((n) => ids.includes(n.instanceId)));
    expect(ours).toHaveLength(1);
    expect((ours[0]!.arg as { instanceId: string }[]).map((n) => n.instanceId).filter((id) => ids.includes(id)).sort()).toEqual([...ids].sort());
    expect((await handle(drainCoordinatorWorkflowId()).describe()).taskQueue).toBe(TASK_QUEUE_DRAIN_COORDINATOR);
  });

  it('rebalance recommendation and then a warning for the same instance → one drain workflow, signaled twice', async () => {
    const instanceId = newInstanceId();
    const first = world.event('rebalance-recommendation', { instanceId });
    const second = world.event('spot-interruption-warning', { instanceId });
    expect((await router.post(first)).body.results[0].action).toBe('started');
    expect((await router.post(second)).body.results[0]).toEqual({ eventId: second.id, action: 'signaled', workflowId: `drain-${instanceId}` });
    const { signals } = await startedWith(handle(`drain-${instanceId}`));
    expect(signals.map((s) => (s.arg as { kind: string }).kind)).toEqual(['rebalance-recommendation', 'interruption-warning']);
  });

  it('ASG terminate lifecycle action → spotDrain with the lifecycle hook to complete', async () => {
    const e = world.event('lifecycle-terminate');
    const instanceId = e.detail.EC2InstanceId as string;
    expect((await router.post(e)).body.results[0].action).toBe('started');
    expect(await describeStarted(`drain-${instanceId}`)).toMatchObject({ type: 'spotDrain', taskQueue: 'fleetops-critical', kind: 'drain', instanceId });
    const { signals } = await startedWith(handle(`drain-${instanceId}`));
    expect(signals[0].arg).toMatchObject({
      kind: 'lifecycle-terminate',
      lifecycle: { hookName: 'my-lifecycle-hook', asgName: 'my-asg', actionToken: '630aa23f-48eb-45e7-aba6-799ea6093a0f' },
    });
  });

  it('scale-out and scale-in alarms → one capacity workflow per cluster, each alarm a capacityRequest', async () => {
    const out = world.event('alarm-state-change', { alarmName: world.alarms.scaleOut });
    const inn = world.event('alarm-state-change', { alarmName: world.alarms.scaleIn });
    const id = `capacity-${world.cluster}`;
    expect((await router.post(out)).body.results[0]).toEqual({ eventId: out.id, action: 'started', workflowId: id });
    expect((await router.post(inn)).body.results[0]).toEqual({ eventId: inn.id, action: 'signaled', workflowId: id });
    expect(await describeStarted(id)).toMatchObject({ type: 'capacity', taskQueue: 'fleetops', kind: 'capacity', cluster: world.cluster });
    const { args, signals } = await startedWith(handle(id));
    expect(args).toEqual([{ cluster: world.cluster }]);
    expect(signals).toEqual([
      { name: 'capacityRequest', arg: expect.objectContaining({ direction: 'out', units: 2, source: { kind: 'alarm', alarmName: world.alarms.scaleOut, eventId: out.id } }) },
      { name: 'capacityRequest', arg: expect.objectContaining({ direction: 'in', units: 1, source: { kind: 'alarm', alarmName: world.alarms.scaleIn, eventId: inn.id } }) },
    ]);
  });

  it('incident alarm → incident-alarm-<name>; its recovery (OK) joins it; OK without an incident is ignored', async () => {
    const name = `${world.alarms.incidentPrefix}-5xx`;
    const id = `incident-alarm-${name}`;
    const okBefore = world.event('alarm-state-change', { alarmName: name, state: 'OK' });
    expect((await router.post(okBefore)).body.results[0]).toEqual({ eventId: okBefore.id, action: 'ignored', workflowId: id });
    const alarm = world.event('alarm-state-change', { alarmName: name });
    expect((await router.post(alarm)).body.results[0].action).toBe('started');
    const ok = world.event('alarm-state-change', { alarmName: name, state: 'OK' });
    expect((await router.post(ok)).body.results[0].action).toBe('signaled');
    expect(await describeStarted(id)).toMatchObject({ type: 'incident', taskQueue: 'fleetops', kind: 'incident', severity: 'sev2', cluster: undefined });
    const { args, signals } = await startedWith(handle(id));
    expect(args).toEqual([expect.objectContaining({ title: `Alarm ${name}`, severity: 'sev2', source: { kind: 'alarm', alarmName: name, eventId: alarm.id } })]);
    expect(signals.map((s) => [s.name, (s.arg as { state: string }).state])).toEqual([
      ['alarmEvent', 'ALARM'],
      ['alarmEvent', 'OK'],
    ]);
  });

  it('an incident alarm whose route names a cluster → the incident carries FleetopsCluster (it freezes that cluster’s deploys)', async () => {
    const name = `${world.alarms.scopedIncidentPrefix}-healthz`;
    const id = `incident-alarm-${name}`;
    const alarm = world.event('alarm-state-change', { alarmName: name });
    expect((await router.post(alarm)).body.results[0]).toEqual({ eventId: alarm.id, action: 'started', workflowId: id });
    expect(await describeStarted(id)).toMatchObject({
      type: 'incident',
      kind: 'incident',
      severity: 'sev1',
      cluster: world.cluster,
      summary: `sev1 incident from alarm ${name} (cluster ${world.cluster})`,
    });
    // Exactly what the deploy freeze asks visibility for.
    const frozen = await until(`${id} listed by the freeze query`, () => listed(blockingIncidentsQuery(world.cluster), id), { timeoutMs: 10_000, intervalMs: 200 });
    expect(frozen).toBe(id);
    await handle(id).terminate('test done');
  });

  it('Deploy Requested → canaryDeploy; ECS events signal it while it runs and are ignored otherwise; a second request is a duplicate', async () => {
    const id = `deploy-${world.cluster}-${world.service}`;
    const early = world.event('ecs-service-action');
    expect((await router.post(early)).body.results[0]).toEqual({ eventId: early.id, action: 'ignored', workflowId: id });

    const deploy = world.event('deploy-requested');
    expect((await router.post(deploy)).body.results[0]).toEqual({ eventId: deploy.id, action: 'started', workflowId: id });
    expect(await describeStarted(id)).toMatchObject({ type: 'canaryDeploy', taskQueue: 'fleetops', kind: 'deploy', cluster: world.cluster, service: world.service });
    const { args } = await startedWith(handle(id));
    // Over HTTP the requester is the token (the harness posts with the one named `ops`), not the body's `alice`.
    expect(args).toEqual([{ cluster: world.cluster, service: world.service, image: deploy.detail.image, requestedBy: 'token:ops' }]);

    const second = world.event('deploy-requested');
    second.detail.image = '123456789012.dkr.ecr.us-east-1.amazonaws.com/web:other';
    expect((await router.post(second)).body.results[0]).toEqual({ eventId: second.id, action: 'duplicate', workflowId: id });

    const failed = world.event('ecs-deployment-state-change');
    const steady = world.event('ecs-service-action');
    expect((await router.post([failed, steady])).body.results.map((r: { action: string }) => r.action)).toEqual(['signaled', 'signaled']);
    // Events of one batch are dispatched concurrently: both arrive, in either order.
    const { signals } = await startedWith(handle(id));
    expect(signals).toHaveLength(2);
    expect(signals).toEqual(
      expect.arrayContaining([
        { name: 'ecsEvent', arg: expect.objectContaining({ detailType: 'ECS Deployment State Change', eventName: 'SERVICE_DEPLOYMENT_FAILED', deploymentId: 'ecs-svc/123', eventId: failed.id }) },
        { name: 'ecsEvent', arg: expect.objectContaining({ detailType: 'ECS Service Action', eventName: 'SERVICE_STEADY_STATE', eventId: steady.id }) },
      ]),
    );

    await handle(id).terminate('test done');
    const late = world.event('ecs-service-action');
    expect((await router.post(late)).body.results[0].action).toBe('ignored');
  });

  it('Incident Declared → incident-<slug>-<short-id>, started with title, severity, summary, source', async () => {
    const e = world.event('incident-declared', { title: `Checkout latency ${world.cluster}` });
    const id = `incident-checkout-latency-${world.cluster}-${shortIdOf(e.id)}`;
    expect((await router.post(e)).body.results[0]).toEqual({ eventId: e.id, action: 'started', workflowId: id });
    expect(await describeStarted(id)).toMatchObject({ type: 'incident', taskQueue: 'fleetops', kind: 'incident', severity: 'sev2', summary: expect.stringContaining('Checkout latency') });
    expect((await startedWith(handle(id))).args).toEqual([
      { title: e.detail.title, severity: 'sev2', summary: e.detail.summary, source: { kind: 'event', eventId: e.id, by: 'bob' } },
    ]);
  });

  it('an unknown event kind is ignored and counted', async () => {
    const e = { ...world.event('rebalance-recommendation'), source: 'aws.s3', 'detail-type': 'Object Created' };
    const before = await metricValue(router, 'fleetops_router_events_ignored_total', { kind: 'unknown' });
    expect((await router.post(e)).body.results).toEqual([{ eventId: e.id, action: 'ignored', workflowId: null }]);
    expect(await metricValue(router, 'fleetops_router_events_ignored_total', { kind: 'unknown' })).toBe(before + 1);
  });
});

describe('dedupe', () => {
  it('the same event twice (HTTP retry) → one workflow, one signal, the second answer duplicate', async () => {
    const e = world.event('spot-interruption-warning');
    const id = `drain-${e.detail['instance-id']}`;
    expect((await router.post(e)).body.results[0].action).toBe('started');
    expect((await router.post(e)).body.results[0]).toEqual({ eventId: e.id, action: 'duplicate', workflowId: id });
    expect((await startedWith(handle(id))).signals).toHaveLength(1);
  });

  it('the same event twice in one batch → started and duplicate, in order', async () => {
    const e = world.event('incident-declared');
    const res = await router.post([e, e]);
    expect(res.body.results.map((r: { action: string }) => r.action)).toEqual(['started', 'duplicate']);
  });

  it('after a router restart (no memory) the server still drops the redelivered event', async () => {
    const drain = world.event('rebalance-recommendation');
    const declared = world.event('incident-declared');
    const deploy = world.event('deploy-requested');
    const deployId = `deploy-${world.cluster}-${world.service}`;
    await handle(deployId).terminate('clean slate').catch((err) => {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    });
    expect((await router.post([drain, declared, deploy])).body.results.map((r: { action: string }) => r.action)).toEqual(['started', 'started', 'started']);

    const fresh = await startTestRouter(world, env.connection);
    try {
      const again = await fresh.post([drain, declared, deploy]);
      // A redelivered signal-with-start is dropped by the server (same request id) but the server does
      // not say so: the answer is `signaled`, and the history shows the signal once.
      expect(again.body.results.map((r: { action: string }) => r.action)).toEqual(['signaled', 'duplicate', 'duplicate']);
      expect((await startedWith(handle(`drain-${drain.detail['instance-id']}`))).signals).toHaveLength(1);
    } finally {
      await fresh.stop();
      await handle(deployId).terminate('test done');
    }
  });

  it('a redelivered Incident Declared after its incident closed does not reopen it', async () => {
    const e = world.event('incident-declared');
    const id = (await router.post(e)).body.results[0].workflowId as string;
    await handle(id).terminate('closed for the test');
    const fresh = await startTestRouter(world, env.connection);
    try {
      expect((await fresh.post(e)).body.results[0]).toEqual({ eventId: e.id, action: 'duplicate', workflowId: id });
    } finally {
      await fresh.stop();
    }
  });
});

/** No workflow with this id, running or closed: the refused request started nothing. */
async function neverStarted(id: string): Promise<void> {
  await expect(handle(id).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
}

/** An AWS Health scheduled change naming `n` fresh instances: one drain each. */
function healthEventFor(w: ReturnType<typeof createTestWorld>, n: number): { event: Envelope; instances: string[] } {
  const event = w.event('health-event');
  const instances = Array.from({ length: n }, newInstanceId);
  event.resources = [];
  event.detail.affectedEntities = instances.map((entityValue) => ({ entityValue, status: 'IMPAIRED' }));
  return { event, instances };
}

describe('what a token may make the router do', () => {
  // A world of its own: its deploy and incident ids are started nowhere else.
  const own = createTestWorld();
  let scoped: TestRouter;
  const deployId = `deploy-${own.cluster}-${own.service}`;
  const received = () => metricValue(scoped, 'fleetops_router_events_received_total');

  beforeAll(async () => {
    scoped = await startTestRouter(own, env.connection, { httpLimits: { maxWorkflowsPerRequest: 5 } });
  });
  afterAll(async () => {
    await scoped?.stop();
  });

  it('the default token may not send an AWS event: 403 naming aws-events, no drain started', async () => {
    const e = own.event('spot-interruption-warning');
    const res = await scoped.post(e, bearer(TEST_TOKEN));
    expect(res).toMatchObject({ status: 403, body: { error: 'aws.ec2 / EC2 Spot Instance Interruption Warning: token "default" lacks the aws-events scope' } });
    await neverStarted(`drain-${e.detail['instance-id'] as string}`);
    // The same event with the aws-events token is carried out.
    expect((await scoped.post(e, bearer(AWS_EVENTS_TEST_TOKEN))).body.results[0]).toMatchObject({ action: 'started' });
  });

  it('a forced deploy without the force scope: 403, no deploy started', async () => {
    const e = own.event('deploy-requested');
    e.detail.force = true;
    const before = await received();
    expect(await scoped.post(e, bearer(TEST_TOKEN))).toMatchObject({ status: 403, body: { error: 'fleetops / Deploy Requested: token "default" lacks the force scope' } });
    await neverStarted(deployId);
    expect(await received()).toBe(before);
  });

  it("a deploy's requester is the token, whatever requestedBy says", async () => {
    const e = own.event('deploy-requested');
    e.detail.requestedBy = 'the-cto';
    expect((await scoped.post(e, bearer(TEST_TOKEN))).body.results[0]).toEqual({ eventId: e.id, action: 'started', workflowId: deployId });
    try {
      expect((await startedWith(handle(deployId))).args).toEqual([expect.objectContaining({ requestedBy: 'token:default' })]);
    } finally {
      await handle(deployId).terminate('test done');
    }
  });

  it('a batch with one forbidden event: 403 and none of the others started', async () => {
    const incident = own.event('incident-declared');
    const drain = own.event('rebalance-recommendation');
    const warning = own.event('spot-interruption-warning');
    const before = await received();
    const res = await scoped.post([incident, drain, warning], bearer(TEST_TOKEN));
    expect(res).toMatchObject({ status: 403, body: { error: expect.stringMatching(/^events\[1\] \(aws\.ec2 \/ EC2 Instance Rebalance Recommendation\): token "default" lacks the aws-events scope$/) } });
    const incidentId = `incident-checkout-latency-${own.cluster.slice(2)}-${shortIdOf(incident.id)}`;
    await Promise.all([neverStarted(incidentId), neverStarted(`drain-${drain.detail['instance-id'] as string}`), neverStarted(`drain-${warning.detail['instance-id'] as string}`)]);
    expect(await received()).toBe(before);
    // The incident alone is the default token's to declare: this is the id it would have had.
    expect((await scoped.post(incident, bearer(TEST_TOKEN))).body.results[0]).toEqual({ eventId: incident.id, action: 'started', workflowId: incidentId });
  });

  it('a request that would start more workflows than the limit: 413 before anything is dispatched', async () => {
    const { event, instances } = healthEventFor(own, 6);
    const before = await received();
    const res = await scoped.post(event, bearer(AWS_EVENTS_TEST_TOKEN));
    expect(res).toEqual({ status: 413, body: { error: 'events: would start or signal 6 workflows; at most 5 per request (split the batch)' } });
    await Promise.all(instances.map((i) => neverStarted(`drain-${i}`)));
    expect(await received()).toBe(before);
    expect(await metricValue(scoped, 'fleetops_router_events_invalid_total', { reason: 'fan_out', transport: 'http' })).toBe(1);
    // Summed over the batch: 3 + 3 is over 5 too; 5 alone is not.
    const [a, b] = [healthEventFor(own, 3), healthEventFor(own, 3)];
    expect((await scoped.post([a.event, b.event], bearer(AWS_EVENTS_TEST_TOKEN))).status).toBe(413);
    await Promise.all([...a.instances, ...b.instances].map((i) => neverStarted(`drain-${i}`)));
    const five = healthEventFor(own, 5);
    expect((await scoped.post(five.event, bearer(AWS_EVENTS_TEST_TOKEN))).body.results.map((r: { action: string }) => r.action)).toEqual(Array(5).fill('started'));
  });

  it('the default limit (1,000) refuses a 100-event batch of AWS Health events naming 11 instances each', async () => {
    const batch = Array.from({ length: 100 }, () => healthEventFor(world, 11));
    const res = await router.post(batch.map((b) => b.event), bearer(AWS_EVENTS_TEST_TOKEN));
    expect(res).toMatchObject({ status: 413, body: { error: 'events: would start or signal 1100 workflows; at most 1000 per request (split the batch)' } });
    // A sample of the 1,100 would-be drains (describing each would take longer than the point needs).
    await Promise.all(batch.slice(0, 10).map((b) => neverStarted(`drain-${b.instances[0]}`)));
  });
});

describe('auth, errors and operations endpoints', () => {
  it('never logs the token or an event body at info level', async () => {
    const marker = 'secret-marker-in-event-body';
    const e = world.event('incident-declared', { title: marker });
    await router.post(e);
    await router.post({ ...e, time: marker });
    await router.post(e, { authorization: `Bearer ${TEST_TOKEN}x` });
    const text = router.logs.join('');
    expect(text).toContain('events accepted');
    for (const t of TEST_TOKENS) expect(text).not.toContain(t.secret);
    expect(text).not.toContain(marker);
  });

  it('/healthz and /readyz answer 200 while Temporal is reachable; /metrics has the counters and the latency histogram', async () => {
    expect((await router.get('/healthz')).status).toBe(200);
    expect(JSON.parse((await router.get('/readyz')).text)).toEqual({ status: 'ready' });
    const { text } = await router.get('/metrics');
    expect(text).toMatch(/fleetops_router_events_received_total\{kind="spot-interruption-warning",transport="http"\} \d+/);
    expect(text).toMatch(/fleetops_router_events_routed_total\{action="started",kind="deploy-requested",transport="http"\} \d+/);
    expect(text).toMatch(/fleetops_router_temporal_call_seconds_bucket\{le="0.1",operation="signalWithStart",outcome="started"\} \d+/);
  });

  it('503 with an error body while Temporal is unreachable, counted by route and code; /readyz 503; /healthz still 200', async () => {
    const dead = Connection.lazy({ address: '127.0.0.1:1' });
    deadConnections.push(dead);
    const down = await startTestRouter(world, dead, { callTimeoutMs: 1_000 });
    try {
      const res = await down.post(world.event('spot-interruption-warning'));
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ error: expect.stringContaining('temporal unavailable') });
      expect((await down.get('/readyz')).status).toBe(503);
      expect((await down.get('/healthz')).status).toBe(200);
      // Counted when the 503 goes out (no answer within 1.5 s), and once more when the call itself gives up.
      expect(await metricValue(down, 'fleetops_router_events_failed_total', { reason: 'temporal_no_answer', transport: 'http' })).toBe(1);
      // Each answer by route and code: what the router-503s alert (deploy/prometheus/rules.yml) reads.
      expect(await metricValue(down, 'fleetops_router_http_responses_total', { route: '/events', code: '503' })).toBe(1);
      expect(await metricValue(down, 'fleetops_router_http_responses_total', { route: '/readyz', code: '503' })).toBe(1);
      expect(await metricValue(down, 'fleetops_router_http_responses_total', { route: '/healthz', code: '200' })).toBe(1);
    } finally {
      await down.stop();
    }
  });

  it('a fresh Dispatcher carries a decision out without HTTP (the SQS path uses the same one)', async () => {
    const e = world.event('lifecycle-terminate') as Envelope;
    const parsed = parseEvent(e);
    if (!parsed.ok) throw new Error(parsed.error);
    const dispatcher = new Dispatcher({ connection: env.connection, namespace: 'default', metrics: createRouterMetrics() });
    const [decision] = decisionsOf(routeEvent(parsed.event, world.config));
    expect(await dispatcher.dispatch(e.id, parsed.event.kind, decision!, 'sqs')).toEqual({ eventId: e.id, action: 'started', workflowId: `drain-${e.detail.EC2InstanceId}` });
    expect(await dispatcher.dispatch(e.id, parsed.event.kind, decision!, 'sqs')).toMatchObject({ action: 'duplicate' });
  });
});
