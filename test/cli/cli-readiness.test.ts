import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { msToTs } from '@temporalio/common/lib/time';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { parse as parseYaml } from 'yaml';
import type { WindowRow } from '../../contracts/readiness/window-rows';
import type { ScheduleRow } from '../../contracts/schedule-rows';
import { TASK_QUEUE_DEFAULT } from '../../common/task-queues';
import { ROOT } from '../../testkit/paths';
import { until, untilValue } from '../../testkit/poll';
import { bundledWorkflows, connectDevServer } from '../harness/temporal';
import { createWorker } from '../harness/workers';
import { cli, parseJson, writeCliConfig } from './helpers';

/**
 * `fleetops readiness add|list|change|cancel` and the windows in `fleetops schedules`, against the real
 * readiness workflow on the dev server, in a namespace of the suite's own (so its worker can poll the
 * `fleetops` queue the CLI starts on). The windows start hours ahead: nothing here raises a floor.
 */


let env: TestWorkflowEnvironment;
let worker: Worker;
let workerRun: Promise<void>;
let cliEnv: NodeJS.ProcessEnv;
let configDir: string;
const cluster = `rdy${process.pid}${Date.now().toString(36)}`;
const other = `${cluster}b`;
const bare = `${cluster}c`;

beforeAll(async () => {
  env = await connectDevServer();
  const namespace = `fleetops-cli-readiness-${process.pid}-${Date.now().toString(36)}`;
  await env.client.connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
  configDir = mkdtempSync(join(tmpdir(), 'fleetops-cli-readiness-'));
  const fixture = parseYaml(readFileSync(join(ROOT, 'test', 'fixtures', 'fleetops.valid.yaml'), 'utf8')) as { clusters: Record<string, object> };
  const levels = { bootToActiveSeconds: 240, levels: { '2': { floor: { units: 4 } }, '3': { floor: { units: 8 }, onDemandShare: 0.5, freezeDeploys: true, notify: ['#launch'] } } };
  const withLevels = { ...fixture.clusters.demo, readiness: levels };
  const config = writeCliConfig(configDir, [{ cluster, name: 'web' }, { cluster: other, name: 'web' }], { clusters: { [cluster]: withLevels, [other]: withLevels, [bare]: withLevels } });
  cliEnv = { FLEETOPS_TEMPORAL_ADDRESS: process.env.FLEETOPS_TEST_TEMPORAL_ADDRESS, FLEETOPS_TEMPORAL_NAMESPACE: namespace, FLEETOPS_CONFIG: config };
  await until('setup in the new namespace', async () => ((await cli(['setup'], cliEnv)).code === 0 ? true : undefined), { timeoutMs: 30_000, intervalMs: 250 });
  const notify = async () => ({ sent: ['test'], skipped: [] });
  worker = await createWorker({ connection: env.nativeConnection, namespace, taskQueue: TASK_QUEUE_DEFAULT, ...bundledWorkflows(), activities: { notify } });
  workerRun = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await workerRun;
  await env?.teardown();
  if (configDir) rmSync(configDir, { recursive: true, force: true });
});

const hours = (h: number) => new Date(Math.ceil((Date.now() + h * 3600_000) / 60_000) * 60_000).toISOString();
const listed = async (): Promise<WindowRow[]> => parseJson<{ windows: WindowRow[] }>((await cli(['readiness', 'list', '--json'], cliEnv)).stdout).windows;

describe('fleetops readiness', () => {
  it('adds a window on two clusters, lists it, changes its level, cancels one, and shows it in schedules', async () => {
    const start = hours(3);
    const end = hours(5);
    const added = await cli(['readiness', 'add', cluster, other, '--level', '3', '--start', start, '--end', end, '--reason', 'TV spot', '--id', 'tv', '--json'], cliEnv, undefined, 'alice');
    expect(added.code).toBe(0);
    const ids = [`readiness-${cluster}-tv`, `readiness-${other}-tv`];
    expect(parseJson(added.stdout)).toEqual({ windows: ids, start, end, level: 3 });

    const rows = await untilValue('both windows listed', listed, (r) => r.length === 2, { timeoutMs: 15_000, intervalMs: 250 });
    expect(rows[0]).toEqual({ workflowId: ids[0], cluster, level: 3, phase: 'waiting', start, end, raiseAt: new Date(Date.parse(start) - 240_000).toISOString(), floorUnits: null, freezesDeploys: true, reason: 'TV spot' });
    const table = await cli(['readiness', 'list'], cliEnv);
    expect(table.stdout).toMatch(/^ID\s+LEVEL\s+PHASE\s+START\s+END\s+FLOOR\s+FREEZE\s+REASON/);

    const again = await cli(['readiness', 'add', cluster, '--level', '3', '--start', start, '--end', end, '--reason', 'TV spot', '--id', 'tv'], cliEnv);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('exists already');

    const changed = await cli(['readiness', 'change', ids[0]!, '--level', '2', '--json'], cliEnv, undefined, 'bob');
    expect(changed.code).toBe(0);
    expect(parseJson<{ status: { level: { level: number; floor: unknown } } }>(changed.stdout).status.level).toMatchObject({ level: 2, floor: { units: 4 } });
    const refused = await cli(['readiness', 'change', ids[0]!, '--end', hours(2)], cliEnv);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('a window ends after it starts');

    const schedules = parseJson<{ schedules: ScheduleRow[] }>((await cli(['schedules', '--json'], cliEnv)).stdout).schedules;
    expect(schedules).toContainEqual(expect.objectContaining({ kind: 'readiness', scheduleId: ids[1], what: `${other} level 3 (deploys frozen): TV spot`, when: `${start} → ${end}`, next: new Date(Date.parse(start) - 240_000).toISOString() }));

    const cancelled = await cli(['readiness', 'cancel', ids[1]!, '--reason', 'campaign moved'], cliEnv);
    expect(cancelled.code).toBe(0);
    await untilValue('the cancelled window gone from the list', listed, (r) => r.length === 1, { timeoutMs: 15_000, intervalMs: 250 });
    expect((await cli(['readiness', 'cancel', ids[0]!], cliEnv)).code).toBe(0);
  });

  it('refuses an unknown level, a cluster without configured services, and times without their zone', async () => {
    const unknown = await cli(['readiness', 'add', cluster, '--level', '7', '--start', hours(3), '--end', hours(4), '--reason', 'x'], cliEnv);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no readiness level 7');
    const noAuthority = await cli(['readiness', 'add', bare, '--level', '2', '--start', hours(3), '--end', hours(4), '--reason', 'x'], cliEnv);
    expect(noAuthority.code).toBe(1);
    expect(noAuthority.stderr).toContain('authority to deploy');
    const noZone = await cli(['readiness', 'add', cluster, '--level', '2', '--start', '2030-01-01T10:00', '--end', hours(4), '--reason', 'x'], cliEnv);
    expect(noZone.code).toBe(2);
  });
});
