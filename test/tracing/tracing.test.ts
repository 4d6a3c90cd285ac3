import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { trace } from '@opentelemetry/api';
import { Client } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createDrainActivities } from '../../activities/drain';
import { TASK_QUEUE_CRITICAL } from '../../common/task-queues';
import { setupTracing, traceHeaderFields, tracingEnabled, type Tracing } from '../../common/tracing';
import { workerTracingOptions } from '../../common/worker-tracing';
import { buildWorkflowBundle } from '../../common/workflow-bundle';
import { capacityWorkflowId, drainWorkflowId } from '../../common/workflow-ids';
import { parseConfigText } from '../../config/load';
import { seedDrainFleet } from '../drain/drain-fleet';
import { cli } from '../cli/helpers';
import { startEmulator, type Emulator } from '../../testkit/emulator';
import { historyFromJSON } from '../harness/history-json';
import { HISTORIES_DIR, ROOT } from '../../testkit/paths';
import { until } from '../../testkit/poll';
import { connectDevServer } from '../harness/temporal';
import { example, type TestWorld } from '../../testkit/router/fixtures';
import { startTestRouter } from '../../testkit/router/router-harness';
import { OtlpReceiver, type ReceivedSpan } from './otlp-receiver';
import { createWorker } from '../harness/workers';

/**
 * Tracing end to end: a spot interruption warning posted to the router (in-process, the real
 * pipeline), the drain run by a worker with fleetops' traced bundle and activity interceptors against
 * moto + simulator, every span exported over OTLP/HTTP to a local receiver. One drain is one trace,
 * rooted at the router's accept, down to the last activity.
 */

jest.setTimeout(180_000);

let bundle: Promise<string>;
beforeAll(() => {
  // Bundling takes seconds; started at once, awaited where needed.
  bundle = buildWorkflowBundle(require.resolve(join(ROOT, 'workflows')));
});

describe('tracing off', () => {
  test('without OTEL_EXPORTER_OTLP_ENDPOINT nothing is registered and no header is sent', () => {
    expect(tracingEnabled({})).toBe(false);
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' })).toBe(false);
    const tracing = setupTracing('router', { env: {} });
    expect(tracing.enabled).toBe(false);
    const span = trace.getTracer('t').startSpan('x');
    expect(span.isRecording()).toBe(false);
    span.end();
    expect(traceHeaderFields()).toBeUndefined();
  });
});

describe('tracing on', () => {
  let dev: TestWorkflowEnvironment;
  let emu: Emulator;
  let receiver: OtlpReceiver;
  let tracing: Tracing;
  const namespace = `fleetops-trace-${process.pid}-${Date.now().toString(36)}`;

  beforeAll(async () => {
    receiver = new OtlpReceiver();
    await receiver.start();
    [dev, emu] = await Promise.all([connectDevServer(), startEmulator()]);
    // A namespace of its own: this worker polls fleetops-critical, where other suites leave drains.
    await dev.client.connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
    await until(`namespace ${namespace} to take search attributes`, async () => {
      const r = await cli(['setup', '--namespace', namespace], { FLEETOPS_TEMPORAL_ADDRESS: process.env.FLEETOPS_TEMPORAL_ADDRESS ?? process.env.FLEETOPS_TEST_TEMPORAL_ADDRESS });
      return r.code === 0 ? r : undefined;
    }, { timeoutMs: 30_000, intervalMs: 250 });
    // The exporter reads its endpoint from the environment, as in production.
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    tracing = setupTracing('fleetops-test');
  });

  afterAll(async () => {
    await tracing?.shutdown();
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    await Promise.all([dev?.teardown(), emu?.stop(), receiver?.stop()]);
  });

  test('one drain is one trace, from the router accepting the event to its last activity', async () => {
    expect(tracing.enabled).toBe(true);
    const config = parseConfigText(readFileSync(join(ROOT, 'test', 'fixtures', 'fleetops.valid.yaml'), 'utf8'));
    const fleet = await seedDrainFleet(emu.aws, 3);
    await emu.sim.request('POST', 'ecs-scheduler/config', { replaceDelayMs: 1_000 });
    const instanceId = fleet.instances[0]!;
    const workflowId = drainWorkflowId(instanceId);

    const worker = await createWorker({
      connection: dev.nativeConnection,
      namespace,
      taskQueue: TASK_QUEUE_CRITICAL,
      workflowBundle: { code: await bundle },
      activities: createDrainActivities({ aws: emu.worker, config }, { pollIntervalMs: 500 }),
      ...workerTracingOptions(tracing),
    });
    const router = await startTestRouter({ config } as TestWorld, dev.connection, { namespace });
    const client = new Client({ connection: dev.connection, namespace });
    try {
      const event = example('spot-interruption-warning');
      event.id = `trace-${instanceId}`;
      event.time = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      event.resources = [`arn:aws:ec2:us-east-1:123456789012:instance/${instanceId}`];
      event.detail['instance-id'] = instanceId;
      const result = await worker.runUntil(async () => {
        const res = await router.post(event);
        expect(res).toMatchObject({ status: 202, body: { results: [{ action: 'started', workflowId }] } });
        return client.workflow.getHandle(workflowId).result();
      });
      expect(result).toMatchObject({ outcome: 'drained' });
    } finally {
      await router.stop();
      await client.workflow.getHandle(capacityWorkflowId('demo')).terminate('test over').catch(() => undefined);
    }

    // Workflow spans leave the sandbox through the sink; the batch processor sends them on flush.
    await tracing.flush();
    const spans = await until(
      'the drain workflow span to arrive at the OTLP receiver',
      async () => {
        await tracing.flush();
        return receiver.spans.some((s) => s.name === 'RunWorkflow:spotDrain') ? receiver.spans : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    expect(receiver.refused).toEqual([]);

    const root = spans.find((s) => s.name === 'fleetops.router.accept spot-interruption-warning' && s.attributes['fleetops.workflow.id'] === workflowId);
    expect(root).toBeDefined();
    expect(root!.parentSpanId ?? '').toBe('');
    expect(root!.serviceName).toBe('fleetops-fleetops-test');
    const inTrace = spans.filter((s) => s.traceId === root!.traceId);
    // Activity and client spans name the workflow as temporalWorkflowId, workflow spans as workflowId.
    const ofDrain = spans.filter((s) => s.attributes.temporalWorkflowId === workflowId || s.attributes.workflowId === workflowId);
    // Everything the drain did is in the router's trace, and nothing of it in another.
    expect(ofDrain.length).toBeGreaterThan(3);
    expect(ofDrain.filter((s) => s.traceId !== root!.traceId).map((s) => s.name)).toEqual([]);
    const byId = new Map(inTrace.map((s) => [s.spanId, s]));
    const parentName = (s: ReceivedSpan) => byId.get(s.parentSpanId ?? '')?.name;
    const start = inTrace.find((s) => s.name === 'SignalWithStartWorkflow:spotDrain');
    expect(start && parentName(start)).toBe(root!.name);
    const run = inTrace.find((s) => s.name === 'RunWorkflow:spotDrain');
    expect(run && parentName(run)).toBe('SignalWithStartWorkflow:spotDrain');
    const signal = inTrace.find((s) => s.name === 'HandleSignal:drainEvent');
    expect(signal && parentName(signal)).toBe('SignalWithStartWorkflow:spotDrain');

    // Every activity the drain ran (history: scheduled activities and local-activity markers) has its
    // RunActivity span in the trace, the last one to finish included.
    const history = await new Client({ connection: dev.connection, namespace }).workflow.getHandle(workflowId).fetchHistory();
    const ranTypes = new Set<string>();
    for (const e of history.events ?? []) {
      const type = e.activityTaskScheduledEventAttributes?.activityType?.name;
      if (type) ranTypes.add(type);
    }
    const runActivity = inTrace.filter((s) => s.name.startsWith('RunActivity:'));
    const tracedTypes = new Set(runActivity.map((s) => s.name.slice('RunActivity:'.length)));
    expect([...ranTypes].filter((t) => !tracedTypes.has(t))).toEqual([]);
    expect(runActivity.length).toBeGreaterThan(ranTypes.size);
    const lastActivity = [...ofDrain.filter((s) => s.name.startsWith('RunActivity:'))].sort((a, b) => Number(BigInt(a.endTimeUnixNano) - BigInt(b.endTimeUnixNano))).pop();
    expect(lastActivity?.traceId).toBe(root!.traceId);
    for (const s of runActivity) expect(parentName(s)).toBe(`StartActivity:${s.name.slice('RunActivity:'.length)}`);
    for (const s of inTrace.filter((x) => x.name.startsWith('StartActivity:'))) expect(parentName(s)).toBe('RunWorkflow:spotDrain');
  });
});

describe('the traced bundle', () => {
  test('replays every recorded history without non-determinism', async () => {
    const files = (function walk(dir: string): string[] {
      return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : n.endsWith('.json') ? [join(dir, n)] : []));
    })(HISTORIES_DIR);
    // A history byte-identical to another (most of released/<version>/ is the histories of the version
    // in progress, unchanged) replays the same way: each distinct history is replayed once.
    const distinct = new Map<string, string>();
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      if (!distinct.has(text)) distinct.set(text, f);
    }
    const histories = [...distinct].map(([text, f]) => ({ workflowId: relative(HISTORIES_DIR, f), history: historyFromJSON(JSON.parse(text)) }));
    const tracing = setupTracing('replay', { env: {} });
    const failures: string[] = [];
    for await (const r of Worker.runReplayHistories({ workflowBundle: { code: await bundle }, sinks: workerTracingOptions(tracing).sinks }, histories)) {
      if (r.error) failures.push(`${r.workflowId}: ${r.error.message}`);
    }
    expect(histories.length).toBeGreaterThan(0);
    expect(failures).toEqual([]);
  });
});
