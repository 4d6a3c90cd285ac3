import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { msToTs } from '@temporalio/common/lib/time';
import type { Worker } from '@temporalio/worker';
import { TASK_QUEUE_DEFAULT } from '../../common/task-queues';
import type { ReleaseStatus } from '../../contracts/release/messages';
import { until, untilValue } from '../../testkit/poll';
import { bundledWorkflows } from '../harness/temporal';
import { createWorker } from '../harness/workers';
import { INSTANT_PLAN, releaseMock, useDevServer } from '../release/release-mock';
import { cli, parseJson, writeCliConfig } from './helpers';

/**
 * `fleetops release …` against the real release workflow on the dev server, in a namespace of its own
 * (search attributes added by `fleetops setup`) so the worker can poll the real `fleetops` task queue
 * the CLI starts on; the deploys' AWS steps are test/release/release-mock.ts's. Alice asks, Bob
 * approves (both services' Slack approvers, with their CLI identities in `people`).
 */

const env = useDevServer();
const tag = `${process.pid}${Date.now().toString(36)}`;
const cluster = `rel${tag}`;
const ALICE = 'U0ALICE01';
const BOB = 'U0BOB0001';

let worker: Worker;
let workerRun: Promise<void>;
let cliEnv: NodeJS.ProcessEnv;
let dir: string;

beforeAll(async () => {
  const namespace = `fleetops-cli-release-${tag}`;
  await env().client.connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
  dir = mkdtempSync(join(tmpdir(), 'fleetops-cli-release-'));
  writeFileSync(join(dir, 'signing-secret'), 'cli-release-test-signing-secret');
  writeFileSync(join(dir, 'release.yaml'), `${cluster}:\n  web: registry.example/web:2\n  api: registry.example/web:2\n`);
  const services = [
    { cluster, name: 'web' },
    { cluster, name: 'api' },
  ];
  const config = writeCliConfig(dir, services, {
    slack: { signingSecretFile: 'signing-secret', teamId: 'T0FLEETOPS', approvers: Object.fromEntries(services.map((s) => [`${cluster}/${s.name}`, { users: [BOB], groups: [] }])) },
    people: { alice: { slack: [ALICE], cli: ['alice'] }, bob: { slack: [BOB], cli: ['bob'] } },
  });
  cliEnv = { FLEETOPS_TEMPORAL_ADDRESS: process.env.FLEETOPS_TEST_TEMPORAL_ADDRESS, FLEETOPS_TEMPORAL_NAMESPACE: namespace, FLEETOPS_CONFIG: config };
  await until('setup in the new namespace', async () => ((await cli(['setup'], cliEnv)).code === 0 ? true : undefined), { timeoutMs: 30_000, intervalMs: 250 });
  worker = await createWorker({ connection: env().nativeConnection, namespace, taskQueue: TASK_QUEUE_DEFAULT, ...bundledWorkflows(), activities: releaseMock(INSTANT_PLAN).activities });
  workerRun = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await workerRun;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const statusOf = async (id: string): Promise<ReleaseStatus> => parseJson<{ status: ReleaseStatus }>((await cli(['release', 'status', id, '--json'], cliEnv)).stdout).status;

describe('fleetops release', () => {
  test('start from a manifest, approve each wave as someone else, skip a service; bad input exits 2, refusals 1', async () => {
    const id = `r${tag}`;
    const started = await cli(['release', 'start', id, '--change', 'web 2', '--manifest', join(dir, 'release.yaml'), '--waves', '1,100%', '--json'], cliEnv, undefined, 'alice');
    expect(started.code).toBe(0);
    expect(parseJson<{ workflowId: string; input: Record<string, unknown> }>(started.stdout)).toMatchObject({
      workflowId: `release-${id}`,
      input: { id, change: 'web 2', requestedBy: 'cli:alice', waves: [1, '100%'], targets: [{ cluster, service: 'web' }, { cluster, service: 'api' }] },
    });
    const again = await cli(['release', 'start', id, '--change', 'web 2', '--manifest', join(dir, 'release.yaml')], cliEnv, undefined, 'alice');
    expect(again).toMatchObject({ code: 1, stderr: expect.stringContaining(`release ${id} exists already (release-${id}): a release id is used once`) });

    await untilValue('wave 1 waiting', () => statusOf(id), (s) => s?.phase === 'awaiting-approval', { timeoutMs: 20_000 });
    const byAlice = await cli(['release', 'approve', id], cliEnv, undefined, 'alice');
    expect(byAlice).toMatchObject({ code: 1, stderr: expect.stringContaining('cli:alice may not approve wave 1: cli:alice requested this deploy and cannot approve it') });
    const byBob = await cli(['release', 'approve', id, '--wave', '1', '--reason', 'canary'], cliEnv, undefined, 'bob');
    expect(byBob.code).toBe(0);
    expect(byBob.stdout).toContain(`release-${id}: approve accepted`);
    // What happens next, not the wait the approval just ended.
    expect(byBob.stdout).toMatch(/summary: +release \S+: wave 1\/\d+ \(\d+ services\) approved by cli:bob; starts now/);

    const second = await untilValue('wave 2 waiting', () => statusOf(id), (s) => s?.phase === 'awaiting-approval' && s.wave.current === 2, { timeoutMs: 30_000 });
    expect(second.lastWave).toMatchObject({ wave: 1, promoted: [`${cluster}/web`], approvedBy: 'cli:bob' });
    expect((await cli(['release', 'continue', id], cliEnv, undefined, 'bob')).stderr).toContain(`release ${id} is not halted (awaiting-approval)`);
    const skipped = await cli(['release', 'skip', id, `${cluster}/api`, '--reason', 'not ready'], cliEnv, undefined, 'bob');
    expect(skipped.code).toBe(0);
    const done = await untilValue('the release over', () => statusOf(id), (s) => s?.phase === 'completed', { timeoutMs: 20_000 });
    expect(done.counts).toMatchObject({ promoted: 1, skipped: 1 });
    const text = await cli(['release', 'status', `release-${id}`], cliEnv);
    expect(text.stdout).toContain('  services: promoted 1, skipped 1');
  });

  test('a request the config refuses starts nothing; malformed options exit 2', async () => {
    const refused = await cli(['release', 'start', `x${tag}`, '--change', 'evil', '--image', 'evil.example/web:1', '--cluster', cluster], cliEnv, undefined, 'alice');
    expect(refused).toMatchObject({ code: 1, stderr: expect.stringContaining(`release x${tag} refused: image repository evil.example/web is not one ${cluster}/web may run`) });
    expect((await cli(['release', 'start', `y${tag}`, '--change', 'x', '--image', 'registry.example/web:2', '--waves', '0%'], cliEnv)).code).toBe(2);
    expect((await cli(['release', 'start', `y${tag}`, '--change', 'x', '--cluster', cluster], cliEnv)).stderr).toContain('a selector needs --image');
    expect((await cli(['release', 'start', 'bad id', '--change', 'x', '--image', 'registry.example/web:2'], cliEnv)).code).toBe(2);
    expect((await cli(['release', 'rollback', `y${tag}`], cliEnv)).code).toBe(2);
  });

  test('--cron makes the Schedule release-schedule-<id>-<name>, which fleetops schedules lists and schedules cancel deletes', async () => {
    const id = `s${tag}`;
    const made = await cli(['release', 'start', id, '--change', 'nightly web', '--image', 'registry.example/web:3', '--cluster', cluster, '--cron', '0 2 * * *', '--timezone', 'Asia/Tokyo', '--name', 'nightly'], cliEnv, undefined, 'alice');
    expect(made.code).toBe(0);
    const scheduleId = `release-schedule-${id}-nightly`;
    expect(made.stdout).toContain(`scheduled ${scheduleId}: release ${id} (nightly web), cron 0 2 * * * Asia/Tokyo`);
    const listed = await untilValue('the schedule listed', async () => (await cli(['schedules'], cliEnv)).stdout, (out) => out.includes(scheduleId), { timeoutMs: 15_000 });
    expect(listed).toContain(`release ${id}-<time>: nightly web`);
    expect((await cli(['release', 'start', id, '--change', 'x', '--image', 'registry.example/web:3', '--name', 'n'], cliEnv)).stderr).toContain('--timezone and --name are for a schedule');
    const cancelled = await cli(['schedules', 'cancel', scheduleId], cliEnv, undefined, 'alice');
    expect(cancelled).toMatchObject({ code: 0, stdout: expect.stringContaining(`cancelled ${scheduleId}: a release it already started runs on`) });
  });
});
