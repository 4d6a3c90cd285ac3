import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { stringify } from 'yaml';
import { METRICS } from '../../common/metric-names';
import type { CapacityRequest } from '../../contracts/capacity/input';
import { capacityRequestSignal, type CapacityStatus, type CapacityWorkflow } from '../../contracts/capacity/messages';
import { capacityStartOptions } from '../../contracts/capacity/start';
import { statusQuery } from '../../contracts/controls';
import { ASG, CLUSTER, seedCapacityWorld } from '../../testkit/capacity-world';
import { startEmulator, type Emulator } from '../../testkit/emulator';
import { ARTIFACTS_DIR, ROOT } from '../../testkit/paths';
import { until, untilValue } from '../../testkit/poll';
import { cli } from '../cli/helpers';
import { connectDevServer } from '../harness/temporal';
import { freePort } from '../ui/temporal-with-ui';

/**
 * The fleet gauges end to end: the real worker process (workers/main.ts) runs the capacity workflow
 * against the emulator and exports, on its Prometheus endpoint, what that workflow's status shows,
 * priced with the emulator's spot prices (DescribeSpotPriceHistory) and Price List API (GetProducts).
 * Spot runs short (one spot unit, the Spot Fleet full, the ASG one unit), so a scale-out of 3 ends
 * with 1 spot and 1 on-demand unit ACTIVE and 1 unit unmet: spot share 0.5, on-demand fallback, an
 * unmet age. A namespace of its own: `capacity-demo` is this test's alone.
 */

jest.setTimeout(90_000);

let env: TestWorkflowEnvironment;
let emu: Emulator;
let client: Client;
let namespace: string;
let dir: string;
let worker: ChildProcess | undefined;
let output = '';
const address = () => process.env.FLEETOPS_TEST_TEMPORAL_ADDRESS!;
const SPOT = { 'm5.large': 0.03, 'm5a.large': 0.028 } as const;
const ON_DEMAND = { 'm5.large': 0.096, 'm5a.large': 0.086 } as const;

beforeAll(async () => {
  [env, emu] = await Promise.all([connectDevServer(), startEmulator()]);
  namespace = `fleetops-fleet-metrics-${process.pid}-${Date.now().toString(36)}`;
  await env.client.connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
  const cliEnv = { FLEETOPS_TEMPORAL_ADDRESS: address(), FLEETOPS_TEMPORAL_NAMESPACE: namespace };
  await until('setup in the new namespace', async () => ((await cli(['setup'], cliEnv)).code === 0 ? true : undefined), { timeoutMs: 30_000, intervalMs: 500 });
  client = new Client({ connection: env.client.connection, namespace });
  dir = mkdtempSync(join(tmpdir(), 'fleetops-fleet-metrics-'));
});

afterAll(async () => {
  if (worker && worker.exitCode === null) {
    const exited = new Promise((r) => worker!.once('exit', r));
    worker.kill('SIGTERM');
    const killer = setTimeout(() => worker?.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(killer);
  }
  await Promise.all([env?.teardown(), emu?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** `name{labels…} value` lines of the exposition text, labels in any order. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

it('exports units, instances, spot share, unmet units and age, fallback seconds and the hourly cost of what the capacity workflow runs', async () => {
  const world = await seedCapacityWorld(emu, { fulfilmentTimeoutSeconds: 5 });
  await emu.sim.request('POST', 'capacity/limits', { overrides: [{ market: 'spot', available: 1 }], pools: { [world.spotFleetRequestId]: { maxUnits: 1 }, [ASG]: { maxUnits: 1 } } });
  await emu.sim.request('POST', 'capacity/config', { bootDelaySeconds: 1, fulfilmentDelaySeconds: 0, cluster: CLUSTER });
  const zones = ['a', 'b', 'c', 'd', 'e', 'f'].map((z) => `us-east-1${z}`);
  await emu.sim.request('POST', 'spot-price-history/prices', {
    prices: Object.entries(SPOT).flatMap(([instanceType, price]) => zones.map((availabilityZone) => ({ instanceType, availabilityZone, price }))),
  });
  await emu.sim.request('POST', 'price-list/prices', { prices: Object.entries(ON_DEMAND).map(([instanceType, usd]) => ({ regionCode: 'us-east-1', instanceType, usd })) });

  const config = { ...world.config, notifications: { webhooks: [] }, metrics: { fleetEverySeconds: 1 } };
  writeFileSync(join(dir, 'fleetops.yaml'), stringify(config));
  const port = await freePort();
  worker = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'workers', 'main.ts')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      FLEETOPS_CONFIG: join(dir, 'fleetops.yaml'),
      FLEETOPS_TEMPORAL_ADDRESS: address(),
      FLEETOPS_TEMPORAL_NAMESPACE: namespace,
      FLEETOPS_WORKER_METRICS_PORT: String(port),
      FLEETOPS_WORKFLOW_BUNDLE: process.env.FLEETOPS_TEST_WORKFLOW_BUNDLE,
      FLEETOPS_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  worker.stdout!.on('data', (b: Buffer) => void (output = (output + b.toString()).slice(-6000)));
  worker.stderr!.on('data', (b: Buffer) => void (output = (output + b.toString()).slice(-6000)));

  const start = capacityStartOptions(CLUSTER);
  const request: CapacityRequest = { direction: 'out', units: 3, reason: 'fleet metrics test', source: { kind: 'alarm', alarmName: 'demo-scale-out', eventId: `fleet-${Date.now()}` } };
  const handle = await client.workflow.signalWithStart<CapacityWorkflow, [CapacityRequest]>(start.workflowType, { ...start, signal: capacityRequestSignal, signalArgs: [request] });
  const status = await untilValue(
    'the scale-out to end with 1 unit unmet and what it delivered ACTIVE',
    async () => {
      if (worker!.exitCode !== null) throw new Error(`worker exited ${worker!.exitCode}:\n${output}`);
      return (await handle.query(statusQuery)) as CapacityStatus;
    },
    (s) => s.pending.unmet === 1 && s.booting.units === 0 && s.pools.filter((p) => p.name !== 'spot-diversified').every((p) => p.activeUnits === 1),
    { timeoutMs: 60_000, intervalMs: 500, failOnError: true },
  ).catch((err: Error) => {
    throw new Error(`${err.message}\nworker output:\n${output}`);
  });

  const text = await until(
    'the fleet gauges and a counted second of fallback on the worker endpoint',
    async () => {
      const body = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => '');
      const fellBack = sample(body, METRICS.onDemandFallbackSeconds.name, { cluster: CLUSTER }) ?? 0;
      const active = sample(body, METRICS.fleetUnits.name, { cluster: CLUSTER, pool: 'on-demand', state: 'active' });
      return fellBack >= 1 && active === 1 && (sample(body, METRICS.unmetUnits.name, { cluster: CLUSTER }) ?? 0) > 0 ? body : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 500 },
  ).catch((err: Error) => {
    throw new Error(`${err.message}\nworker output:\n${output}`);
  });
  mkdirSync(join(ARTIFACTS_DIR, 'metrics'), { recursive: true });
  writeFileSync(join(ARTIFACTS_DIR, 'metrics', 'fleet-metrics.txt'), text);

  for (const p of status.pools) {
    expect([p.name, sample(text, METRICS.fleetUnits.name, { cluster: CLUSTER, pool: p.name, market: p.market, state: 'wanted' })]).toEqual([p.name, p.targetUnits]);
    expect([p.name, sample(text, METRICS.fleetUnits.name, { cluster: CLUSTER, pool: p.name, market: p.market, state: 'active' })]).toEqual([p.name, p.activeUnits]);
    for (const o of p.offerings ?? []) {
      const gauge = sample(text, METRICS.fleetInstances.name, { cluster: CLUSTER, pool: p.name, market: p.market, instance_type: o.instanceType, zone: o.availabilityZone ?? 'unknown' });
      expect([p.name, o.instanceType, gauge ?? 0]).toEqual([p.name, o.instanceType, o.activeInstances]);
    }
  }
  expect(sample(text, METRICS.fleetSpotShare.name, { cluster: CLUSTER })).toBe(0.5);
  expect(sample(text, METRICS.unmetUnits.name, { cluster: CLUSTER })).toBe(1);
  expect(sample(text, METRICS.unmetAge.name, { cluster: CLUSTER })).toBeGreaterThan(0);
  expect(sample(text, METRICS.fleetDataAge.name, { cluster: CLUSTER })).toBeGreaterThanOrEqual(0);

  // Every live instance priced: spot at the emulator's spot price, on demand at its Price List price.
  const live = status.pools.flatMap((p) => (p.offerings ?? []).map((o) => ({ market: p.market, type: o.instanceType as keyof typeof SPOT, n: o.instances })));
  const actual = live.reduce((s, i) => s + i.n * (i.market === 'spot' ? SPOT[i.type] : ON_DEMAND[i.type]), 0);
  const onDemand = live.reduce((s, i) => s + i.n * ON_DEMAND[i.type], 0);
  expect(sample(text, METRICS.hourlyCost.name, { cluster: CLUSTER, basis: 'actual' })).toBeCloseTo(actual, 6);
  expect(sample(text, METRICS.hourlyCost.name, { cluster: CLUSTER, basis: 'on_demand' })).toBeCloseTo(onDemand, 6);
  expect(sample(text, METRICS.savingsRatio.name, { cluster: CLUSTER })).toBeCloseTo(1 - actual / onDemand, 4);
  expect(sample(text, METRICS.unpricedInstances.name, { cluster: CLUSTER })).toBe(0);
  // The worker's gauges carry only their own labels; the counter's name has its `_total` once.
  expect(text).toMatch(/^fleetops_fleet_spot_share\{cluster="demo"\} 0\.5$/m);
  expect(text).toMatch(/^# TYPE fleetops_capacity_on_demand_fallback_seconds_total counter$/m);
  await handle.terminate('test over');
});
