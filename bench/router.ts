/**
 * Router throughput and accept latency: N (default 1,000) mixed events over HTTP and then over SQS,
 * against a real Temporal dev server and moto (no simulator in between), with no workers running
 * (the router's work ends when Temporal has accepted the start or signal).
 *
 *   npx tsx bench/router.ts [N=1000] [httpClients=32]
 *
 * HTTP: one event per request from `httpClients` concurrent senders; accept latency = request → 202.
 * SQS: a producer sends the events in batches of 10 from 4 lanes while the consumer (default
 * settings: batches of 10, 20 in flight) runs; accept latency = SentTimestamp → message deleted.
 * Mix per 20 events: 8 spot warnings (new instances), 2 rebalance recommendations (instances already
 * draining → signals), 4 alarms (capacity signals), 3 Incident Declared (starts), 2 ECS events
 * (signals to the running deploy), 1 Deploy Requested (duplicate of the running deploy).
 * Prints the figures and writes artifacts/bench/router.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { SQSClient } from '@aws-sdk/client-sqs';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ALL_SEARCH_ATTRIBUTES } from '../common/search-attributes';
import { createRouter, type Router } from '../router/app';
import type { EventKindName } from '../router/events';
import { startMoto } from '../simulator/moto';
import { ARTIFACTS_DIR, MOTO_SERVER, TEMPORAL_CLI } from '../test/harness/paths';
import { createTestWorld, type Envelope, type TestWorld } from '../test/router/fixtures';
import { captureLogger, TEST_TOKEN } from '../test/router/router-harness';
import { createQueues, depth, sendAll, waitFor } from '../test/router/sqs-harness';

process.env.AWS_ACCESS_KEY_ID ??= 'bench';
process.env.AWS_SECRET_ACCESS_KEY ??= 'bench';

const N = Number(process.argv[2] ?? 1000);
const HTTP_CLIENTS = Number(process.argv[3] ?? 32);

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

/** Mean Temporal call time per operation so far: tells whether Temporal or the router is the limit. */
async function temporalCallMeans(router: Router): Promise<Record<string, number>> {
  const metric = await router.metrics.registry.getSingleMetric('fleetops_router_temporal_call_seconds')?.get();
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
    headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(world.event('deploy-requested')),
  });
  const before = await actions(router, 'http');
  const events = mixedEvents(world, N);
  const latencies: number[] = [];
  let next = 0;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: HTTP_CLIENTS }, async () => {
      while (next < events.length) {
        const e = events[next++];
        const t0 = performance.now();
        const res = await fetch(`${url}/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify(e),
        });
        await res.arrayBuffer();
        if (res.status !== 202) throw new Error(`HTTP ${res.status} for ${e['detail-type']}`);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const wall = performance.now() - started;
  cpuMsPerEvent.http = cpuMs(process.cpuUsage(cpu0)) / N;
  const after = await actions(router, 'http');
  const acts = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]));
  return summarise('HTTP', wall, latencies, acts, await temporalCallMeans(router));
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
    token: TEST_TOKEN,
    log: captureLogger([], 'warn'),
    sqs: {
      client: sqs,
      queueUrl: q.url,
      waitTimeSeconds: 1,
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
  await waitFor('the deploy started', async () => latencies.length === 1);
  latencies.length = 0;
  firstSent = Infinity;
  const before = await actions(router, 'sqs');

  const bodies = mixedEvents(world, N).map((e) => JSON.stringify(e));
  const cpu0 = process.cpuUsage();
  const lanes = 4;
  const chunk = Math.ceil(bodies.length / lanes);
  await Promise.all(Array.from({ length: lanes }, (_, i) => sendAll(sqs, q.url, bodies.slice(i * chunk, (i + 1) * chunk))));
  await waitFor('every message carried out', async () => latencies.length >= N && (await depth(sqs, q.url)).total === 0, 300_000, 100);
  cpuMsPerEvent.sqs = cpuMs(process.cpuUsage(cpu0)) / N;
  const after = await actions(router, 'sqs');
  const means = await temporalCallMeans(router);
  await router.stop();
  const acts = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]));
  return summarise('SQS', lastDone - firstSent, latencies, acts, means);
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const [env, moto] = await Promise.all([
    TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: TEMPORAL_CLI },
        ip: '127.0.0.1',
        searchAttributes: [...ALL_SEARCH_ATTRIBUTES],
        log: { format: 'json', level: 'error' },
      },
    }),
    startMoto({ bin: MOTO_SERVER }),
  ]);
  process.stdout.write(`Temporal dev server and moto up in ${Date.now() - t0} ms\n`);
  const sqs = new SQSClient({ region: 'us-east-1', endpoint: moto.url });
  try {
    const httpWorld = createTestWorld();
    const router = createRouter({ config: httpWorld.config, connection: env.connection, namespace: 'default', token: TEST_TOKEN, log: captureLogger([], 'warn') });
    const url = await router.http.listen({ host: '127.0.0.1', port: 0 });
    const http = await httpPhase(httpWorld, router, url);
    await router.stop();
    const sqsResult = await sqsPhase(createTestWorld(), env, sqs);

    const report = {
      benchmark: 'router',
      date: new Date().toISOString(),
      n: N,
      httpClients: HTTP_CLIENTS,
      sqs: { maxInFlight: 20, batch: 10, producerLanes: 4 },
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: +(totalmem() / 2 ** 30).toFixed(1), loadavg1mAtEnd: +loadavg()[0].toFixed(2), node: process.version },
      results: { http, sqs: sqsResult },
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
