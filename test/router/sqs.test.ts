import { AWS_APP_IDS } from '../../common/aws-app-ids';
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Connection, WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Dispatcher, type DispatchResult } from '../../router/dispatch';
import type { Transport } from '../../router/metrics';
import { createRouterMetrics } from '../../router/metrics';
import type { RouteDecision } from '../../router/routes';
import { SqsConsumer } from '../../router/sqs-consumer';
import { startEmulator, type Emulator } from '../../testkit/emulator';
import { ROOT } from '../../testkit/paths';
import { until } from '../../testkit/poll';
import { connectDevServer } from '../harness/temporal';
import { createTestWorld, newInstanceId, type Envelope } from '../../testkit/router/fixtures';
import { captureLogger, histogramCount, metricValue, startedWith, startTestRouter, type TestRouter } from '../../testkit/router/router-harness';
import { createQueues, depth, sendAll, spawnRouter } from '../../testkit/router/sqs-harness';
import { startTcpProxy } from './tcp-proxy';

let env: TestWorkflowEnvironment;
let emu: Emulator;
/** The test's own (creating queues, sending, reading back) and the router's (its app id: the IAM proof records its calls). */
let sqs: SQSClient;
let routerSqs: SQSClient;
const world = createTestWorld();
let queueCounter = 0;
/** Connections to a dead address, closed only after the suite: closing one while the SDK still has a
 * retry of a failed call scheduled makes that retry throw "Channel has been shut down" later. */
const deadConnections: Connection[] = [];
const queueName = () => `${world.cluster}-${++queueCounter}`;

beforeAll(async () => {
  [env, emu] = await Promise.all([connectDevServer(), startEmulator()]);
  // The consumer's own client: SDK retries on, like production's router.
  sqs = new SQSClient({ region: emu.region, endpoint: emu.endpoint });
  routerSqs = new SQSClient({ region: emu.region, endpoint: emu.endpoint, userAgentAppId: AWS_APP_IDS.router });
});
afterAll(async () => {
  sqs?.destroy();
  routerSqs?.destroy();
  await Promise.all(deadConnections.map((c) => c.close()));
  await emu?.stop();
  await env?.teardown();
});
afterEach(() => emu.sim.clearFaults());

const handle = (id: string) => env.client.workflow.getHandle(id);
const exists = async (id: string) =>
  handle(id)
    .describe()
    .then(() => true)
    .catch((err) => {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    });

async function sqsRouter(
  queueUrl: string,
  connection = env.connection,
  extra: { visibilityTimeoutSeconds?: number; dlqPollMs?: number; probeIntervalMs?: number } = {},
): Promise<TestRouter> {
  return startTestRouter(world, connection, { sqs: { client: routerSqs, queueUrl, waitTimeSeconds: 1, dlqPollMs: 0, ...extra }, callTimeoutMs: 1_000 });
}

describe('SQS consumer against moto', () => {
  it('message → workflow → message deleted', async () => {
    const q = await createQueues(sqs, queueName(), { visibilityTimeout: 10, maxReceiveCount: 3 });
    const e = world.event('spot-interruption-warning');
    await sendAll(sqs, q.url, [JSON.stringify(e)]);
    const router = await sqsRouter(q.url);
    try {
      const id = `drain-${e.detail['instance-id']}`;
      await until('drain workflow', () => exists(id), { timeoutMs: 20_000 });
      await until('queue empty', async () => (await depth(sqs, q.url)).total === 0, { timeoutMs: 20_000 });
      expect((await startedWith(handle(id))).signals).toEqual([{ name: 'drainEvent', arg: expect.objectContaining({ eventId: e.id }) }]);
      expect(await metricValue(router, 'fleetops_router_sqs_messages_total', { outcome: 'deleted' })).toBe(1);
      expect(await metricValue(router, 'fleetops_router_events_routed_total', { action: 'started', transport: 'sqs' })).toBe(1);
      expect((await depth(sqs, q.dlqUrl)).total).toBe(0);
      // Event time → accepted, and SentTimestamp → deleted, one observation each.
      expect(await histogramCount(router, 'fleetops_router_event_age_seconds', { kind: 'spot-interruption-warning', transport: 'sqs' })).toBe(1);
      expect(await histogramCount(router, 'fleetops_router_sqs_message_seconds')).toBe(1);
    } finally {
      await router.stop();
    }
  });

  it('poison messages reach the DLQ after maxReceiveCount, counted and logged once each; good ones beside them are carried out', async () => {
    const q = await createQueues(sqs, queueName(), { visibilityTimeout: 10, maxReceiveCount: 3 });
    const bad = { ...world.event('rebalance-recommendation'), time: 'not a time' };
    const good = world.event('incident-declared');
    await sendAll(sqs, q.url, ['{"truncated":', JSON.stringify(bad), JSON.stringify(good)]);
    const router = await sqsRouter(q.url, env.connection, { dlqPollMs: 60_000 });
    try {
      await until('two messages in the DLQ', async () => (await depth(sqs, q.dlqUrl)).total === 2, { timeoutMs: 30_000, intervalMs: 250 });
      await until('queue empty', async () => (await depth(sqs, q.url)).total === 0, { timeoutMs: 20_000 });
      expect(await metricValue(router, 'fleetops_router_sqs_messages_total', { outcome: 'poison' })).toBe(2);
      expect(await metricValue(router, 'fleetops_router_events_invalid_total', { transport: 'sqs' })).toBe(2);
      const poisonLines = router.logs.filter((l) => l.includes('poison message left for the dead-letter queue'));
      expect(poisonLines).toHaveLength(2);
      expect(poisonLines.join('')).toContain('time: must be an ISO 8601 timestamp');
      expect(await metricValue(router, 'fleetops_router_sqs_messages_total', { outcome: 'deleted' })).toBe(1);
      // The dead-letter queue's depth and oldest message age, as the router reports them.
      await router.consumer!.refreshDlqMetrics();
      expect(await metricValue(router, 'fleetops_router_dlq_messages')).toBe(2);
      expect(await metricValue(router, 'fleetops_router_dlq_oldest_message_age_seconds')).toBeGreaterThan(0);
    } finally {
      await router.stop();
    }
  });

  it('a Deploy Requested from the queue keeps its requestedBy; a forced one is dead-lettered as invalid, with the reason, and starts nothing', async () => {
    const q = await createQueues(sqs, queueName(), { visibilityTimeout: 10, maxReceiveCount: 2 });
    const deployId = `deploy-${world.cluster}-${world.service}`;
    const forced = world.event('deploy-requested');
    forced.detail.force = true;
    await sendAll(sqs, q.url, [JSON.stringify(forced)]);
    const router = await sqsRouter(q.url, env.connection);
    try {
      await until('the forced deploy in the DLQ', async () => (await depth(sqs, q.dlqUrl)).total === 1, { timeoutMs: 30_000, intervalMs: 250 });
      expect(await exists(deployId)).toBe(false);
      expect(await metricValue(router, 'fleetops_router_events_invalid_total', { reason: 'validation', transport: 'sqs' })).toBe(1);
      expect(router.logs.find((l) => l.includes('poison message left for the dead-letter queue'))).toContain(
        'fleetops / Deploy Requested: detail.force: a deploy through a freeze is not accepted from the events queue',
      );

      const deploy = world.event('deploy-requested');
      await sendAll(sqs, q.url, [JSON.stringify(deploy)]);
      await until('the deploy started', () => exists(deployId), { timeoutMs: 20_000 });
      expect((await startedWith(handle(deployId))).args).toEqual([{ cluster: world.cluster, service: world.service, image: deploy.detail.image, requestedBy: 'alice' }]);
      await until('queue empty', async () => (await depth(sqs, q.url)).total === 0, { timeoutMs: 20_000 });
      expect((await depth(sqs, q.dlqUrl)).total).toBe(1);
    } finally {
      await router.stop();
      await handle(deployId).terminate('test done').catch(() => undefined);
    }
  });

  it("the lifecycle queue takes the ASG's own notification format, each event's account the queue's, not the body's; a hook's test notification is deleted, not dead-lettered", async () => {
    const events = await createQueues(sqs, queueName(), { visibilityTimeout: 10, maxReceiveCount: 2 });
    const lifecycle = await createQueues(sqs, `${queueName()}-lifecycle`, { visibilityTimeout: 10, maxReceiveCount: 2 });
    const examples = join(ROOT, 'router', 'events', 'examples', 'asg-direct');
    // The body names another account; the queue is in moto's, where the config places the cluster
    // (aws.account set: events are routed by account). Taken from the body, the launch would be ignored.
    const launch = { ...JSON.parse(readFileSync(join(examples, 'lifecycle-launch.json'), 'utf8')), RequestId: randomUUID(), EC2InstanceId: newInstanceId(), AutoScalingGroupName: 'demo-on-demand', AccountId: '999999999999' };
    const terminate = { ...JSON.parse(readFileSync(join(examples, 'lifecycle-terminate.json'), 'utf8')), RequestId: randomUUID(), EC2InstanceId: newInstanceId() };
    const test = { ...JSON.parse(readFileSync(join(examples, 'test-notification.json'), 'utf8')), RequestId: randomUUID() };
    await sendAll(sqs, lifecycle.url, [launch, terminate, test].map((b) => JSON.stringify(b)));
    const config = { ...world.config, aws: { ...world.config.aws, account: '123456789012' } };
    const router = await startTestRouter(world, env.connection, {
      config,
      sqs: { client: sqs, queueUrl: events.url, lifecycleQueueUrl: lifecycle.url, waitTimeSeconds: 1, dlqPollMs: 60_000 },
      callTimeoutMs: 1_000,
    });
    try {
      await until('lifecycle queue empty', async () => (await depth(sqs, lifecycle.url)).total === 0, { timeoutMs: 20_000 });
      const started = await startedWith(handle(`launch-${launch.EC2InstanceId}`));
      expect(started.args).toEqual([expect.objectContaining({ instanceId: launch.EC2InstanceId, cluster: world.cluster, eventId: launch.RequestId })]);
      expect((await startedWith(handle(`drain-${terminate.EC2InstanceId}`))).signals).toEqual([
        { name: 'drainEvent', arg: expect.objectContaining({ kind: 'lifecycle-terminate', eventId: terminate.RequestId }) },
      ]);
      expect(await metricValue(router, 'fleetops_router_events_ignored_total', { kind: 'lifecycle-test-notification', transport: 'sqs' })).toBe(1);
      const ignored = router.logs.filter((l) => l.includes('"msg":"event ignored"'));
      expect(ignored).toHaveLength(1);
      expect(JSON.parse(ignored[0]!)).toMatchObject({ level: 30, eventId: test.RequestId, reason: expect.stringContaining('autoscaling:TEST_NOTIFICATION for my-asg') });
      expect((await depth(sqs, lifecycle.dlqUrl)).total).toBe(0);
      expect(await metricValue(router, 'fleetops_router_sqs_messages_total', { outcome: 'deleted' })).toBe(3);
    } finally {
      await router.stop();
    }
  });

  it('each queue refuses the other\'s format: an ASG notification on the events queue is not from EventBridge, an envelope on the lifecycle queue is not from Auto Scaling; both are dead-lettered', async () => {
    const events = await createQueues(sqs, queueName(), { visibilityTimeout: 10, maxReceiveCount: 2 });
    const lifecycle = await createQueues(sqs, `${queueName()}-lifecycle`, { visibilityTimeout: 10, maxReceiveCount: 2 });
    const asg = { ...JSON.parse(readFileSync(join(ROOT, 'router', 'events', 'examples', 'asg-direct', 'lifecycle-terminate.json'), 'utf8')), RequestId: randomUUID(), EC2InstanceId: newInstanceId() };
    const envelope = world.event('spot-interruption-warning');
    await sendAll(sqs, events.url, [JSON.stringify(asg)]);
    await sendAll(sqs, lifecycle.url, [JSON.stringify(envelope)]);
    const router = await startTestRouter(world, env.connection, {
      sqs: { client: sqs, queueUrl: events.url, lifecycleQueueUrl: lifecycle.url, waitTimeSeconds: 1, dlqPollMs: 0 },
      callTimeoutMs: 1_000,
    });
    try {
      await until('both dead-lettered', async () => (await depth(sqs, events.dlqUrl)).total === 1 && (await depth(sqs, lifecycle.dlqUrl)).total === 1, { timeoutMs: 30_000, intervalMs: 250 });
      const poison = router.logs.filter((l) => l.includes('poison message left for the dead-letter queue')).map((l) => (JSON.parse(l) as { error: string }).error);
      expect(poison.sort()).toEqual([
        'an Auto Scaling notification is not from EventBridge: this queue takes EventBridge events only (a lifecycle hook notifies the lifecycle queue)',
        'not an Auto Scaling notification: the lifecycle queue takes the notifications of lifecycle hooks only',
      ]);
      expect(await exists(`drain-${asg.EC2InstanceId}`)).toBe(false);
      expect(await exists(`drain-${envelope.detail['instance-id']}`)).toBe(false);
    } finally {
      await router.stop();
    }
  });

  it('while Temporal does not answer it stops receiving: events wait on the queue past maxReceiveCount × visibility, none reaches the DLQ; all are carried out when Temporal answers', async () => {
    const q = await createQueues(sqs, queueName(), { visibilityTimeout: 2, maxReceiveCount: 2 });
    const proxy = await startTcpProxy(process.env.FLEETOPS_TEST_TEMPORAL_ADDRESS as string);
    // Reconnects within a second of Temporal coming back, as router/main.ts configures its connection.
    const connection = await Connection.connect({
      address: proxy.address,
      channelArgs: { 'grpc.initial_reconnect_backoff_ms': 200, 'grpc.max_reconnect_backoff_ms': 1_000 },
    });
    deadConnections.push(connection);
    const router = await sqsRouter(q.url, connection, { probeIntervalMs: 250 });
    try {
      const before = world.event('spot-interruption-warning');
      await sendAll(sqs, q.url, [JSON.stringify(before)]);
      await until('the first warning carried out', () => exists(`drain-${before.detail['instance-id']}`), { timeoutMs: 20_000 });

      await proxy.down();
      const held = world.event('spot-interruption-warning');
      await sendAll(sqs, q.url, [JSON.stringify(held)]);
      await until('receiving paused', async () => (await metricValue(router, 'fleetops_router_sqs_receiving_paused')) === 1, { timeoutMs: 20_000 });
      const waiting = [world.event('spot-interruption-warning'), world.event('lifecycle-terminate'), world.event('rebalance-recommendation')];
      await sendAll(sqs, q.url, waiting.map((e) => JSON.stringify(e)));
      // The outage lasts longer than maxReceiveCount × visibility timeout (2 × 2 s): a consumer that kept
      // receiving would have moved every one of them to the DLQ by then.
      const outageEnd = Date.now() + 6_000;
      while (Date.now() < outageEnd) {
        // Held in hand (kept invisible) or waiting on the queue; a long poll already under way when the
        // pause began may have taken one more into hand. Nothing left, nothing dead-lettered.
        expect((await depth(sqs, q.url)).total).toBe(4);
        expect((await depth(sqs, q.dlqUrl)).total).toBe(0);
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(router.logs.join('')).toContain('Temporal unavailable: SQS receiving paused');

      await proxy.up();
      await until('queue empty', async () => (await depth(sqs, q.url)).total === 0, { timeoutMs: 30_000, intervalMs: 250 });
      const instanceIds = [held, ...waiting].map((e) => (e.detail['instance-id'] ?? e.detail.EC2InstanceId) as string);
      for (const id of instanceIds) expect(await exists(`drain-${id}`)).toBe(true);
      expect((await depth(sqs, q.dlqUrl)).total).toBe(0);
      expect(await metricValue(router, 'fleetops_router_sqs_receiving_paused')).toBe(0);
      expect(router.logs.join('')).toContain('Temporal answers again: SQS receiving resumed');
      // Every message was received once: held ones were kept, not redelivered, the rest waited unreceived.
      expect(await metricValue(router, 'fleetops_router_sqs_messages_total', { outcome: 'received' })).toBe(5);
      expect(await metricValue(router, 'fleetops_router_sqs_messages_total', { outcome: 'deleted' })).toBe(5);
    } finally {
      await router.stop();
      await proxy.close();
    }
  });

  it('stopped while Temporal is down, it leaves the held message on the queue (not deleted, not dead-lettered)', async () => {
    const q = await createQueues(sqs, queueName(), { visibilityTimeout: 2, maxReceiveCount: 10 });
    const e = world.event('lifecycle-terminate');
    await sendAll(sqs, q.url, [JSON.stringify(e)]);
    const dead = Connection.lazy({ address: '127.0.0.1:1' });
    deadConnections.push(dead);
    const down = await sqsRouter(q.url, dead, { probeIntervalMs: 250 });
    try {
      await until('receiving paused', async () => (await metricValue(down, 'fleetops_router_sqs_receiving_paused')) === 1, { timeoutMs: 20_000 });
    } finally {
      await down.stop();
    }
    expect(await metricValue(down, 'fleetops_router_sqs_messages_total', { outcome: 'retry' })).toBe(1);
    expect((await depth(sqs, q.url)).total).toBe(1);
    const up = await sqsRouter(q.url);
    try {
      await until('queue empty', async () => (await depth(sqs, q.url)).total === 0, { timeoutMs: 20_000 });
      expect(await exists(`drain-${e.detail.EC2InstanceId}`)).toBe(true);
    } finally {
      await up.stop();
    }
  });

  it('a slow start keeps its message invisible (visibility extended), then deletes it', async () => {
    const q = await createQueues(sqs, queueName(), { visibilityTimeout: 2, maxReceiveCount: 10 });
    await sendAll(sqs, q.url, [JSON.stringify(world.event('incident-declared'))]);
    const metrics = createRouterMetrics();
    class SlowDispatcher extends Dispatcher {
      override async dispatch(eventId: string, kind: string, decision: RouteDecision, transport: Transport): Promise<DispatchResult> {
        await new Promise((r) => setTimeout(r, 5_000));
        return super.dispatch(eventId, kind, decision, transport);
      }
    }
    const logs: string[] = [];
    const consumer = new SqsConsumer({
      config: world.config,
      dispatcher: new SlowDispatcher({ connection: env.connection, namespace: 'default', metrics }),
      metrics,
      log: captureLogger(logs),
      sqs,
      queueUrl: q.url,
      waitTimeSeconds: 1,
    });
    await consumer.start();
    try {
      await until('message received', async () => (await depth(sqs, q.url)).inFlight === 1, { timeoutMs: 20_000 });
      // Another consumer polling for longer than the visibility timeout must not see the message.
      const stolen: number[] = [];
      const watchEnd = Date.now() + 4_000;
      while (Date.now() < watchEnd) {
        const res = await emu.aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: q.url, WaitTimeSeconds: 0, VisibilityTimeout: 0 }));
        stolen.push(res.Messages?.length ?? 0);
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(stolen.every((n) => n === 0)).toBe(true);
      await until('queue empty', async () => (await depth(sqs, q.url)).total === 0, { timeoutMs: 20_000 });
      expect(await metricValue({ metrics } as TestRouter, 'fleetops_router_sqs_visibility_extensions_total')).toBeGreaterThanOrEqual(2);
    } finally {
      await consumer.stop();
    }
  });
});

describe('the router process', () => {
  function mixedEvents(n: number): { events: Envelope[]; instances: string[] } {
    const instances = Array.from({ length: Math.ceil(n / 4) }, newInstanceId);
    const events: Envelope[] = [];
    for (let i = 0; i < n; i++) {
      const kind = (['spot-interruption-warning', 'rebalance-recommendation', 'incident-declared', 'alarm-state-change'] as const)[i % 4];
      events.push(world.event(kind, { instanceId: instances[Math.floor(i / 4) % instances.length] }));
    }
    return { events, instances };
  }

  /** Every event id is in exactly one place in Temporal: a drain's or capacity's signals, or a declared incident. */
  async function assertEachEventOnce(events: Envelope[]): Promise<void> {
    const seen = new Map<string, number>();
    const count = (id: string) => seen.set(id, (seen.get(id) ?? 0) + 1);
    const drainIds = new Set<string>();
    for (const e of events) {
      if (e.detail['instance-id']) drainIds.add(`drain-${e.detail['instance-id']}`);
    }
    for (const id of [...drainIds, `capacity-${world.cluster}`]) {
      for (const s of (await startedWith(handle(id))).signals) {
        const arg = s.arg as { eventId?: string; source?: { eventId: string } };
        count(arg.eventId ?? (arg.source?.eventId as string));
      }
    }
    for (const e of events.filter((x) => x['detail-type'] === 'Incident Declared')) {
      const { args } = await startedWith(env.client.workflow.getHandle((await findDeclared(e)) as string));
      count((args[0] as { source: { eventId: string } }).source.eventId);
    }
    const ids = events.map((e) => e.id);
    expect(ids.filter((id) => seen.get(id) !== 1)).toEqual([]);
  }

  async function findDeclared(e: Envelope): Promise<string | undefined> {
    const { shortIdOf } = await import('../../router/routes');
    const { declaredIncidentWorkflowId } = await import('../../common/workflow-ids');
    return declaredIncidentWorkflowId(e.detail.title as string, shortIdOf(e.id));
  }

  it.each([
    ['abc', 'FLEETOPS_ROUTER_SQS_MAX_IN_FLIGHT: must be an integer from 1 to 10000 (SQS messages worked on at once) (got "abc")'],
    ['0', 'FLEETOPS_ROUTER_SQS_MAX_IN_FLIGHT: must be an integer from 1 to 10000 (SQS messages worked on at once) (got "0")'],
  ])('FLEETOPS_ROUTER_SQS_MAX_IN_FLIGHT=%s is refused at start with exit 2, naming the variable', (value, message) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'router', 'main.ts')], {
      cwd: ROOT,
      env: { ...process.env, FLEETOPS_CONFIG: join(ROOT, 'config', 'demo.fleetops.yaml'), FLEETOPS_ROUTER_TOKEN: 'x'.repeat(32), FLEETOPS_ROUTER_SQS_MAX_IN_FLIGHT: value },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`fleetops router: ${message}`);
  });

  it('SIGTERM mid-batch: stops receiving, finishes in-flight messages, exits 0 within 10 s', async () => {
    const q = await createQueues(sqs, queueName(), { visibilityTimeout: 30, maxReceiveCount: 5 });
    const { events } = mixedEvents(10);
    await sendAll(sqs, q.url, events.map((e) => JSON.stringify(e)));
    await emu.sim.setFaults({ service: 'sqs', action: 'DeleteMessageBatch', fault: { kind: 'latency', ms: 1_500 } });
    const proc = await spawnRouter(world, {
      FLEETOPS_TEMPORAL_ADDRESS: process.env.FLEETOPS_TEST_TEMPORAL_ADDRESS as string,
      FLEETOPS_EVENTS_QUEUE_URL: q.url,
      FLEETOPS_AWS_ENDPOINT: emu.endpoint,
    });
    try {
      expect((await fetch(`${proc.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${proc.url}/readyz`)).status).toBe(200);
      await until('messages in flight', async () => (await depth(sqs, q.url)).inFlight > 0, { timeoutMs: 20_000 });
      proc.kill('SIGTERM');
      const exit = await proc.exited;
      expect(exit.code).toBe(0);
      expect(exit.ms).toBeLessThan(10_000);
      expect(proc.output()).toContain('router stopped');
      // Whatever it had received it finished and deleted: nothing is left in flight.
      expect((await depth(sqs, q.url)).inFlight).toBe(0);
    } finally {
      if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
    }
    const rest = await sqsRouter(q.url);
    try {
      await until('queue empty', async () => (await depth(sqs, q.url)).total === 0, { timeoutMs: 20_000 });
    } finally {
      await rest.stop();
    }
    await assertEachEventOnce(events);
  });

  it('two routers on one queue, one killed (SIGKILL) in the middle of a batch: the other carries its messages out, no event lost, never a second start', async () => {
    // Until the kill every delete fails, so a message comes back every 3 s: receives enough not to
    // dead-letter one however slowly the routers start on a busy machine.
    const q = await createQueues(sqs, queueName(), { visibilityTimeout: 3, maxReceiveCount: 50 });
    const { events } = mixedEvents(40);
    await sendAll(sqs, q.url, events.map((e) => JSON.stringify(e)));
    // Deletes fail (SQS answers 500), so the kill lands after workflows started and before their
    // messages were deleted; meanwhile redeliveries are carried out again by either router (duplicates).
    await emu.sim.setFaults({ service: 'sqs', action: 'DeleteMessageBatch', fault: { kind: 'error', status: 500 } });
    const proc = await spawnRouter(world, {
      FLEETOPS_TEMPORAL_ADDRESS: process.env.FLEETOPS_TEST_TEMPORAL_ADDRESS as string,
      FLEETOPS_EVENTS_QUEUE_URL: q.url,
      FLEETOPS_AWS_ENDPOINT: emu.endpoint,
      FLEETOPS_ROUTER_SQS_MAX_IN_FLIGHT: '10',
    });
    let other: TestRouter | undefined;
    try {
      try {
        // The first router alone started workflows whose messages it cannot delete: a batch in its hands.
        await until('first workflows started', () => exists(`drain-${events[0].detail['instance-id']}`), { timeoutMs: 20_000 });
        // The second consumes the same queue beside it, as a second replica does, until the kill.
        const replica = await sqsRouter(q.url);
        other = replica;
        await until('the second router carrying events out', async () => (await metricValue(replica, 'fleetops_router_events_routed_total', { transport: 'sqs' })) > 0, {
          timeoutMs: 20_000,
          intervalMs: 50,
        });
        proc.kill('SIGKILL');
        expect((await proc.exited).signal).toBe('SIGKILL');
      } finally {
        if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
      }
      expect((await depth(sqs, q.url)).total).toBeGreaterThan(0);
      await emu.sim.clearFaults();
      const second = other;
      await until('queue empty', async () => (await depth(sqs, q.url)).total === 0, { timeoutMs: 40_000, intervalMs: 250 });
      expect((await depth(sqs, q.dlqUrl)).total).toBe(0);
      const routed = await metricValue(second, 'fleetops_router_events_routed_total', { transport: 'sqs' });
      const started = await metricValue(second, 'fleetops_router_events_routed_total', { transport: 'sqs', action: 'started' });
      const signaled = await metricValue(second, 'fleetops_router_events_routed_total', { transport: 'sqs', action: 'signaled' });
      const duplicate = await metricValue(second, 'fleetops_router_events_routed_total', { transport: 'sqs', action: 'duplicate' });
      expect(routed).toBeGreaterThan(0);
      expect(started + signaled + duplicate).toBe(routed);
    } finally {
      await other?.stop();
    }
    await assertEachEventOnce(events);
  });
});
