import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import type { MetricGauge, MetricMeter, MetricTags } from '@temporalio/common';
import { msToTs } from '@temporalio/common/lib/time';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { FleetopsKind, FleetopsPhase, FleetopsSeverity } from '../../common/search-attributes';
import { OPEN_INCIDENTS_GAUGE, startDomainGauges } from '../../workers/domain-gauges';
import { cli } from '../cli/helpers';
import { ARTIFACTS_DIR, ROOT } from '../../testkit/paths';
import { until } from '../../testkit/poll';
import { connectDevServer } from '../harness/temporal';
import { freePort } from '../ui/temporal-with-ui';

/**
 * Domain metrics the worker exports: the open-incidents gauge it computes from visibility, checked
 * with a recording meter and then on the real worker process's Prometheus endpoint
 * (FLEETOPS_WORKER_METRICS_PORT) beside the SDK's own metrics. A namespace of its own keeps other
 * suites' incidents out of the counts.
 */

let env: TestWorkflowEnvironment;
let namespace: string;
let client: Client;
const address = () => process.env.FLEETOPS_TEST_TEMPORAL_ADDRESS!;

/** Incident-kind workflows on a queue nobody polls: visibility is all the gauge reads. */
const incidents: { severity: string; phase: string; kind?: string }[] = [
  { severity: 'sev1', phase: 'open' },
  { severity: 'sev1', phase: 'mitigated' },
  { severity: 'sev2', phase: 'postmortem' },
  { severity: 'sev3', phase: 'opening' },
  { severity: 'sev1', phase: 'open', kind: 'deploy' },
];
const expected = { sev1: 2, sev2: 0, sev3: 1, sev4: 0 };

class RecordingMeter implements MetricMeter {
  readonly sets: { name: string; value: number; tags: MetricTags }[] = [];
  createGauge(name: string): MetricGauge {
    const gauge: MetricGauge = {
      name,
      kind: 'gauge',
      valueType: 'int',
      set: (value, tags = {}) => void this.sets.push({ name, value, tags }),
      withTags: () => gauge,
    };
    return gauge;
  }
  createCounter(): never {
    throw new Error('not used');
  }
  createHistogram(): never {
    throw new Error('not used');
  }
  withTags(): MetricMeter {
    return this;
  }
}

beforeAll(async () => {
  env = await connectDevServer();
  namespace = `fleetops-metrics-${process.pid}-${Date.now().toString(36)}`;
  await env.client.connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
  const cliEnv = { FLEETOPS_TEMPORAL_ADDRESS: address(), FLEETOPS_TEMPORAL_NAMESPACE: namespace };
  await until('setup in the new namespace', async () => ((await cli(['setup'], cliEnv)).code === 0 ? true : undefined), { timeoutMs: 30_000, intervalMs: 500 });
  client = new Client({ connection: env.client.connection, namespace });
  for (const [i, inc] of incidents.entries()) {
    await client.workflow.start('incident', {
      workflowId: `metrics-incident-${i}`,
      taskQueue: 'metrics-test-nobody-polls',
      args: [],
      typedSearchAttributes: [
        { key: FleetopsKind, value: inc.kind ?? 'incident' },
        { key: FleetopsSeverity, value: inc.severity },
        { key: FleetopsPhase, value: inc.phase },
      ],
    });
  }
  await until(
    'visibility to list the workflows',
    async () => ((await client.workflow.count('ExecutionStatus = "Running"')).count === incidents.length ? true : undefined),
    { timeoutMs: 30_000, intervalMs: 500 },
  );
});

afterAll(async () => {
  await env?.teardown();
});

beforeAll(() => mkdirSync(join(ARTIFACTS_DIR, 'metrics'), { recursive: true }));

test('the open-incidents gauge counts running incidents in open phases, by severity', async () => {
  const meter = new RecordingMeter();
  const gauges = startDomainGauges({ client, meter, everyMs: 60_000 });
  try {
    await expect(gauges.refresh()).resolves.toEqual(expected);
    const last = new Map(meter.sets.map((s) => [s.tags.severity, s]));
    expect([...last.values()].map((s) => [s.name, s.tags.severity, s.value])).toEqual([
      [OPEN_INCIDENTS_GAUGE, 'sev1', 2],
      [OPEN_INCIDENTS_GAUGE, 'sev2', 0],
      [OPEN_INCIDENTS_GAUGE, 'sev3', 1],
      [OPEN_INCIDENTS_GAUGE, 'sev4', 0],
    ]);
  } finally {
    gauges.stop();
  }
});

test('the worker process exports the gauge on its Prometheus endpoint beside the SDK metrics', async () => {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'workers', 'main.ts')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      FLEETOPS_CONFIG: join(ROOT, 'test', 'fixtures', 'fleetops.valid.yaml'),
      FLEETOPS_TEMPORAL_ADDRESS: address(),
      FLEETOPS_TEMPORAL_NAMESPACE: namespace,
      FLEETOPS_WORKER_METRICS_PORT: String(port),
      FLEETOPS_WORKFLOW_BUNDLE: process.env.FLEETOPS_TEST_WORKFLOW_BUNDLE,
      FLEETOPS_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (b: Buffer) => void (output = (output + b.toString()).slice(-4000)));
  child.stderr!.on('data', (b: Buffer) => void (output = (output + b.toString()).slice(-4000)));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    const text = await until(
      'the gauge on the worker endpoint',
      async () => {
        if (child.exitCode !== null) throw new Error(`worker exited ${child.exitCode}:\n${output}`);
        // Refused until the runtime's exporter is up.
        const body = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => '');
        return /^fleetops_incidents_open\{[^}]*severity="sev3"[^}]*\} 1$/m.test(body) ? body : undefined;
      },
      // A worker that exited will not serve the gauge: that fails at once.
      { timeoutMs: 120_000, intervalMs: 500, failOnError: true },
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nworker output:\n${output}`);
    });
    // Kept for people who want to see what the endpoint serves.
    writeFileSync(join(ARTIFACTS_DIR, 'metrics', 'worker-metrics.txt'), text);
    expect(text).toMatch(/^fleetops_incidents_open\{[^}]*severity="sev1"[^}]*\} 2$/m);
    expect(text).toMatch(/^fleetops_incidents_open\{[^}]*severity="sev2"[^}]*\} 0$/m);
    expect(text).toMatch(/^temporal_\w+/m);
  } finally {
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(killer);
  }
});

test('domain metrics from workflow code (workflows/lib/metrics.ts) reach the Prometheus endpoint', async () => {
  const port = await freePort();
  const taskQueue = `metrics-${process.pid}-${Date.now().toString(36)}`;
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'metrics-worker.ts')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      FLEETOPS_TEMPORAL_ADDRESS: address(),
      FLEETOPS_TEMPORAL_NAMESPACE: namespace,
      FLEETOPS_WORKER_METRICS_PORT: String(port),
      FLEETOPS_TEST_TASK_QUEUE: taskQueue,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (b: Buffer) => void (output = (output + b.toString()).slice(-4000)));
  child.stderr!.on('data', (b: Buffer) => void (output = (output + b.toString()).slice(-4000)));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    // A worker that exited will not be ready: that fails at once.
    await until('the metrics worker', async () => {
      if (child.exitCode !== null) throw new Error(`metrics worker exited ${child.exitCode}:\n${output}`);
      return output.includes('ready') ? true : undefined;
    }, { timeoutMs: 120_000, intervalMs: 500, failOnError: true });
    await client.workflow.execute('emitDomainMetrics', { workflowId: `emit-metrics-${taskQueue}`, taskQueue, args: [] });
    const text = await until('the domain metrics on the endpoint', async () => {
      const body = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => '');
      return body.includes('fleetops_incidents_closed_total') ? body : undefined;
    }, { timeoutMs: 30_000, intervalMs: 500 });
    const line = (name: string, labels: Record<string, string>, value: string) =>
      new RegExp(`^${name}\\{${Object.entries(labels).map(([k, v]) => `(?=[^}]*${k}="${v}")`).join('')}[^}]*\\} ${value}$`, 'm');
    expect(text).toMatch(line('fleetops_drains_finished_total', { outcome: 'drained', cluster: 'demo', workflowType: 'emitDomainMetrics' }, '1'));
    expect(text).toMatch(line('fleetops_drains_finished_total', { outcome: 'deadline-missed' }, '1'));
    // A missed deadline counts as no time left, never negative.
    expect(text).toMatch(line('fleetops_drain_seconds_left_count', { outcome: 'drained' }, '1'));
    expect(text).toMatch(line('fleetops_drain_seconds_left_sum', { outcome: 'drained' }, '37.5'));
    expect(text).toMatch(line('fleetops_drain_seconds_left_sum', { outcome: 'deadline-missed' }, '0'));
    // Seconds buckets (common/metric-names.ts), not the SDK's millisecond ones: a missed deadline is in le="0".
    expect(text).toMatch(line('fleetops_drain_seconds_left_bucket', { outcome: 'deadline-missed', le: '0' }, '1'));
    expect(text).toMatch(line('fleetops_drain_seconds_left_bucket', { outcome: 'drained', le: '30' }, '0'));
    expect(text).toMatch(line('fleetops_drain_seconds_left_bucket', { outcome: 'drained', le: '60' }, '1'));
    expect(text).not.toMatch(/^fleetops_drain_seconds_left_bucket\{[^}]*le="10000"/m);
    expect(text).toMatch(line('fleetops_interruptions_total', { cluster: 'demo', pool: 'spot-ec2-fleet', instance_type: 'm5.large', zone: 'us-east-1a', kind: 'interruption' }, '1'));
    expect(text).toMatch(line('fleetops_interruptions_total', { cluster: 'demo', pool: 'unknown', instance_type: 'unknown', zone: 'unknown', kind: 'rebalance' }, '1'));
    expect(text).toMatch(line('fleetops_capacity_pool_fallbacks_total', { cluster: 'demo', pool: 'spot-ec2-fleet', reason: 'capacity-error' }, '1'));
    expect(text).toMatch(line('fleetops_deploys_finished_total', { outcome: 'rolled-back', cluster: 'demo' }, '1'));
    expect(text).toMatch(line('fleetops_incidents_opened_total', { severity: 'sev2' }, '1'));
    expect(text).toMatch(line('fleetops_incidents_closed_total', { severity: 'sev2', how: 'closed' }, '1'));
    writeFileSync(join(ARTIFACTS_DIR, 'metrics', 'workflow-domain-metrics.txt'), text);
  } finally {
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(killer);
  }
});
