import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { msToTs } from '@temporalio/common/lib/time';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createIncidentActivities } from '../../activities/incident';
import { TASK_QUEUE_DEFAULT } from '../../common/task-queues';
import { bundledWorkflows, connectDevServer } from '../harness/temporal';
import { incidentTestConfig, recordingNotify } from '../incident/fixtures';
import { cli, eventually, parseJson } from './helpers';

/**
 * `incident ...` against the real incident workflow on the dev server. The suite has a
 * namespace of its own (registered here, search attributes added by `fleetops setup`), so its worker
 * can poll the real `fleetops` task queue the CLI starts on without taking other suites' tasks.
 * Incident activities are the real ones on a test config with a recording notifier.
 */

let env: TestWorkflowEnvironment;
let worker: Worker;
let workerRun: Promise<void>;
let namespace: string;
let cliEnv: NodeJS.ProcessEnv;
let postmortemDir: string;

beforeAll(async () => {
  env = await connectDevServer();
  namespace = `fleetops-cli-${process.pid}-${Date.now().toString(36)}`;
  await env.client.connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
  cliEnv = { FLEETOPS_TEMPORAL_ADDRESS: process.env.FLEETOPS_TEST_TEMPORAL_ADDRESS, FLEETOPS_TEMPORAL_NAMESPACE: namespace };
  await eventually(async () => ((await cli(['setup'], cliEnv)).code === 0 ? true : undefined), 'setup in the new namespace', 30_000);

  postmortemDir = mkdtempSync(join(tmpdir(), 'fleetops-cli-postmortems-'));
  const config = incidentTestConfig({ postmortemDir });
  const client = env.client;
  worker = await Worker.create({
    connection: env.nativeConnection,
    namespace,
    taskQueue: TASK_QUEUE_DEFAULT,
    ...bundledWorkflows(),
    activities: {
      ...createIncidentActivities({ config, temporal: { client, namespace } }),
      notify: recordingNotify().notify,
    },
  });
  workerRun = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await workerRun;
  await env?.teardown();
  if (postmortemDir) rmSync(postmortemDir, { recursive: true, force: true });
});

describe('incident', () => {
  test('open, assign, note, check, resolve and postmortem, each reporting the incident’s status', async () => {
    const opened = await cli(['incident', 'open', '--title', 'API 5xx above threshold', '--severity', 'sev3', '--summary', 'checkout failing', '--json'], cliEnv);
    expect(opened.code).toBe(0);
    const { workflowId } = parseJson<{ workflowId: string }>(opened.stdout);
    expect(workflowId).toMatch(/^incident-api-5xx-above-threshold-[0-9a-f]{8}$/);
    await eventually(async () => {
      const r = await cli(['status', workflowId, '--json'], cliEnv);
      return parseJson<{ status?: { phase: string } }>(r.stdout).status?.phase === 'open' ? true : undefined;
    }, 'the incident to open');

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
    [['incident', 'assign', 'incident-x-1', '--role', 'boss', '--person', 'alice'], 'invalid --role "boss"'],
    [['incident', 'assign', 'incident-x-1', '--role', 'scribe', '--person', 'a b'], 'invalid --person'],
    [['incident', 'note', 'incident-x-1'], "missing required argument 'text'"],
    [['incident', 'check', 'incident-x-1', 'Not An Item'], 'invalid checklist item'],
    [['incident', 'resolve', 'incident-x-1'], "required option '--resolution <text>' not specified"],
    [['incident', 'postmortem', 'incident-x-1', '--action-item', 'fix:bob:things'], 'invalid --action-item'],
    [['incident', 'postmortem', 'incident-x-1', '--track', 'AI-1=not-a-url'], 'invalid --track'],
    [['incident'], 'Usage: fleetops incident'],
    [['incident', 'close', 'x'], "unknown command 'close'"],
  ])('%j exits 2 with a message', async (args, message) => {
    const r = await cli(args, cliEnv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });
});
