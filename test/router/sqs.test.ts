import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Connection, WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Dispatcher, type DispatchResult } from '../../router/dispatch';
import type { Transport } from '../../router/metrics';
import { createRouterMetrics } from '../../router/metrics';
import type { RouteDecision } from '../../router/routes';
import { SqsConsumer } from '../../router/sqs-consumer';
import { startEmulator, type Emulator } from '../harness/emulator';
import { connectDevServer } from '../harness/temporal';
import { createTestWorld, newInstanceId, type Envelope } from './fixtures';
import { captureLogger, metricValue, startedWith, startTestRouter, type TestRouter } from './router-harness';
import { createQueues, depth, sendAll, spawnRouter, waitFor } from './sqs-harness';

let env: TestWorkflowEnvironment;
let emu: Emulator;
let sqs: SQSClient;
const world = createTestWorld();
let queueCounter = 0;
/** Connections to a dead address, closed only after the suite: closing one while the SDK still has a
 * retry of a failed call scheduled makes that retry throw "Channel has been shut down" later. */
const deadConnections: Connection[] = [];
const queueName = () => `${world.cluster}-events-${++queueCounter}`;

beforeAll(async () => {
  [env, emu] = await Promise.all([connectDevServer(), startEmulator()]);
  // The consumer's own client: SDK retries on, like production's router.
  sqs = new SQSClient({ region: emu.region, endpoint: emu.endpoint });
});
afterAll(async () => {
  sqs?.destroy();
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

async function sqsRouter(queueUrl: string, connection = env.connection, extra: { visibilityTimeoutSeconds?: number } = {}): Promise<TestRouter> {
  return startTestRouter(world, connection, { sqs: { client: sqs, queueUrl, waitTimeSeconds: 1, ...extra }, callTimeoutMs: 1_000 });
}

describe('SQS consumer against moto', () => {
  it('message → workflow → message deleted', async () => {
    const q = await createQueues(sqs, queueName(), { visibilityTimeout: 10, maxReceiveCount: 3 });
    const e = world.event('spot-interruption-warning');
    await sendAll(sqs, q.url, [JSON.stringify(e)]);
    const router = await sqsRouter(q.url);
    try {
      const id = `drain-${e.detail['instance-id']}`;
      await waitFor('drain workflow', () => exists(id));
      await waitFor('queue empty', async () => (await depth(sqs, q.url)).total === 0);
      expect((await startedWith(handle(id))).signals).toEqual([{ name: 'drainEvent', arg: expect.objectContaining({ eventId: e.id }) }]);
      expect(await metricValue(router, 'fleetops_router_sqs_messages_total', { outcome: 'deleted' })).toBe(1);
      expect(await metricValue(router, 'fleetops_router_events_routed_total', { action: 'started', transport: 'sqs' })).toBe(1);
      expect((await depth(sqs, q.dlqUrl)).total).toBe(0);
    } finally {
      await router.stop();
    }
  });

  it('poison messages reach the DLQ after maxReceiveCount, counted and logged once each; good ones beside them are carried out', async () => {
    const q = await createQueues(sqs, queueName(), { visibilityTimeout: 10, maxReceiveCount: 3 });
    const bad = { ...world.event('rebalance-recommendation'), time: 'not a time' };
    const good = world.event('incident-declared');
    await sendAll(sqs, q.url, ['{"truncated":', JSON.stringify(bad), JSON.stringify(good)]);
    const router = await sqsRouter(q.url);
    try {
      await waitFor('two messages in the DLQ', async () => (await depth(sqs, q.dlqUrl)).total === 2, 30_000, 250);
      await waitFor('queue empty', async () => (await depth(sqs, q.url)).total === 0);
      expect(await metricValue(router, 'fleetops_router_sqs_messages_total', { outcome: 'poison' })).toBe(2);
      expect(await metricValue(router, 'fleetops_router_events_invalid_total', { transport: 'sqs' })).toBe(2);
      const poisonLines = router.logs.filter((l) => l.includes('poison message left for the dead-letter queue'));
      expect(poisonLines).toHaveLength(2);
      expect(poisonLines.join('')).toContain('time: must be an ISO 8601 timestamp');
      expect(await metricValue(router, 'fleetops_router_sqs_messages_total', { outcome: 'deleted' })).toBe(1);
    } finally {
      await router.stop();
    }
  });

  it('while Temporal is unreachable a message stays on the queue; it is carried out when Temporal is back', async () => {
    const q = await createQueues(sqs, queueName(), { visibilityTimeout: 2, maxReceiveCount: 10 });
    const e = world.event('lifecycle-terminate');
    await sendAll(sqs, q.url, [JSON.stringify(e)]);
    const dead = Connection.lazy({ address: '127.0.0.1:1' });
    deadConnections.push(dead);
    const down = await sqsRouter(q.url, dead);
    try {
      await waitFor('a failed attempt', async () => (await metricValue(down, 'fleetops_router_sqs_messages_total', { outcome: 'retry' })) >= 1);
    } finally {
      await down.stop();
    }
    expect((await depth(sqs, q.url)).total).toBe(1);
    const up = await sqsRouter(q.url);
    try {
      await waitFor('queue empty', async () => (await depth(sqs, q.url)).total === 0, 20_000);
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
      await waitFor('message received', async () => (await depth(sqs, q.url)).inFlight === 1);
      // Another consumer polling for longer than the visibility timeout must not see the message.
      const stolen: number[] = [];
      const until = Date.now() + 4_000;
      while (Date.now() < until) {
        const res = await emu.aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: q.url, WaitTimeSeconds: 0, VisibilityTimeout: 0 }));
        stolen.push(res.Messages?.length ?? 0);
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(stolen.every((n) => n === 0)).toBe(true);
      await waitFor('queue empty', async () => (await depth(sqs, q.url)).total === 0);
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
      await waitFor('messages in flight', async () => (await depth(sqs, q.url)).inFlight > 0);
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
      await waitFor('queue empty', async () => (await depth(sqs, q.url)).total === 0);
    } finally {
      await rest.stop();
    }
    await assertEachEventOnce(events);
  });

  it('killed (SIGKILL) in the middle of a batch, it loses no event: redelivery gives started, signaled or duplicate, never a second start', async () => {
    const q = await createQueues(sqs, queueName(), { visibilityTimeout: 3, maxReceiveCount: 5 });
    const { events } = mixedEvents(40);
    await sendAll(sqs, q.url, events.map((e) => JSON.stringify(e)));
    // Deletes are slow, so the kill lands after workflows started and before their messages were deleted.
    await emu.sim.setFaults({ service: 'sqs', action: 'DeleteMessageBatch', fault: { kind: 'latency', ms: 2_000 } });
    const proc = await spawnRouter(world, {
      FLEETOPS_TEMPORAL_ADDRESS: process.env.FLEETOPS_TEST_TEMPORAL_ADDRESS as string,
      FLEETOPS_EVENTS_QUEUE_URL: q.url,
      FLEETOPS_AWS_ENDPOINT: emu.endpoint,
    });
    try {
      await waitFor('first workflows started', () => exists(`drain-${events[0].detail['instance-id']}`));
      await new Promise((r) => setTimeout(r, 500));
      proc.kill('SIGKILL');
      expect((await proc.exited).signal).toBe('SIGKILL');
    } finally {
      if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
    }
    expect((await depth(sqs, q.url)).total).toBeGreaterThan(0);
    await emu.sim.clearFaults();

    const second = await sqsRouter(q.url);
    try {
      await waitFor('queue empty', async () => (await depth(sqs, q.url)).total === 0, 40_000, 250);
      expect((await depth(sqs, q.dlqUrl)).total).toBe(0);
      const routed = await metricValue(second, 'fleetops_router_events_routed_total', { transport: 'sqs' });
      const started = await metricValue(second, 'fleetops_router_events_routed_total', { transport: 'sqs', action: 'started' });
      const signaled = await metricValue(second, 'fleetops_router_events_routed_total', { transport: 'sqs', action: 'signaled' });
      const duplicate = await metricValue(second, 'fleetops_router_events_routed_total', { transport: 'sqs', action: 'duplicate' });
      expect(routed).toBeGreaterThan(0);
      expect(started + signaled + duplicate).toBe(routed);
    } finally {
      await second.stop();
    }
    await assertEachEventOnce(events);
  });
});
