import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { msToTs } from '@temporalio/common/lib/time';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { Client } from '@temporalio/client';
import { blockingIncidentsQuery, createDeployIncidentActivities } from '../../activities/deploy/incidents';
import { createReadinessFreezeActivities } from '../../activities/deploy/readiness-freeze';
import type { ResolvedPlan, ServiceSnapshot } from '../../activities/deploy/types';
import { createIncidentActivities } from '../../activities/incident';
import { TASK_QUEUE_DEFAULT } from '../../common/task-queues';
import { serviceSchema } from '../../config/schema';
import type { DeployResult } from '../../contracts/canary-deploy/messages';
import { alarmEventSignal } from '../../contracts/incident/messages';
import { until } from '../../testkit/poll';
import { bundledWorkflows, connectDevServer } from '../harness/temporal';
import { incidentTestConfig, recordingNotify } from '../incident/fixtures';
import { cli, parseJson, writeCliConfig } from './helpers';
import { createWorker } from '../harness/workers';

/**
 * `incident ...` against the real incident workflow on the dev server. The suite has a
 * namespace of its own (registered here, search attributes added by `fleetops setup`), so its worker
 * can poll the real `fleetops` task queue the CLI starts on without taking other suites' tasks.
 * Incident activities are the real ones on a test config with a recording notifier. For the deploy
 * freeze, the worker also runs the canary deploy with its real incident check (a visibility query);
 * its plan lookup is a stub and its service lookup finds nothing, so a deploy that gets past the
 * freeze ends refused with "not found" rather than touching AWS.
 */

/** Preflight's AWS steps, stubbed: the freeze is decided before them. */
const deployStubs = {
  async resolveDeployPlan(input: { cluster: string; service: string }): Promise<ResolvedPlan> {
    return { plan: serviceSchema.parse({ cluster: input.cluster, name: input.service }).canary, canaryService: `${input.service}-canary` };
  },
  async describeDeployService(): Promise<ServiceSnapshot | null> {
    return null;
  },
};

let env: TestWorkflowEnvironment;
let nsClient: Client;
let worker: Worker;
let workerRun: Promise<void>;
let namespace: string;
let cliEnv: NodeJS.ProcessEnv;
let postmortemDir: string;
let configDir: string;

beforeAll(async () => {
  env = await connectDevServer();
  namespace = `fleetops-cli-${process.pid}-${Date.now().toString(36)}`;
  await env.client.connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
  postmortemDir = mkdtempSync(join(tmpdir(), 'fleetops-cli-postmortems-'));
  // `fleetops deploy` reads the services (and their images) of the clusters the freeze tests deploy to.
  configDir = mkdtempSync(join(tmpdir(), 'fleetops-cli-config-'));
  const deployConfig = writeCliConfig(configDir, [`frz-${process.pid}`, `esc-${process.pid}`].map((cluster) => ({ cluster, name: 'web' })));
  cliEnv = { FLEETOPS_TEMPORAL_ADDRESS: process.env.FLEETOPS_TEST_TEMPORAL_ADDRESS, FLEETOPS_TEMPORAL_NAMESPACE: namespace, FLEETOPS_CONFIG: deployConfig };
  await until('setup in the new namespace', async () => ((await cli(['setup'], cliEnv)).code === 0 ? true : undefined), { timeoutMs: 30_000, intervalMs: 250 });

  const config = incidentTestConfig({ postmortemDir });
  const client = env.client;
  nsClient = new Client({ connection: env.client.connection, namespace });
  worker = await createWorker({
    connection: env.nativeConnection,
    namespace,
    taskQueue: TASK_QUEUE_DEFAULT,
    ...bundledWorkflows(),
    activities: {
      ...createIncidentActivities({ config, temporal: { client, namespace } }),
      notify: recordingNotify().notify,
      ...deployStubs,
      findBlockingIncidents: createDeployIncidentActivities({ temporal: { client: nsClient, namespace } }).findBlockingIncidents,
      findFreezingWindows: createReadinessFreezeActivities({ temporal: { client: nsClient, namespace } }).findFreezingWindows,
    },
  });
  workerRun = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await workerRun;
  await env?.teardown();
  if (postmortemDir) rmSync(postmortemDir, { recursive: true, force: true });
  if (configDir) rmSync(configDir, { recursive: true, force: true });
});

describe('incident', () => {
  test('open, assign, note, check, resolve and postmortem, each reporting the incident’s status', async () => {
    const opened = await cli(['incident', 'open', '--title', 'API 5xx above threshold', '--severity', 'sev3', '--summary', 'checkout failing', '--json'], cliEnv);
    expect(opened.code).toBe(0);
    const { workflowId } = parseJson<{ workflowId: string }>(opened.stdout);
    expect(workflowId).toMatch(/^incident-api-5xx-above-threshold-[0-9a-f]{8}$/);
    await until('the incident to open', async () => {
      const r = await cli(['status', workflowId, '--json'], cliEnv);
      return parseJson<{ status?: { phase: string } }>(r.stdout).status?.phase === 'open' ? true : undefined;
    }, { timeoutMs: 20_000, intervalMs: 250 });

    const assigned = await cli(['incident', 'assign', workflowId, '--role', 'commander', '--person', 'alice', '--json'], cliEnv);
    expect(assigned.code).toBe(0);
    expect(parseJson(assigned.stdout)).toMatchObject({ status: { roles: { commander: 'alice' } } });

    const noted = await cli(['incident', 'note', workflowId, 'rolled back web to v41', '--status-update'], cliEnv);
    expect(noted.code).toBe(0);
    expect(noted.stdout).toContain('status update recorded');

    // The workflow's validator decides what a checklist item needs; its message reaches the operator.
    const unknown = await cli(['incident', 'check', workflowId, 'coffee-made'], cliEnv);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/rejected: .*coffee-made/);

    const mitigated = await cli(['incident', 'check', workflowId, 'mitigated', '--note', 'error rate back to baseline', '--json'], cliEnv);
    expect(mitigated.code).toBe(0);
    expect(parseJson(mitigated.stdout)).toMatchObject({ status: { phase: 'mitigated' } });

    const resolved = await cli(['incident', 'resolve', workflowId, '--resolution', 'rolled back to v41', '--json'], cliEnv);
    expect(resolved.code).toBe(0);
    expect(parseJson<{ status: { phase: string } }>(resolved.stdout).status.phase).toMatch(/^postmortem/);

    const out = join(postmortemDir, 'from-cli.md');
    const pm = await cli(
      [
        'incident',
        'postmortem',
        workflowId,
        '--summary',
        'Checkout returned 5xx for 12 minutes after the v42 deploy.',
        '--went-well',
        'The alarm fired within a minute.',
        '--action-item',
        'prevent:alice:Add a canary metric check for 5xx',
        '--out',
        out,
        '--json',
      ],
      cliEnv,
    );
    expect(pm.code).toBe(0);
    const doc = parseJson<{ markdown: string; changed: string[]; writtenTo: string }>(pm.stdout);
    expect(doc.changed).toEqual(['summary', 'lesson:went-well', 'action-item:prevent']);
    expect(doc.markdown).toContain('Checkout returned 5xx for 12 minutes after the v42 deploy.');
    expect(doc.markdown).toContain('Add a canary metric check for 5xx');
    expect(readFileSync(out, 'utf8')).toBe(doc.markdown);

    const text = await cli(['incident', 'postmortem', workflowId], cliEnv);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('The alarm fired within a minute.');
  });

  test('open --cluster tags the incident with FleetopsCluster; while that sev2 is open a deploy to the cluster is refused, and after it the freeze lifts', async () => {
    const cluster = `frz-${process.pid}`;
    const opened = await cli(['incident', 'open', '--title', 'web returns 502', '--severity', 'sev2', '--cluster', cluster, '--json'], cliEnv);
    expect(opened.code).toBe(0);
    const { workflowId, cluster: printed } = parseJson<{ workflowId: string; cluster?: string }>(opened.stdout);
    expect(printed).toBe(cluster);
    const shown = await until('the incident to open', async () => {
      const r = parseJson<{ searchAttributes: Record<string, string>; status?: { phase: string } }>((await cli(['status', workflowId, '--json'], cliEnv)).stdout);
      return r.status?.phase === 'open' ? r : undefined;
    }, { timeoutMs: 20_000, intervalMs: 250 });
    expect(shown.searchAttributes).toMatchObject({ FleetopsKind: 'incident', FleetopsSeverity: 'sev2', FleetopsCluster: cluster });

    const deploy = async (): Promise<DeployResult> => {
      const r = await cli(['deploy', cluster, 'web', '--image', 'registry.example/web:2', '--json'], cliEnv);
      expect(r.code).toBe(0);
      const { workflowId: deployId } = parseJson<{ workflowId: string }>(r.stdout);
      return (await nsClient.workflow.getHandle(deployId).result()) as DeployResult;
    };
    expect(await deploy()).toMatchObject({
      outcome: 'refused',
      reason: expect.stringContaining(`deploys to ${cluster} are frozen while incidents are open: ${workflowId} (sev2, open)`),
    });

    // Closed without a postmortem: no longer open, so the next deploy gets past the freeze.
    const aborted = await cli(['abort', workflowId, '--reason', 'declared on the wrong service'], cliEnv);
    expect(aborted.code).toBe(0);
    await nsClient.workflow.getHandle(workflowId).result();
    await until('visibility to show the incident closed', async () => {
      const open: string[] = [];
      for await (const wf of nsClient.workflow.list({ query: blockingIncidentsQuery(cluster) })) open.push(wf.workflowId);
      return open.length === 0 ? true : undefined;
    }, { timeoutMs: 20_000, intervalMs: 250 });
    const after = await deploy();
    expect(after).toMatchObject({ outcome: 'refused', reason: `service web not found in cluster ${cluster}` });
    expect(after.decisions.map((d) => d.reason)).toContain(`no sev1/sev2 incident open for ${cluster}`);
  });

  test('incident severity: escalating a sev3 tagged with a cluster freezes its deploys at once, de-escalating lifts it; a reopened incident freezes again', async () => {
    const cluster = `esc-${process.pid}`;
    const opened = await cli(['incident', 'open', '--title', 'web slow', '--severity', 'sev3', '--cluster', cluster, '--json'], cliEnv);
    expect(opened.code).toBe(0);
    const { workflowId } = parseJson<{ workflowId: string }>(opened.stdout);
    await until('the incident to open', async () => {
      const r = parseJson<{ status?: { phase: string } }>((await cli(['status', workflowId, '--json'], cliEnv)).stdout);
      return r.status?.phase === 'open' ? true : undefined;
    }, { timeoutMs: 20_000, intervalMs: 250 });
    const deploy = async (): Promise<DeployResult> => {
      const r = await cli(['deploy', cluster, 'web', '--image', 'registry.example/web:3', '--json'], cliEnv);
      expect(r.code).toBe(0);
      return (await nsClient.workflow.getHandle(parseJson<{ workflowId: string }>(r.stdout).workflowId).result()) as DeployResult;
    };
    const frozen = `deploys to ${cluster} are frozen while incidents are open: ${workflowId}`;
    const blocking = async () => {
      const open: string[] = [];
      for await (const wf of nsClient.workflow.list({ query: blockingIncidentsQuery(cluster) })) open.push(wf.workflowId);
      return open;
    };
    // A sev3 freezes nothing.
    expect((await deploy()).reason).toBe(`service web not found in cluster ${cluster}`);

    const up = await cli(['incident', 'severity', workflowId, 'sev1', '--reason', 'every customer affected', '--json'], cliEnv);
    expect(up.code).toBe(0);
    expect(parseJson(up.stdout)).toMatchObject({ action: 'severity sev1', status: { severity: 'sev1', severityChanges: [{ from: 'sev3', to: 'sev1', by: expect.any(String), reason: 'every customer affected' }] } });
    await until('visibility to show the sev1', async () => ((await blocking()).includes(workflowId) ? true : undefined), { timeoutMs: 20_000, intervalMs: 250 });
    expect(await deploy()).toMatchObject({ outcome: 'refused', reason: expect.stringContaining(`${frozen} (sev1, open)`) });

    const same = await cli(['incident', 'severity', workflowId, 'sev1', '--reason', 'again'], cliEnv);
    expect(same.code).toBe(1);
    expect(same.stderr).toContain('the incident is already sev1');

    const down = await cli(['incident', 'severity', workflowId, 'sev3', '--reason', 'one region only'], cliEnv);
    expect(down.code).toBe(0);
    expect(down.stdout).toContain(`${workflowId}: severity sev3 recorded`);
    await until('visibility to show the freeze lifted', async () => ((await blocking()).length === 0 ? true : undefined), { timeoutMs: 20_000, intervalMs: 250 });
    expect((await deploy()).reason).toBe(`service web not found in cluster ${cluster}`);

    // Back to sev2, resolved: no freeze. The alarm fires again while the postmortem is written: open again, frozen again.
    expect((await cli(['incident', 'severity', workflowId, 'sev2', '--reason', 'two regions'], cliEnv)).code).toBe(0);
    expect((await cli(['incident', 'assign', workflowId, '--role', 'commander', '--person', 'alice'], cliEnv)).code).toBe(0);
    expect((await cli(['incident', 'check', workflowId, 'mitigated', '--note', 'scaled out'], cliEnv)).code).toBe(0);
    const resolved = await cli(['incident', 'resolve', workflowId, '--resolution', 'capacity added', '--json'], cliEnv);
    expect(parseJson<{ status: { phase: string; resolvedAt: string } }>(resolved.stdout).status.phase).toBe('postmortem');
    await until('visibility to show the resolved incident', async () => ((await blocking()).length === 0 ? true : undefined), { timeoutMs: 20_000, intervalMs: 250 });
    const resolvedAt = Date.parse(parseJson<{ status: { resolvedAt: string } }>(resolved.stdout).status.resolvedAt);
    await nsClient.workflow.getHandle(workflowId).signal(alarmEventSignal, {
      alarmName: 'web-latency',
      state: 'ALARM',
      reason: 'p99 above 2 s again',
      time: new Date(resolvedAt + 1000).toISOString(),
      eventId: `again-${process.pid}`,
    });
    await until('visibility to show the reopened incident', async () => ((await blocking()).includes(workflowId) ? true : undefined), { timeoutMs: 20_000, intervalMs: 250 });
    expect(await deploy()).toMatchObject({ outcome: 'refused', reason: expect.stringContaining(`${frozen} (sev2, open)`) });
    expect((await cli(['abort', workflowId, '--reason', 'test done'], cliEnv)).code).toBe(0);
  });

  test('incident review-held before the incident is resolved is refused with the workflow’s reason', async () => {
    const opened = await cli(['incident', 'open', '--title', 'cache stale', '--severity', 'sev4', '--json'], cliEnv);
    const { workflowId } = parseJson<{ workflowId: string }>(opened.stdout);
    await until('the incident to open', async () => {
      const r = parseJson<{ status?: { phase: string } }>((await cli(['status', workflowId, '--json'], cliEnv)).stdout);
      return r.status?.phase === 'open' ? true : undefined;
    }, { timeoutMs: 20_000, intervalMs: 250 });
    const r = await cli(['incident', 'review-held', workflowId, '--note', 'discussed'], cliEnv);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the postmortem review comes after resolution: resolve the incident first');
    expect((await cli(['abort', workflowId, '--reason', 'test done'], cliEnv)).code).toBe(0);
  });

  test('an update to an incident that does not exist exits 1', async () => {
    const r = await cli(['incident', 'note', 'incident-nope-00000000', 'hello'], cliEnv);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not found/);
  });

  test.each([
    [['incident', 'open', '--title', 'x', '--severity', 'sev5'], 'invalid --severity "sev5": must be one of sev1, sev2, sev3, sev4'],
    [['incident', 'open', '--severity', 'sev2'], "required option '--title <text>' not specified"],
    [['incident', 'open', '--title', '   ', '--severity', 'sev2'], 'invalid --title'],
    [['incident', 'open', '--title', 'x', '--severity', 'sev2', '--on-call', 'two words'], 'invalid --on-call'],
    [['incident', 'open', '--title', 'x', '--severity', 'sev2', '--cluster', 'my cluster'], 'invalid --cluster "my cluster"'],
    [['incident', 'assign', 'incident-x-1', '--role', 'boss', '--person', 'alice'], 'invalid --role "boss"'],
    [['incident', 'assign', 'incident-x-1', '--role', 'scribe', '--person', 'a b'], 'invalid --person'],
    [['incident', 'note', 'incident-x-1'], "missing required argument 'text'"],
    [['incident', 'check', 'incident-x-1', 'Not An Item'], 'invalid checklist item'],
    [['incident', 'resolve', 'incident-x-1'], "required option '--resolution <text>' not specified"],
    [['incident', 'postmortem', 'incident-x-1', '--action-item', 'fix:bob:things'], 'invalid --action-item'],
    [['incident', 'postmortem', 'incident-x-1', '--track', 'AI-1=not-a-url'], 'invalid --track'],
    [['incident', 'severity', 'incident-x-1', 'sev0', '--reason', 'x'], 'invalid severity "sev0": must be one of sev1, sev2, sev3, sev4'],
    [['incident', 'severity', 'incident-x-1', 'sev1'], "required option '--reason <text>' not specified"],
    [['incident', 'severity', 'incident-x-1', 'sev1', '--reason', ' '], 'invalid --reason'],
    [['incident', 'review-held', 'incident-x-1', '--note', ' '], 'invalid --note'],
    [['incident'], 'Usage: fleetops incident'],
    [['incident', 'close', 'x'], "unknown command 'close'"],
  ])('%j exits 2 with a message', async (args, message) => {
    const r = await cli(args, cliEnv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });
});
