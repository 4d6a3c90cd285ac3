/**
 * Router throughput and accept latency: N (default 1,000) mixed events over HTTP and then over SQS,
 * against a real Temporal dev server and moto (no simulator in between), with no workers running
 * (the router's work ends when Temporal has accepted the start or signal).
 *
 *   npx tsx bench/router.ts [N=1000] [httpClients=32] [sqsMaxInFlight] [sqsReceivers]   (consumer defaults when unset)
 *
 * moto alone: the same N messages sent and then received and deleted by a bare loop (the consumer's
 * receivers, no router): moto's own SQS cost, apart from the router's.
 * HTTP: one event per request from `httpClients` concurrent senders; accept latency = request → 202.
 * SQS: a producer sends the events in batches of 10 from 4 lanes while the consumer (default
 * settings but `sqsMaxInFlight`) runs; accept latency = SentTimestamp → message deleted. Where the
 * time goes: mean ReceiveMessage and DeleteMessageBatch call time, mean Temporal call time.
 * Mix per 20 events: 8 spot warnings (new instances), 2 rebalance recommendations (instances already
 * draining → signals), 4 alarms (capacity signals), 3 Incident Declared (starts), 2 ECS events
 * (signals to the running deploy), 1 Deploy Requested (duplicate of the running deploy).
 * Prints the figures and writes artifacts/bench/router.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { createRouter, type Router } from '../router/app';
import type { EventKindName } from '../router/events';
import { startMoto } from '../simulator/moto';
import { startSdkDevServer } from '../stack/sdk-dev-server';
import { ARTIFACTS_DIR, MOTO_SERVER, TEMPORAL_CLI } from '../testkit/paths';
import { until } from '../testkit/poll';
import { createTestWorld, type Envelope, type TestWorld } from '../testkit/router/fixtures';
import { ALL_SCOPES_TEST_TOKEN, captureLogger, TEST_TOKENS } from '../testkit/router/router-harness';
import { createQueues, depth, sendAll } from '../testkit/router/sqs-harness';

process.env.AWS_ACCESS_KEY_ID ??= 'bench';
process.env.AWS_SECRET_ACCESS_KEY ??= 'bench';

const N = Number(process.argv[2] ?? 1000);
const HTTP_CLIENTS = Number(process.argv[3] ?? 32);
const SQS_MAX_IN_FLIGHT = process.argv[4] ? Number(process.argv[4]) : undefined;
const SQS_RECEIVERS = process.argv[5] ? Number(process.argv[5]) : undefined;

const PATTERN: EventKindName[] = [
  'spot-interruption-warning', 'spot-interruption-warning', 'alarm-state-change', 'incident-declared',
  'spot-interruption-warning', 'rebalance-recommendation', 'ecs-deployment-state-change', 'spot-interruption-warning',
  'alarm-state-change', 'incident-declared', 'spot-interruption-warning', 'ecs-service-action',
  'spot-interruption-warning', 'alarm-state-change', 'rebalance-recommendation', 'deploy-requested',
  'spot-interruption-warning', 'incident-declared', 'alarm-state-change', 'spot-interruption-warning',
];

function mixedEvents(world: TestWorld, n: number): Envelope[] {
  const draining: string[] = [];
  const events: Envelope[] = [];
  for (let i = 0; i < n; i++) {
    const kind = PATTERN[i % PATTERN.length];
    const instanceId = kind === 'rebalance-recommendation' && draining.length ? draining[(i * 7) % draining.length] : undefined;
    const alarmName = i % 2 ? world.alarms.scaleOut : world.alarms.scaleIn;
    const e = world.event(kind, { instanceId, alarmName, title: `Bench incident ${i}` });
    if (kind === 'spot-interruption-warning') draining.push(e.detail['instance-id'] as string);
    events.push(e);
  }
  return events;
}

/** CPU of this process (router + load generator) per event: a figure less at the mercy of a shared machine's load. */
const cpuMsPerEvent: { http?: number; sqs?: number } = {};
const cpuMs = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

async function actions(router: Router, transport: string): Promise<Record<string, number>> {
  const metric = await router.metrics.registry.getSingleMetric('fleetops_router_events_routed_total')?.get();
  const out: Record<string, number> = {};
  for (const v of metric?.values ?? []) if (v.labels.transport === transport) out[String(v.labels.action)] = (out[String(v.labels.action)] ?? 0) + v.value;
  return out;
}

/** Mean call time per operation of a histogram (Temporal calls, SQS calls): tells which side is the limit. */
async function temporalCallMeans(router: Router, metricName = 'fleetops_router_temporal_call_seconds'): Promise<Record<string, number>> {
  const metric = await router.metrics.registry.getSingleMetric(metricName)?.get();
  const sums: Record<string, [number, number]> = {};
  for (const v of metric?.values ?? []) {
    const op = String(v.labels.operation);
    const name = (v as { metricName?: string }).metricName ?? '';
    sums[op] ??= [0, 0];
    if (name.endsWith('_sum')) sums[op][0] += v.value;
    if (name.endsWith('_count')) sums[op][1] += v.value;
  }
  return Object.fromEntries(Object.entries(sums).map(([op, [sum, count]]) => [op, count ? +((sum / count) * 1000).toFixed(1) : 0]));
}

function summarise(name: string, wallMs: number, latencies: number[], acts: Record<string, number>, temporalMeanMs: Record<string, number>) {
  const sorted = [...latencies].sort((a, b) => a - b);
  const result = {
    events: latencies.length,
    wallSeconds: +(wallMs / 1000).toFixed(2),
    eventsPerSecond: +((latencies.length / wallMs) * 1000).toFixed(1),
    acceptLatencyMs: { p50: +percentile(sorted, 50).toFixed(1), p99: +percentile(sorted, 99).toFixed(1), max: +sorted[sorted.length - 1].toFixed(1) },
    temporalStartsPerSecond: +(((acts.started ?? 0) / wallMs) * 1000).toFixed(1),
    actions: acts,
    temporalCallMeanMs: temporalMeanMs,
  };
  process.stdout.write(
    `${name}: ${result.events} events in ${result.wallSeconds} s = ${result.eventsPerSecond} events/s; accept p50 ${result.acceptLatencyMs.p50} ms, ` +
      `p99 ${result.acceptLatencyMs.p99} ms; Temporal starts ${result.temporalStartsPerSecond}/s; ${JSON.stringify(acts)}; ` +
      `mean Temporal call ms ${JSON.stringify(temporalMeanMs)}\n`,
  );
  return result;
}

async function httpPhase(world: TestWorld, router: Router, url: string) {
  // One running deploy, so ECS events are signals and Deploy Requested is a duplicate.
  await fetch(`${url}/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ALL_SCOPES_TEST_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(world.event('deploy-requested')),
  });
  const before = await actions(router, 'http');
  const events = mixedEvents(world, N);
  const latencies: number[] = [];
  let next = 0;
  let retried503 = 0;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: HTTP_CLIENTS }, async () => {
      while (next < events.length) {
        const e = events[next++];
        const t0 = performance.now();
        // A 503 (Temporal slower than the router's 1.5 s) is retried after Retry-After, as a sender must.
        for (;;) {
          const res = await fetch(`${url}/events`, {
            method: 'POST',
            headers: { authorization: `Bearer ${ALL_SCOPES_TEST_TOKEN}`, 'content-type': 'application/json' },
            body: JSON.stringify(e),
          });
          await res.arrayBuffer();
          if (res.status === 202) break;
          if (res.status !== 503) throw new Error(`HTTP ${res.status} for ${e['detail-type']}`);
          retried503 += 1;
          await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? 1) * 1000));
        }
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const wall = performance.now() - started;
  cpuMsPerEvent.http = cpuMs(process.cpuUsage(cpu0)) / N;
  const after = await actions(router, 'http');
  const acts = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]));
  process.stdout.write(`HTTP: ${retried503} answer(s) were 503 (retried after Retry-After)\n`);
  return { ...summarise('HTTP', wall, latencies, acts, await temporalCallMeans(router)), retried503 };
}

/** moto's own SQS cost: send N, then receive and delete them with the consumer's receivers and nothing else. */
async function motoAlonePhase(sqs: SQSClient, bodies: string[], receivers: number) {
  const q = await createQueues(sqs, `bench-moto-${Date.now()}`, { visibilityTimeout: 30, maxReceiveCount: 5 });
  const t0 = performance.now();
  const lanes = 4;
  const chunk = Math.ceil(bodies.length / lanes);
  await Promise.all(Array.from({ length: lanes }, (_, i) => sendAll(sqs, q.url, bodies.slice(i * chunk, (i + 1) * chunk))));
  const sentMs = performance.now() - t0;
  const receiveMs: number[] = [];
  let left = bodies.length;
  const t1 = performance.now();
  await Promise.all(
    Array.from({ length: receivers }, async () => {
      while (left > 0) {
        const r0 = performance.now();
        const res = await sqs.send(new ReceiveMessageCommand({ QueueUrl: q.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 30 }));
        receiveMs.push(performance.now() - r0);
        const got = res.Messages ?? [];
        if (got.length === 0) continue;
        left -= got.length;
        await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: q.url, Entries: got.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })) }));
      }
    }),
  );
  const drainMs = performance.now() - t1;
  const result = {
    sendPerSecond: +((bodies.length / sentMs) * 1000).toFixed(1),
    receiveDeletePerSecond: +((bodies.length / drainMs) * 1000).toFixed(1),
    receiveMeanMs: +(receiveMs.reduce((a, b) => a + b, 0) / receiveMs.length).toFixed(1),
    receivers,
  };
  process.stdout.write(
    `moto alone: SendMessageBatch ${result.sendPerSecond} messages/s; ${receivers} receivers receive+delete ${result.receiveDeletePerSecond} messages/s; ReceiveMessage mean ${result.receiveMeanMs} ms\n`,
  );
  return result;
}

async function sqsPhase(world: TestWorld, env: TestWorkflowEnvironment, sqs: SQSClient) {
  const q = await createQueues(sqs, `bench-${world.cluster}`, { visibilityTimeout: 30, maxReceiveCount: 5 });
  const latencies: number[] = [];
  let firstSent = Infinity;
  let lastDone = 0;
  const router = createRouter({
    config: world.config,
    connection: env.connection,
    namespace: 'default',
    tokens: TEST_TOKENS,
    log: captureLogger([], 'warn'),
    sqs: {
      client: sqs,
      queueUrl: q.url,
      maxInFlight: SQS_MAX_IN_FLIGHT,
      receivers: SQS_RECEIVERS,
      dlqPollMs: 0,
      onSettled: ({ sentAtMs, doneAtMs, outcome }) => {
        if (outcome !== 'deleted') throw new Error(`message ${outcome}`);
        latencies.push(doneAtMs - sentAtMs);
        firstSent = Math.min(firstSent, sentAtMs);
        lastDone = Math.max(lastDone, doneAtMs);
      },
    },
  });
  await router.start();
  const deploy = world.event('deploy-requested');
  await sendAll(sqs, q.url, [JSON.stringify(deploy)]);
  await until('the deploy started', async () => latencies.length === 1, { timeoutMs: 20_000 });
  latencies.length = 0;
  firstSent = Infinity;
  const before = await actions(router, 'sqs');

  const bodies = mixedEvents(world, N).map((e) => JSON.stringify(e));
  const cpu0 = process.cpuUsage();
  const lanes = 4;
  const chunk = Math.ceil(bodies.length / lanes);
  await Promise.all(Array.from({ length: lanes }, (_, i) => sendAll(sqs, q.url, bodies.slice(i * chunk, (i + 1) * chunk))));
  await until('every message carried out', async () => latencies.length >= N && (await depth(sqs, q.url)).total === 0, { timeoutMs: 300_000, intervalMs: 100 });
  cpuMsPerEvent.sqs = cpuMs(process.cpuUsage(cpu0)) / N;
  const after = await actions(router, 'sqs');
  process.stdout.write(`SQS consumer: maxInFlight ${router.consumer!.maxInFlight}, receivers ${router.consumer!.receivers}\n`);
  const means = await temporalCallMeans(router);
  const sqsMeans = await temporalCallMeans(router, 'fleetops_router_sqs_call_seconds');
  await router.stop();
  const acts = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]));
  process.stdout.write(`SQS calls, mean ms by operation: ${JSON.stringify(sqsMeans)}\n`);
  const consumer = router.consumer!;
  return { ...summarise('SQS', lastDone - firstSent, latencies, acts, means), sqsCallMeanMs: sqsMeans, maxInFlight: consumer.maxInFlight, receivers: consumer.receivers };
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const [env, moto] = await Promise.all([
    startSdkDevServer(TEMPORAL_CLI),
    startMoto({ bin: MOTO_SERVER }),
  ]);
  process.stdout.write(`Temporal dev server and moto up in ${Date.now() - t0} ms\n`);
  const sqs = new SQSClient({ region: 'us-east-1', endpoint: moto.url });
  try {
    const httpWorld = createTestWorld();
    const router = createRouter({ config: httpWorld.config, connection: env.connection, namespace: 'default', tokens: TEST_TOKENS, log: captureLogger([], 'warn') });
    const url = await router.http.listen({ host: '127.0.0.1', port: 0 });
    const http = await httpPhase(httpWorld, router, url);
    await router.stop();
    const motoAlone = await motoAlonePhase(sqs, mixedEvents(createTestWorld(), N).map((e) => JSON.stringify(e)), SQS_RECEIVERS ?? 2);
    const sqsResult = await sqsPhase(createTestWorld(), env, sqs);

    const report = {
      benchmark: 'router',
      date: new Date().toISOString(),
      n: N,
      httpClients: HTTP_CLIENTS,
      sqs: { maxInFlight: sqsResult.maxInFlight, receivers: sqsResult.receivers, batch: 10, producerLanes: 4 },
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: +(totalmem() / 2 ** 30).toFixed(1), loadavg1mAtEnd: +loadavg()[0].toFixed(2), node: process.version },
      results: { motoAlone, http, sqs: sqsResult },
      benchProcessCpuMsPerEvent: { http: +(cpuMsPerEvent.http ?? 0).toFixed(2), sqs: +(cpuMsPerEvent.sqs ?? 0).toFixed(2) },
    };
    const out = join(ARTIFACTS_DIR, 'bench', 'router.json');
    mkdirSync(join(ARTIFACTS_DIR, 'bench'), { recursive: true });
    writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`router+load-generator CPU per event: HTTP ${report.benchProcessCpuMsPerEvent.http} ms, SQS ${report.benchProcessCpuMsPerEvent.sqs} ms\n`);
    process.stdout.write(`machine: ${report.machine.cpus} × ${report.machine.cpuModel}, ${report.machine.memoryGiB} GiB, load ${report.machine.loadavg1mAtEnd}; wrote ${out}\n`);
  } finally {
    sqs.destroy();
    await moto.stop();
    await env.teardown();
  }
}

main().catch((err) => {
  process.stderr.write(`bench/router: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
