import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { SearchAttributePair } from '@temporalio/common';
import { msToTs } from '@temporalio/common/lib/time';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { FleetopsCluster, FleetopsKind } from '../../common/search-attributes';
import { ROOT } from '../../testkit/paths';
import { until } from '../../testkit/poll';
import { connectDevServer, uniqueTaskQueue } from '../harness/temporal';
import type { OperatorFixtureInput, OperatorFixtureResult } from './fixtures/operator-workflow';
import { cli, cliProcess, operatorFixtureBundle, parseJson } from './helpers';
import { createWorker } from '../harness/workers';

/**
 * The generic commands (status, list, pause, resume, abort) and setup against the dev server, with a
 * fixture workflow that answers the shared operator controls. Most cases run the CLI in-process;
 * a few run bin/fleetops as a subprocess to check exit codes end to end.
 */

let env: TestWorkflowEnvironment;
let worker: Worker;
let workerRun: Promise<void>;
let taskQueue: string;
let address: string;
let temporalEnv: NodeJS.ProcessEnv;
/** Unique per run, so `list --cluster` sees only this file's workflows on the shared server. */
const cluster = `cli-${process.pid}-${Date.now().toString(36)}`;
let counter = 0;

async function startFixture(input: Partial<OperatorFixtureInput> & { kind?: string } = {}) {
  counter += 1;
  const workflowId = `cli-test-${cluster}-${counter}`;
  const attrs: SearchAttributePair[] = [
    { key: FleetopsKind, value: input.kind ?? 'capacity' },
    { key: FleetopsCluster, value: cluster },
  ];
  const handle = await env.client.workflow.start('operatorFixture', {
    taskQueue,
    workflowId,
    args: [{ phase: input.phase ?? 'idle', summary: input.summary ?? `fixture ${counter}`, ...input } satisfies OperatorFixtureInput],
    typedSearchAttributes: attrs,
    staticSummary: `Fixture workflow ${counter} in ${cluster}`,
  });
  return handle;
}

beforeAll(async () => {
  env = await connectDevServer();
  address = process.env.FLEETOPS_TEST_TEMPORAL_ADDRESS!;
  temporalEnv = { FLEETOPS_TEMPORAL_ADDRESS: address };
  taskQueue = uniqueTaskQueue('cli');
  worker = await createWorker({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await operatorFixtureBundle(),
  });
  workerRun = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await workerRun;
  await env?.teardown();
});

describe('status', () => {
  test('--json shows execution, static summary, search attributes and the status query', async () => {
    const handle = await startFixture({ phase: 'scaling-out', summary: 'asking pool spot-a for 2 units' });
    const r = await cli(['status', handle.workflowId, '--json'], temporalEnv);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const view = parseJson(r.stdout);
    expect(view).toMatchObject({
      workflowId: handle.workflowId,
      type: 'operatorFixture',
      executionStatus: 'RUNNING',
      staticSummary: expect.stringContaining('Fixture workflow'),
      searchAttributes: { FleetopsKind: 'capacity', FleetopsCluster: cluster, FleetopsPhase: 'scaling-out' },
      status: { phase: 'scaling-out', summary: 'asking pool spot-a for 2 units', paused: false },
      uiUrl: `http://127.0.0.1:8233/namespaces/default/workflows/${handle.workflowId}`,
    });
  });

  test('text output names phase, summary and the Web UI link', async () => {
    const handle = await startFixture({ phase: 'idle', summary: 'nothing to do' });
    const r = await cli(['status', handle.workflowId], temporalEnv);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${handle.workflowId}  operatorFixture  RUNNING`);
    expect(r.stdout).toMatch(/phase: +idle/);
    expect(r.stdout).toMatch(/summary: +nothing to do/);
    expect(r.stdout).toContain('web ui:');
  });

  test('an unknown workflow exits 1 and says it was not found', async () => {
    const r = await cli(['status', `no-such-workflow-${cluster}`, '--json'], temporalEnv);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(parseJson(r.stderr)).toMatchObject({ error: expect.stringContaining('not found'), exitCode: 1 });
  });

  test('a running workflow that no worker answers exits 1 after --timeout', async () => {
    const workflowId = `cli-test-${cluster}-orphan`;
    await env.client.workflow.start('operatorFixture', {
      taskQueue: uniqueTaskQueue('nobody-polls'),
      workflowId,
      args: [{ phase: 'idle', summary: 'x' }],
    });
    const r = await cli(['status', workflowId, '--timeout', '1'], temporalEnv);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('status:   unavailable');
    expect(r.stderr).toContain('did not answer its status query');
    await env.client.workflow.getHandle(workflowId).terminate('test cleanup');
  });

  test('a blank workflow id exits 2 with a message', async () => {
    const r = await cli(['status', ''], temporalEnv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('invalid workflow id');
  });
});

describe('list', () => {
  test('filters on kind, cluster and phase; --json lists the matches', async () => {
    const drain = await startFixture({ kind: 'drain', phase: 'draining' });
    const deploy = await startFixture({ kind: 'deploy', phase: 'baking' });
    type Listed = { workflowId: string; searchAttributes: Record<string, string> };
    const listed = (out: string) => parseJson<{ workflows: Listed[] }>(out).workflows;

    // Visibility is eventually consistent, and the phases are upserted by the workflows after they
    // start: wait until both workflows show with their phase before filtering on it.
    const both = await until('both workflows in visibility with their phase', async () => {
      const r = await cli(['list', '--cluster', cluster, '--running', '--json'], temporalEnv);
      expect(r.code).toBe(0);
      const found = listed(r.stdout);
      const phaseOf = (id: string) => found.find((w) => w.workflowId === id)?.searchAttributes.FleetopsPhase;
      return phaseOf(drain.workflowId) === 'draining' && phaseOf(deploy.workflowId) === 'baking'
        ? found.map((w) => w.workflowId)
        : undefined;
    }, { timeoutMs: 20_000, intervalMs: 250 });
    expect(both.every((id) => id.startsWith(`cli-test-${cluster}-`))).toBe(true);

    const drains = await cli(['list', '--kind', 'drain', '--cluster', cluster, '--json'], temporalEnv);
    expect(drains.code).toBe(0);
    const parsed = parseJson<{ query: string; workflows: { workflowId: string; searchAttributes: Record<string, string> }[] }>(drains.stdout);
    expect(parsed.query).toBe(`FleetopsKind = "drain" AND FleetopsCluster = "${cluster}"`);
    expect(parsed.workflows.map((w) => w.workflowId)).toEqual([drain.workflowId]);
    expect(parsed.workflows[0]!.searchAttributes).toMatchObject({ FleetopsKind: 'drain', FleetopsPhase: 'draining' });

    const baking = await cli(['list', '--phase', 'baking', '--cluster', cluster], temporalEnv);
    expect(baking.code).toBe(0);
    expect(baking.stdout).toContain(deploy.workflowId);
    expect(baking.stdout).not.toContain(drain.workflowId);

    const none = await cli(['list', '--kind', 'incident', '--cluster', cluster], temporalEnv);
    expect(none).toMatchObject({ code: 0, stdout: expect.stringContaining('no workflows match') });
  });

  test.each([
    [['--kind', 'drains'], 'invalid --kind'],
    [['--cluster', 'a" OR 1=1'], 'invalid --cluster'],
    [['--phase', 'x y'], 'invalid --phase'],
    [['--limit', '0'], 'invalid --limit'],
  ])('bad filter %j exits 2 (%s)', async (args, message) => {
    const r = await cli(['list', ...args], temporalEnv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });
});

describe('pause and resume', () => {
  test('pause holds the workflow, resume releases it; both report the new status', async () => {
    const handle = await startFixture({ phase: 'scaling-in' });
    const paused = await cli(['pause', handle.workflowId, '--reason', 'investigating', '--json'], temporalEnv);
    expect(paused.code).toBe(0);
    expect(parseJson(paused.stdout)).toMatchObject({
      action: 'pause',
      request: { by: 'cli:test', reason: 'investigating' },
      status: { paused: true, phase: 'scaling-in' },
    });
    const resumed = await cli(['resume', handle.workflowId], temporalEnv);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain(`${handle.workflowId}: resumed`);
    expect((await cli(['status', handle.workflowId, '--json'], temporalEnv)).stdout).toContain('"paused": false');
    // Both went as updates (the answer is the state they left, nothing polled), not as signals.
    const events = (await handle.fetchHistory()).events ?? [];
    expect(events.filter((e) => e.workflowExecutionUpdateCompletedEventAttributes).length).toBe(2);
    expect(events.some((e) => e.workflowExecutionSignaledEventAttributes)).toBe(false);
  });

  test('a workflow on a worker older than 0.3.0 (pause and resume only as signals) is signalled and confirmed', async () => {
    const handle = await startFixture({ phase: 'open', legacyPauseSignals: true });
    const paused = await cli(['pause', handle.workflowId, '--json'], temporalEnv);
    expect(paused.code).toBe(0);
    expect(parseJson(paused.stdout)).toMatchObject({ action: 'pause', status: { paused: true } });
    const resumed = await cli(['resume', handle.workflowId, '--json'], temporalEnv);
    expect(parseJson(resumed.stdout)).toMatchObject({ action: 'resume', status: { paused: false } });
    const events = (await handle.fetchHistory()).events ?? [];
    expect(events.filter((e) => e.workflowExecutionSignaledEventAttributes).map((e) => e.workflowExecutionSignaledEventAttributes?.signalName)).toEqual([
      'pause',
      'resume',
    ]);
  });

  test('a workflow that cannot be paused (like a drain) exits 1 and is not signalled', async () => {
    const handle = await startFixture({ kind: 'drain', pausable: false });
    const r = await cli(['pause', handle.workflowId], temporalEnv);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot be paused');
    const history = await handle.fetchHistory();
    expect(history.events?.some((e) => e.workflowExecutionSignaledEventAttributes)).toBe(false);
  });

  test('a blank --reason exits 2', async () => {
    const r = await cli(['pause', 'any-id', '--reason', '   '], temporalEnv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('invalid --reason');
  });
});

describe('abort', () => {
  test('aborts with a reason; the workflow ends and records who and why', async () => {
    const handle = await startFixture({ phase: 'waiting' });
    const r = await cli(['abort', handle.workflowId, '--reason', 'wrong cluster', '--json'], temporalEnv);
    expect(r.code).toBe(0);
    expect(parseJson(r.stdout)).toMatchObject({ action: 'abort', reason: 'wrong cluster', status: { abortRequested: 'wrong cluster' } });
    await expect(handle.result()).resolves.toEqual<OperatorFixtureResult>({ abortReason: 'wrong cluster', abortedBy: 'cli:test' });

    const again = await cli(['abort', handle.workflowId, '--reason', 'again'], temporalEnv);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/not found|already completed|no longer running/);
  });

  test('an abort the workflow rejects exits 1 with the validator’s message', async () => {
    const handle = await startFixture({ refuseAbort: 'nothing to abort: promotion already done' });
    const r = await cli(['abort', handle.workflowId, '--reason', 'stop'], temporalEnv);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('rejected: nothing to abort: promotion already done');
  });

  test.each([
    [['abort', 'some-id'], "required option '--reason <text>' not specified"],
    [['abort', 'some-id', '--reason', ''], 'invalid --reason'],
  ])('%j exits 2', async (args, message) => {
    const r = await cli(args, temporalEnv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });
});

describe('setup', () => {
  test('registers the eight search attributes in a new namespace, and a second run changes nothing', async () => {
    const namespace = `fleetops-setup-${process.pid}-${Date.now().toString(36)}`;
    await env.client.connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs('1 day'),
    });
    const nsEnv = { ...temporalEnv, FLEETOPS_TEMPORAL_NAMESPACE: namespace };
    // The frontend learns of a new namespace on its next registry refresh.
    const first = await until(`namespace ${namespace} to be usable`, async () => {
      const r = await cli(['setup', '--json'], nsEnv);
      return r.code === 0 ? r : undefined;
    }, { timeoutMs: 30_000, intervalMs: 250 });
    expect(parseJson(first.stdout)).toEqual({
      address,
      namespace,
      added: ['FleetopsKind', 'FleetopsCluster', 'FleetopsService', 'FleetopsInstanceId', 'FleetopsPhase', 'FleetopsSeverity', 'FleetopsAccount', 'FleetopsRegion'],
      alreadyRegistered: [],
    });
    const second = await cli(['setup', '--namespace', namespace, '--json'], temporalEnv);
    expect(second.code).toBe(0);
    expect(parseJson(second.stdout)).toMatchObject({ added: [], alreadyRegistered: expect.arrayContaining(['FleetopsKind', 'FleetopsSeverity']) });
  });

  test('the namespace the stack and harness set up reports all eight as already registered', async () => {
    const r = await cli(['setup'], temporalEnv);
    expect(r.code).toBe(0);
    expect(r.stdout.match(/already registered/g)).toHaveLength(8);
  });
});

describe('connection and usage', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fleetops-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('.run/stack.json in the working directory supplies the address when no flag or env does', async () => {
    const handle = await startFixture();
    mkdirSync(join(dir, '.run'), { recursive: true });
    writeFileSync(join(dir, '.run', 'stack.json'), JSON.stringify({ temporal: { address, namespace: 'default', ui: 'http://127.0.0.1:18233' } }));
    const r = await cli(['status', handle.workflowId, '--json'], {}, dir);
    expect(r.code).toBe(0);
    expect(parseJson(r.stdout)).toMatchObject({ uiUrl: `http://127.0.0.1:18233/namespaces/default/workflows/${handle.workflowId}` });
  });

  test('a config file supplies the address; a broken one exits 2 naming the field', async () => {
    const handle = await startFixture();
    const doc = parseYaml(readFileSync(join(ROOT, 'test', 'fixtures', 'fleetops.valid.yaml'), 'utf8')) as Record<string, unknown>;
    const good = join(dir, 'good.yaml');
    writeFileSync(good, stringifyYaml({ ...doc, temporal: { ...(doc.temporal as object), address, uiUrl: 'http://ui.example:8233' } }));
    const ok = await cli(['--config', good, 'status', handle.workflowId, '--json'], {}, dir);
    expect(ok.code).toBe(0);
    expect(parseJson(ok.stdout)).toMatchObject({ uiUrl: expect.stringMatching(/^http:\/\/ui\.example:8233\//) });

    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'aws:\n  region: nowhere\n');
    const r = await cli(['status', 'x'], { FLEETOPS_CONFIG: bad }, dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('aws.region');
  });

  test('an unreachable Temporal exits 1; a malformed address exits 2', async () => {
    const down = await cli(['status', 'x', '--address', '127.0.0.1:1', '--timeout', '1'], {});
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('cannot reach Temporal at 127.0.0.1:1');
    const bad = await cli(['status', 'x', '--address', 'not an address'], {});
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('invalid Temporal address');
  });

  test.each([
    [[], 'Usage: fleetops'],
    [['bogus'], "unknown command 'bogus'"],
    [['status'], "missing required argument 'workflow-id'"],
    [['status', 'a', 'b'], 'too many arguments'],
    [['list', '--nope'], "unknown option '--nope'"],
    [['status', 'x', '--timeout', '-1'], 'invalid --timeout'],
  ])('usage error %j exits 2 with a message', async (args, message) => {
    const r = await cli(args, temporalEnv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  test('--help exits 0 and lists every command', async () => {
    const r = await cli(['--help'], {});
    expect(r.code).toBe(0);
    for (const c of ['status', 'list', 'deploy', 'approve', 'abort', 'pause', 'resume', 'incident', 'setup']) {
      expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    }
  });
});

describe('bin/fleetops as a process', () => {
  test('exit codes 0, 1 and 2 reach the shell', async () => {
    const handle = await startFixture({ phase: 'idle', summary: 'from a subprocess' });
    const [ok, missing, usage] = await Promise.all([
      cliProcess(['status', handle.workflowId, '--json'], temporalEnv),
      cliProcess(['status', `missing-${cluster}`], temporalEnv),
      cliProcess(['incident', 'open', '--title', 'x', '--severity', 'sev9'], temporalEnv),
    ]);
    expect(ok.code).toBe(0);
    expect(parseJson(ok.stdout)).toMatchObject({ status: { summary: 'from a subprocess' } });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('not found');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('invalid --severity "sev9"');
  });
});
