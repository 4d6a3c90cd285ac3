import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowNotFoundError, type ScheduleHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { SCHEDULED_BY_MEMO } from '../../activities/deploy/scheduled';
import type { Notification } from '../../activities/notifications';
import { createScheduledReleaseActivities } from '../../activities/release/scheduled';
import { FleetopsCluster, FleetopsKind, FleetopsPhase, FleetopsSeverity } from '../../common/search-attributes';
import { parseConfigText } from '../../config/load';
import type { ReleaseInput } from '../../contracts/release/input';
import type { ReleaseTriggerResult } from '../../contracts/release-trigger/input';
import { createReleaseSchedule } from '../../contracts/release-trigger/schedule';
import { scheduledRows } from '../../contracts/schedule-rows';
import { ROOT } from '../../testkit/paths';
import { until } from '../../testkit/poll';
import { bundledWorkflows, connectDevServer, recordHistory, uniqueTaskQueue } from '../harness/temporal';
import { createWorker } from '../harness/workers';

/**
 * Scheduled releases on the dev server (the time-skipping server has no Schedules): a Schedule made as
 * `fleetops release start … --cron/--at` makes it, run now with `trigger()`. The trigger starts
 * `release-<id>-<yyyymmdd-hhmm>` on the `fleetops` queue, where no worker polls here, so the release
 * stays Running at its first task: enough to see that it started, with what, and by whom.
 */


let env: TestWorkflowEnvironment;
let worker: Worker;
let workerRun: Promise<void>;
const taskQueue = uniqueTaskQueue('release-trigger');
const cluster = `relsched${process.pid}${Date.now().toString(36)}`;
const sent: Notification[] = [];
const cleanup: (() => Promise<unknown>)[] = [];

const fixture = parseConfigText(readFileSync(join(ROOT, 'test', 'fixtures', 'fleetops.valid.yaml'), 'utf8'));
const config = {
  ...fixture,
  clusters: { ...fixture.clusters, [cluster]: fixture.clusters.demo! },
  services: [...fixture.services, { ...fixture.services[0]!, cluster, name: 'web' }, { ...fixture.services[0]!, cluster, name: 'api' }],
};

beforeAll(async () => {
  env = await connectDevServer();
  worker = await createWorker({
    connection: env.nativeConnection,
    taskQueue,
    ...bundledWorkflows(),
    activities: {
      ...createScheduledReleaseActivities({ config, temporal: { client: env.client, namespace: 'default' } }),
      notify: async (n: Notification) => {
        sent.push(n);
        return { sent: ['test'], skipped: [] };
      },
    },
  });
  workerRun = worker.run();
});

afterAll(async () => {
  for (const c of cleanup) await c().catch(() => undefined);
  worker?.shutdown();
  await workerRun;
  await env?.teardown();
});

const WAIT = { timeoutMs: 20_000, intervalMs: 200 };

async function schedule(id: string, image: string, when: Parameters<typeof createReleaseSchedule>[1]['when'], name?: string): Promise<ScheduleHandle> {
  const made = await createReleaseSchedule(env.client, {
    trigger: { request: { id, change: `web to ${image}`, selector: { cluster, image }, waves: [1, '100%'], requestedBy: 'cli:alice' } },
    when,
    taskQueue,
    ...(name !== undefined ? { name } : {}),
  });
  const handle = env.client.schedule.getHandle(made.scheduleId);
  cleanup.push(() => handle.delete());
  return handle;
}

async function triggerRun(s: ScheduleHandle, nth: number) {
  await s.trigger();
  const action = await until(`run ${nth} of ${s.scheduleId}`, async () => (await s.describe()).info.recentActions[nth - 1], WAIT);
  const handle = env.client.workflow.getHandle(action.action.workflow.workflowId, action.action.workflow.firstExecutionRunId);
  return { handle, result: (await handle.result()) as ReleaseTriggerResult };
}

describe('scheduled releases (dev server)', () => {
  it('a run inside a freeze starts release-<id>-<yyyymmdd-hhmm> through the release start path, and fleetops schedules lists the Schedule', async () => {
    const id = `nightly-${randomUUID().slice(0, 6)}`;
    // A sev1 on the cluster: a deploy trigger would refuse; a release starts and holds its frozen waves itself.
    const incidentId = `incident-test-${randomUUID().slice(0, 8)}`;
    await env.client.workflow.start('incident', {
      workflowId: incidentId,
      taskQueue: `no-worker-${randomUUID()}`,
      args: [{ title: 'test', severity: 'sev1', source: { kind: 'cli', by: 'test' } }],
      typedSearchAttributes: [
        { key: FleetopsKind, value: 'incident' },
        { key: FleetopsSeverity, value: 'sev1' },
        { key: FleetopsCluster, value: cluster },
      ],
    });
    cleanup.push(() => env.client.workflow.getHandle(incidentId).terminate('test over'));

    const s = await schedule(id, 'registry.example/web:3', { cron: '0 22 * * TUE', timezone: 'Europe/Berlin' });
    expect(s.scheduleId).toBe(`release-schedule-${id}-1`);
    const described = await s.describe();
    expect(described.typedSearchAttributes.get(FleetopsKind)).toBe('release');
    expect(described.info.nextActionTimes.length).toBeGreaterThan(0);

    const before = Date.now();
    const { handle, result } = await triggerRun(s, 1);
    expect(handle.workflowId.startsWith(`${s.scheduleId}-`)).toBe(true);
    expect('started' in result).toBe(true);
    const releaseId = 'started' in result ? result.started.workflowId : '';
    cleanup.push(() => env.client.workflow.getHandle(releaseId).terminate('test over'));
    expect(releaseId).toMatch(new RegExp(`^release-${id}-\\d{8}-\\d{4}$`));
    // The minute is the trigger's start, UTC.
    const minute = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-');
    expect([minute(before), minute(Date.now())]).toContain(releaseId.slice(`release-${id}-`.length));
    const release = await env.client.workflow.getHandle(releaseId).describe();
    expect(release.type).toBe('release');
    expect(release.status.name).toBe('RUNNING');
    expect(release.memo?.[SCHEDULED_BY_MEMO]).toBe(`${handle.workflowId}/${(await handle.describe()).runId}`);
    const input = (await env.client.workflow.getHandle(releaseId).fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes?.input;
    const started = JSON.parse(Buffer.from(input!.payloads![0]!.data!).toString()) as ReleaseInput;
    expect(started).toMatchObject({ id: releaseId.slice('release-'.length), requestedBy: 'cli:alice', waves: [1, '100%'], targets: [{ cluster, service: 'web' }, { cluster, service: 'api' }] });
    expect((await handle.describe()).typedSearchAttributes.get(FleetopsPhase)).toBe('started');
    await recordHistory(handle, 'release-trigger', 'started');

    const rows = await until('the schedule listed', async () => (await scheduledRows(env.client, (fn) => fn())).find((r) => r.scheduleId === s.scheduleId), WAIT);
    expect(rows).toMatchObject({ kind: 'release', what: `release ${id}-<time>: web to registry.example/web:3`, when: 'cron 0 22 * * TUE Europe/Berlin', requestedBy: 'cli:alice' });
  });

  it('a run the config refuses starts nothing, tells the requester, and leaves the Schedule as it was', async () => {
    const id = `evil-${randomUUID().slice(0, 6)}`;
    const at = new Date(Math.ceil((Date.now() + 3600_000) / 1000) * 1000);
    const s = await schedule(id, 'evil.example/web:1', { at }, 'once');
    expect(s.scheduleId).toBe(`release-schedule-${id}-once`);
    const d = await s.describe();
    expect(d.info.nextActionTimes.map((t) => t.toISOString())).toEqual([at.toISOString()]);

    const { handle, result } = await triggerRun(s, 1);
    expect(result).toEqual({ refused: { field: 'selector', reason: expect.stringContaining('evil.example/web') }, releaseWorkflowId: expect.stringMatching(new RegExp(`^release-${id}-`)) });
    const releaseId = 'refused' in result ? result.releaseWorkflowId : '';
    await expect(env.client.workflow.getHandle(releaseId).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    expect((await handle.describe()).typedSearchAttributes.get(FleetopsPhase)).toBe('refused');
    expect(sent.filter((n) => n.workflowId === handle.workflowId)).toEqual([
      expect.objectContaining({ kind: 'release', title: `scheduled release ${id}: refused`, fields: expect.objectContaining({ 'requested by': 'cli:alice', schedule: s.scheduleId }) }),
    ]);
    await recordHistory(handle, 'release-trigger', 'refused');
    expect((await s.describe()).state.paused).toBe(false);
  });
});
