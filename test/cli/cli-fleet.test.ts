import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, type Worker } from '@temporalio/worker';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { FleetopsCluster, FleetopsKind } from '../../common/search-attributes';
import type { CapacityStatus } from '../../contracts/capacity/messages';
import type { ClusterReport } from '../../cli/fleet-report';
import { startEmulator } from '../../testkit/emulator';
import { ROOT } from '../../testkit/paths';
import { until } from '../../testkit/poll';
import { useEmulator } from '../harness/emulator';
import { connectDevServer } from '../harness/temporal';
import { createWorker } from '../harness/workers';
import { cli, parseJson } from './helpers';

/**
 * `fleetops fleet` and the readable `fleetops status`, against stand-in workflows in a namespace of
 * the file's own (test/cli/fixtures/fleet-workflows.ts: a capacity workflow's status, drains, one a
 * scale-in child, a readiness window), pricing on demand with the emulator's Price List API as an
 * operator's CLI does, or with the config's table.
 */


const emu = useEmulator(() => startEmulator({ autoTick: false }), { resetEach: false });
let env: TestWorkflowEnvironment;
let client: Client;
let worker: Worker;
let workerRun: Promise<void>;
let dir: string;
let cliEnv: NodeJS.ProcessEnv;
const taskQueue = 'fleet-fixtures';
const cluster = 'prod';
const quiet = 'quiet';

const capacityStatus: CapacityStatus = {
  phase: 'idle',
  summary: 'idle: spot-instant 3, on-demand 1 units',
  cluster,
  cleanups: 0,
  booting: { units: 0, instances: 0 },
  pools: [
    {
      name: 'spot-instant',
      kind: 'ec2-fleet',
      market: 'spot',
      targetUnits: 3,
      actualUnits: 3,
      activeUnits: 3,
      offerings: [
        { instanceType: 'm5.large', availabilityZone: 'us-east-1a', instances: 2, units: 2, activeInstances: 2, activeUnits: 2, spotPrice: 0.03 },
        { instanceType: 'm5a.large', availabilityZone: 'us-east-1b', instances: 1, units: 1, activeInstances: 1, activeUnits: 1, spotPrice: 0.026 },
      ],
    },
    { name: 'on-demand', kind: 'asg', market: 'on-demand', targetUnits: 1, actualUnits: 1, activeUnits: 1, offerings: [{ instanceType: 'm5.large', availabilityZone: 'us-east-1a', instances: 1, units: 1, activeInstances: 1, activeUnits: 1 }] },
  ],
  poolsAt: new Date().toISOString(),
  unavailable: [],
  pending: { out: 0, in: 0, unmet: 2, requests: 0, unmetSince: '2026-01-01T00:00:00.000Z' },
  fallback: { onDemandUnits: 1, floorUnits: 0, movableUnits: 1, since: '2026-01-01T00:00:00.000Z' },
  decisions: [
    { at: '2026-01-01T00:00:00.000Z', action: 'scale-out', units: 3, reason: 'alarm demo-scale-out: CPU high' },
    { at: '2026-01-01T00:00:05.000Z', action: 'pool-failed', pool: 'spot-diversified', reason: 'capacity error' },
  ],
  signalsReceived: 1,
  duplicates: 0,
  plans: 1,
  continuedRuns: 0,
};

beforeAll(async () => {
  env = await connectDevServer();
  const namespace = `fleetops-cli-fleet-${process.pid}-${Date.now().toString(36)}`;
  await env.client.connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
  dir = mkdtempSync(join(tmpdir(), 'fleetops-cli-fleet-'));
  const fixture = parseYaml(readFileSync(join(ROOT, 'test', 'fixtures', 'fleetops.valid.yaml'), 'utf8')) as Record<string, any>;
  const config = { ...fixture, aws: { region: 'us-east-1', endpoint: emu.endpoint }, clusters: { [cluster]: fixture.clusters.demo, [quiet]: fixture.clusters.demo }, services: [], alarmRoutes: [], pricing: { onDemandHourly: { 'm5.large': 0.1, 'm5a.large': 0.09 } } };
  writeFileSync(join(dir, 'fleetops.yaml'), stringifyYaml(config));
  writeFileSync(join(dir, 'table-only.yaml'), stringifyYaml({ ...config, pricing: { ...config.pricing, priceListApi: false } }));
  cliEnv = { FLEETOPS_TEMPORAL_ADDRESS: process.env.FLEETOPS_TEST_TEMPORAL_ADDRESS, FLEETOPS_TEMPORAL_NAMESPACE: namespace, FLEETOPS_CONFIG: join(dir, 'fleetops.yaml'), AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' };
  await until('setup in the new namespace', async () => ((await cli(['setup'], cliEnv)).code === 0 ? true : undefined), { timeoutMs: 30_000, intervalMs: 250 });
  client = new Client({ connection: env.client.connection, namespace });
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./fixtures/fleet-workflows'), logger: new DefaultLogger('ERROR') });
  worker = await createWorker({ connection: env.nativeConnection, namespace, taskQueue, workflowBundle });
  workerRun = worker.run();

  const start = (workflowId: string, kind: string, status: unknown) =>
    client.workflow.start('statusFixture', { taskQueue, workflowId, args: [{ status }], typedSearchAttributes: [{ key: FleetopsKind, value: kind }, { key: FleetopsCluster, value: cluster }] });
  await start(`capacity-${cluster}`, 'capacity', capacityStatus);
  await start('drain-i-0000000000000000a', 'drain', { phase: 'drained', summary: 'warning' });
  await start('drain-i-0000000000000000b', 'drain', { phase: 'drained', summary: 'rebalance' });
  await client.workflow.start('scaleInParentFixture', { taskQueue, workflowId: `capacity-parent-${cluster}`, args: [{ childId: 'drain-i-0000000000000000c', cluster, taskQueue }] });
  const window = { phase: 'holding', summary: 'holding', cluster, id: 'tv', start: '2026-01-02T18:00:00.000Z', end: '2026-01-02T20:00:00.000Z', reason: 'TV', level: { level: 3, freezeDeploys: false }, raiseAt: '2026-01-02T17:50:00.000Z', floorUnits: 8, events: [] };
  await start(`readiness-${cluster}-tv`, 'readiness', window);
  await emu.sim.request('POST', 'price-list/prices', { prices: [{ regionCode: 'us-east-1', instanceType: 'm5.large', usd: 0.096 }, { regionCode: 'us-east-1', instanceType: 'm5a.large', usd: 0.086 }] });
  await until('visibility to list the drains and the window', async () => ((await client.workflow.count(`FleetopsCluster = "${cluster}"`)).count === 5 ? true : undefined), { timeoutMs: 30_000, intervalMs: 250 });
});

afterAll(async () => {
  worker?.shutdown();
  await workerRun;
  await env?.teardown();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('fleetops fleet', () => {
  it('prints a cluster\'s pools, spot share, fallback, unmet units, interruptions, readiness windows and savings priced by the Price List API', async () => {
    const r = await cli(['fleet', cluster], cliEnv);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`cluster ${cluster}`);
    expect(r.stdout).toMatch(/^ {2}POOL\s+MARKET\s+TYPES\s+ZONES\s+WANTED\s+ACTIVE\s+SHARE$/m);
    expect(r.stdout).toMatch(/^ {2}spot-instant\s+spot\s+m5\.large,m5a\.large\s+us-east-1a,us-east-1b\s+3\s+3\s+75%$/m);
    expect(r.stdout).toMatch(/^ {2}on-demand\s+on-demand\s+m5\.large\s+us-east-1a\s+1\s+1\s+25%$/m);
    expect(r.stdout).toContain('  spot share: 75% of 4 ACTIVE units (3 spot)');
    expect(r.stdout).toContain('  on-demand fallback: 1 unit(s) to move back to spot, since 2026-01-01T00:00:00.000Z');
    expect(r.stdout).toContain('  unmet: 2 unit(s) since 2026-01-01T00:00:00.000Z');
    // Two drains of AWS events; the scale-in drain (the capacity workflow's child) is none.
    expect(r.stdout).toContain('  interruptions (last 24 h): 2');
    expect(r.stdout).toContain(`  readiness windows: readiness-${cluster}-tv (level 3, holding, 2026-01-02T18:00:00.000Z -> 2026-01-02T20:00:00.000Z, floor 8)`);
    // 2 x 0.03 + 0.026 + 0.096 = 0.182 as it runs; 3 x 0.096 + 0.086 = 0.374 on demand.
    expect(r.stdout).toContain('  savings: $0.1820/h as it runs vs $0.3740/h on demand, 51% saved (on-demand prices: Price List API)');
  });

  it('--json gives the same figures; the config table prices when the Price List API is off; a configured cluster without a capacity workflow says so', async () => {
    const json = parseJson<{ clusters: ClusterReport[] }>((await cli(['fleet', '--json'], cliEnv)).stdout);
    expect(json.clusters.map((c) => [c.cluster, c.capacity])).toEqual([
      [cluster, 'running'],
      [quiet, 'not running'],
    ]);
    const prod = json.clusters[0]!;
    expect(prod.view?.spotShare).toBe(0.75);
    expect(prod.view?.unmet).toEqual({ units: 2, since: '2026-01-01T00:00:00.000Z' });
    expect(prod.interruptions).toEqual({ hours: 24, count: 2, capped: false });
    expect(prod.cost).toEqual({ actual: 0.182, onDemand: 0.374, savingsRatio: 0.513369, pricedInstances: 4, unpricedInstances: 0, unpricedTypes: [] });
    expect(prod.prices?.onDemand['m5.large']).toEqual({ usd: 0.096, source: 'price-list-api' });

    const table = await cli(['fleet', cluster, '--json', '--config', join(dir, 'table-only.yaml')], cliEnv);
    const t = parseJson<{ clusters: ClusterReport[] }>(table.stdout).clusters[0]!;
    expect(t.prices).toEqual({ onDemand: { 'm5.large': { usd: 0.1, source: 'config' }, 'm5a.large': { usd: 0.09, source: 'config' } }, apiError: 'off (pricing.priceListApi: false)' });
    expect(t.cost?.onDemand).toBe(0.39);
    const human = await cli(['fleet', quiet], cliEnv);
    expect(human.stdout).toContain('  capacity workflow: not running (nothing known of the pools)');
    expect(human.stdout).not.toContain('savings');
  });
});

describe('fleetops status', () => {
  it('prints lists one record a line, its time first and its reason last, instead of JSON arrays', async () => {
    const r = await cli(['status', `capacity-${cluster}`], cliEnv);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('  decisions:\n    2026-01-01T00:00:00.000Z  scale-out  units=3: alarm demo-scale-out: CPU high\n    2026-01-01T00:00:05.000Z  pool-failed  pool=spot-diversified: capacity error\n');
    expect(r.stdout).toContain('  pending: out=0  in=0  unmet=2  requests=0  unmetSince=2026-01-01T00:00:00.000Z');
    expect(r.stdout).toContain('  pools:\n    spot-instant  kind=ec2-fleet  market=spot  targetUnits=3  actualUnits=3  activeUnits=3\n      offerings:\n        m5.large  availabilityZone=us-east-1a  instances=2');
    expect(r.stdout).toContain('  unavailable: none');
    expect(r.stdout).not.toMatch(/: \[\{/);
  });
});
