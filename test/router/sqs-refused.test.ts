import { AWS_APP_IDS } from '../../common/aws-app-ids';
import { randomUUID } from 'node:crypto';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Client, WorkflowNotFoundError } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ALL_SEARCH_ATTRIBUTES } from '../../common/search-attributes';
import { startEmulator, type Emulator } from '../../testkit/emulator';
import { until } from '../../testkit/poll';
import { connectDevServer } from '../harness/temporal';
import { createTestWorld, type Envelope } from '../../testkit/router/fixtures';
import { refusingConnection, type RefusingConnection } from './refusing-interceptor';
import { metricValue, startTestRouter } from '../../testkit/router/router-harness';
import { createQueues, depth, sendAll } from '../../testkit/router/sqs-harness';

/**
 * The SQS consumer when Temporal answers but refuses: an error about the router (credentials, the
 * namespace, a search attribute the namespace lacks) stops receiving, so no valid event is
 * dead-lettered; an error about one event's own request dead-letters that event's message alone.
 */

jest.setTimeout(120_000);

let env: TestWorkflowEnvironment;
let emu: Emulator;
/** The test's own (creating queues, sending, reading back) and the router's (its app id: the IAM proof records its calls). */
let sqs: SQSClient;
let routerSqs: SQSClient;
const world = createTestWorld();
const refusing: RefusingConnection[] = [];
let queueCounter = 0;
const queueName = () => `${world.cluster}-refused-${++queueCounter}`;

beforeAll(async () => {
  [env, emu] = await Promise.all([connectDevServer(), startEmulator()]);
  sqs = new SQSClient({ region: emu.region, endpoint: emu.endpoint });
  routerSqs = new SQSClient({ region: emu.region, endpoint: emu.endpoint, userAgentAppId: AWS_APP_IDS.router });
});
afterAll(async () => {
  sqs?.destroy();
  routerSqs?.destroy();
  await Promise.all(refusing.map((r) => r.connection.close()));
  await emu?.stop();
  await env?.teardown();
});

async function connection(): Promise<RefusingConnection> {
  const r = await refusingConnection(process.env.FLEETOPS_TEST_TEMPORAL_ADDRESS as string);
  refusing.push(r);
  return r;
}

const workflowIdOf = (e: Envelope): string =>
  String(e['detail-type']).startsWith('EC2 Instance-launch') ? `launch-${e.detail.EC2InstanceId as string}` : `drain-${(e.detail['instance-id'] ?? e.detail.EC2InstanceId) as string}`;

const exists = (client: Client, id: string) =>
  client.workflow
    .getHandle(id)
    .describe()
    .then(() => true)
    .catch((err) => {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    });

/** Nothing dead-lettered and nothing lost while `ms` pass (several maxReceiveCount × visibility timeouts). */
async function holdsFor(queueUrl: string, dlqUrl: string, messages: number, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    expect((await depth(sqs, dlqUrl)).total).toBe(0);
    expect((await depth(sqs, queueUrl)).total).toBe(messages);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe('SQS consumer when Temporal refuses', () => {
  it('PERMISSION_DENIED, then a namespace not found, then a search attribute not registered: receiving pauses, nothing reaches the DLQ, every event is routed once calls succeed', async () => {
    // A namespace of its own that does not exist yet: NOT_FOUND and the missing search attributes are the dev server's real answers.
    const namespace = `fleetops-refused-${randomUUID().slice(0, 8)}`;
    const q = await createQueues(sqs, queueName(), { visibilityTimeout: 2, maxReceiveCount: 2 });
    const r = await connection();
    r.refuse({ code: 7, details: 'Request unauthorized.' });
    const router = await startTestRouter(world, r.connection, {
      namespace,
      callTimeoutMs: 1_000,
      sqs: { client: routerSqs, queueUrl: q.url, waitTimeSeconds: 1, dlqPollMs: 0, probeIntervalMs: 250, maxProbeIntervalMs: 1_000 },
    });
    const pauses = (code: string) => metricValue(router, 'fleetops_router_sqs_receiving_pauses_total', { code });
    try {
      const first = [world.event('spot-interruption-warning'), world.event('lifecycle-terminate')];
      await sendAll(sqs, q.url, first.map((e) => JSON.stringify(e)));
      await until('paused on PERMISSION_DENIED', async () => (await pauses('PERMISSION_DENIED')) === 1, { timeoutMs: 20_000, describe: () => router.logs.slice(-3).join('') });
      expect(await metricValue(router, 'fleetops_router_sqs_receiving_paused')).toBe(1);
      const later = [world.event('spot-interruption-warning'), world.event('rebalance-recommendation'), world.event('lifecycle-launch')];
      await sendAll(sqs, q.url, later.map((e) => JSON.stringify(e)));
      // Longer than maxReceiveCount × visibility timeout (2 × 2 s): a consumer that kept receiving would have dead-lettered them.
      await holdsFor(q.url, q.dlqUrl, 5, 6_000);
      const paused = router.logs.find((l) => l.includes('Temporal refuses the router (PERMISSION_DENIED)'));
      expect(paused).toBeDefined();
      expect(JSON.parse(paused!)).toMatchObject({ level: 40, code: 'PERMISSION_DENIED', err: expect.stringContaining('Request unauthorized.') });

      // Credentials fixed: the namespace is still missing.
      r.refuse(undefined);
      await until('paused on NOT_FOUND', async () => (await pauses('NOT_FOUND')) === 1, { timeoutMs: 20_000 });
      await holdsFor(q.url, q.dlqUrl, 5, 3_000);

      // The namespace now exists, without the fleetops search attributes: starts fail INVALID_ARGUMENT for every event.
      await env.connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
      await until('paused on a search attribute not registered', async () => (await pauses('INVALID_ARGUMENT')) >= 1, { timeoutMs: 40_000, intervalMs: 250 });
      await holdsFor(q.url, q.dlqUrl, 5, 3_000);
      expect(router.logs.join('')).toContain('has no mapping defined for search attribute');

      await env.connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: Object.fromEntries(ALL_SEARCH_ATTRIBUTES.map((a) => [a.name, 2 /* INDEXED_VALUE_TYPE_KEYWORD */])),
      });
      await until('queue empty', async () => (await depth(sqs, q.url)).total === 0, { timeoutMs: 30_000, intervalMs: 250 });
      const client = new Client({ connection: env.connection, namespace });
      for (const e of [...first, ...later]) expect(await exists(client, workflowIdOf(e))).toBe(true);
      expect((await depth(sqs, q.dlqUrl)).total).toBe(0);
      expect(await metricValue(router, 'fleetops_router_sqs_receiving_paused')).toBe(0);
      expect(router.logs.join('')).toContain('Temporal answers again: SQS receiving resumed');
      // Held messages were kept and carried out, the rest waited unreceived: each received once.
      expect(await metricValue(router, 'fleetops_router_sqs_messages_total', { outcome: 'received' })).toBe(5);
      expect(await metricValue(router, 'fleetops_router_sqs_messages_total', { outcome: 'deleted' })).toBe(5);
      expect(await metricValue(router, 'fleetops_router_events_failed_total', { reason: 'temporal_refused', transport: 'sqs' })).toBeGreaterThan(0);
      // No log line carries a credential or an authorization header.
      expect(router.logs.join('')).not.toMatch(/authorization|Bearer /i);
    } finally {
      await router.stop();
    }
  });

  it('an event whose own request Temporal rejects (INVALID_ARGUMENT) is dead-lettered alone; the rest are routed and receiving never pauses', async () => {
    const q = await createQueues(sqs, queueName(), { visibilityTimeout: 2, maxReceiveCount: 2 });
    const r = await connection();
    const bad = world.event('lifecycle-launch');
    const good = [world.event('spot-interruption-warning'), world.event('lifecycle-terminate'), world.event('lifecycle-launch')];
    r.refuse({ code: 3, details: 'WorkflowId length exceeds limit.', only: workflowIdOf(bad) });
    const router = await startTestRouter(world, r.connection, {
      callTimeoutMs: 1_000,
      sqs: { client: routerSqs, queueUrl: q.url, waitTimeSeconds: 1, dlqPollMs: 0, probeIntervalMs: 250 },
    });
    try {
      await sendAll(sqs, q.url, [bad, ...good].map((e) => JSON.stringify(e)));
      await until('one message in the DLQ', async () => (await depth(sqs, q.dlqUrl)).total === 1, { timeoutMs: 30_000, intervalMs: 250 });
      await until('queue empty', async () => (await depth(sqs, q.url)).total === 0, { timeoutMs: 20_000 });
      const dead = await emu.aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: q.dlqUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }));
      expect(dead.Messages?.map((m) => (JSON.parse(m.Body ?? '{}') as Envelope).id)).toEqual([bad.id]);
      for (const e of good) expect(await exists(env.client, workflowIdOf(e))).toBe(true);
      expect(await exists(env.client, workflowIdOf(bad))).toBe(false);
      expect(r.refused()).toBeGreaterThanOrEqual(2);
      expect(await metricValue(router, 'fleetops_router_sqs_receiving_pauses_total')).toBe(0);
      expect(await metricValue(router, 'fleetops_router_events_failed_total', { reason: 'temporal_error', transport: 'sqs' })).toBeGreaterThanOrEqual(2);
    } finally {
      await router.stop();
    }
  });
});
