import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowNotFoundError, type ScheduleHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createScheduledDeployActivities, SCHEDULED_BY_MEMO } from '../../activities/deploy/scheduled';
import type { Notification } from '../../activities/notifications';
import { FleetopsCluster, FleetopsKind, FleetopsPhase, FleetopsSeverity } from '../../common/search-attributes';
import { deployWorkflowId } from '../../common/workflow-ids';
import { parseConfigText } from '../../config/load';
import type { DeployTriggerInput, DeployTriggerResult } from '../../contracts/deploy-trigger/input';
import { deployScheduleId, deployScheduleOptions } from '../../contracts/deploy-trigger/start';
import type { ReadinessInput } from '../../contracts/readiness/input';
import { cancelUpdate } from '../../contracts/readiness/messages';
import { readinessStartOptions } from '../../contracts/readiness/start';
import { ROOT } from '../../testkit/paths';
import { until } from '../../testkit/poll';
import { bundledWorkflows, connectDevServer, recordHistory, uniqueTaskQueue } from '../harness/temporal';
import { createWorker } from '../harness/workers';

/**
 * Scheduled deploys on the dev server (the time-skipping server has no Schedules): a Schedule made as
 * `fleetops deploy … --cron/--at` makes it, run now with `trigger()` instead of waiting for its time.
 * The trigger starts `deploy-<cluster>-<service>` on the `fleetops` queue, where no worker polls here,
 * so the deploy stays Running at its first task: enough to see that it started, and by whom.
 */

jest.setTimeout(90_000);

let env: TestWorkflowEnvironment;
let worker: Worker;
let workerRun: Promise<void>;
const taskQueue = uniqueTaskQueue('deploy-trigger');
const cluster = `sched${process.pid}${Date.now().toString(36)}`;
const sent: Notification[] = [];
const cleanup: (() => Promise<unknown>)[] = [];

const fixture = parseConfigText(readFileSync(join(ROOT, 'test', 'fixtures', 'fleetops.valid.yaml'), 'utf8'));
const config = {
  ...fixture,
  clusters: { ...fixture.clusters, [cluster]: fixture.clusters.demo! },
  // One service per test, so a test that fails leaving its deploy running does not refuse the next one's.
  services: [...fixture.services, { ...fixture.services[0]!, cluster, name: 'web' }, { ...fixture.services[0]!, cluster, name: 'api' }, { ...fixture.services[0]!, cluster, name: 'cart' }],
};

beforeAll(async () => {
  env = await connectDevServer();
  worker = await createWorker({
    connection: env.nativeConnection,
    taskQueue,
    ...bundledWorkflows(),
    activities: {
      ...createScheduledDeployActivities({ config, temporal: { client: env.client, namespace: 'default' } }),
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

const WAIT = { timeoutMs: 30_000, intervalMs: 200 };

async function createSchedule(name: string, image: string, when: Parameters<typeof deployScheduleOptions>[2], service = 'web'): Promise<ScheduleHandle> {
  const scheduleId = deployScheduleId(cluster, service, name);
  const input: DeployTriggerInput = { request: { cluster, service, image, requestedBy: 'cli:alice' }, scheduleId };
  const handle = await env.client.schedule.create(deployScheduleOptions(scheduleId, input, when, { taskQueue }));
  cleanup.push(() => handle.delete());
  return handle;
}

/** Runs the Schedule's action now and waits for the trigger run it started (the nth of the schedule) to finish. */
async function triggerRun(schedule: ScheduleHandle, nth: number) {
  await schedule.trigger();
  const action = await until(`run ${nth} of ${schedule.scheduleId}`, async () => (await schedule.describe()).info.recentActions[nth - 1], WAIT);
  const handle = env.client.workflow.getHandle(action.action.workflow.workflowId, action.action.workflow.firstExecutionRunId);
  return { handle, result: (await handle.result()) as DeployTriggerResult };
}

async function startIncident(severity: string): Promise<string> {
  const workflowId = `incident-test-${randomUUID().slice(0, 8)}`;
  await env.client.workflow.start('incident', {
    workflowId,
    taskQueue: `no-worker-${randomUUID()}`,
    args: [{ title: 'test', severity, source: { kind: 'cli', by: 'test' } }],
    typedSearchAttributes: [
      { key: FleetopsKind, value: 'incident' },
      { key: FleetopsSeverity, value: severity },
      { key: FleetopsCluster, value: cluster },
    ],
  });
  cleanup.push(() => env.client.workflow.getHandle(workflowId).terminate('test over'));
  return workflowId;
}

const deployId = deployWorkflowId(cluster, 'web');
const apiDeployId = deployWorkflowId(cluster, 'api');

/** Whether the incident is listed as a Running one, as the freeze query would see it. */
async function listed(incidentId: string): Promise<boolean> {
  for await (const wf of env.client.workflow.list({ query: `WorkflowId = '${incidentId}' AND ExecutionStatus = 'Running'` })) return wf.workflowId === incidentId;
  return false;
}

describe('scheduled deploys (dev server)', () => {
  it('a recurring schedule starts deploy-<cluster>-<service> through the deploy start path, then a run while it runs is refused', async () => {
    cleanup.push(() => env.client.workflow.getHandle(deployId).terminate('test over'));
    const schedule = await createSchedule('fridays', 'registry.example/web:7', { cron: '0 14 * * FRI', timezone: 'Asia/Tokyo' });
    const described = await schedule.describe();
    expect(described.info.nextActionTimes.length).toBeGreaterThan(0);
    expect(described.typedSearchAttributes.get(FleetopsKind)).toBe('deploy');

    const { handle, result } = await triggerRun(schedule, 1);
    expect(handle.workflowId.startsWith(`${schedule.scheduleId}-`)).toBe(true);
    expect(result).toEqual({ started: { workflowId: deployId, runId: expect.any(String) } });
    const deploy = await env.client.workflow.getHandle(deployId).describe();
    expect(deploy.type).toBe('canaryDeploy');
    expect(deploy.status.name).toBe('RUNNING');
    expect(deploy.memo?.[SCHEDULED_BY_MEMO]).toBe(`${handle.workflowId}/${(await handle.describe()).runId}`);
    const input = (await env.client.workflow.getHandle(deployId).fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes;
    expect(input?.workflowType?.name).toBe('canaryDeploy');
    expect((await handle.describe()).typedSearchAttributes.get(FleetopsPhase)).toBe('started');
    await recordHistory(handle, 'deploy-trigger', 'started');

    // The one-deploy-per-service rule is the deploy's own: the next run finds it running and starts nothing.
    const second = await triggerRun(schedule, 2);
    expect(second.result).toEqual({ refused: { field: 'running', reason: expect.stringContaining(deployId) }, deployWorkflowId: deployId });
    await env.client.workflow.getHandle(deployId).terminate('test over');
  });

  it('a run while a sev2 incident of the cluster is open starts no deploy, tells the requester, and leaves the next run unaffected', async () => {
    const schedule = await createSchedule('frozen', 'registry.example/web:8', { cron: '30 3 * * *' }, 'api');
    cleanup.push(() => env.client.workflow.getHandle(apiDeployId).terminate('test over'));
    const incidentId = await startIncident('sev2');
    // Visibility is eventually consistent: wait until the freeze query sees the incident.
    await until('the incident to be listed', async () => ((await listed(incidentId)) ? true : undefined), WAIT);

    const { handle, result } = await triggerRun(schedule, 1);
    expect(result).toEqual({ refused: { field: 'freeze', reason: expect.stringContaining(incidentId) }, deployWorkflowId: apiDeployId });
    await expect(env.client.workflow.getHandle(apiDeployId).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    expect((await handle.describe()).status.name).toBe('COMPLETED');
    expect((await handle.describe()).typedSearchAttributes.get(FleetopsPhase)).toBe('refused');
    const told = sent.filter((n) => n.workflowId === handle.workflowId);
    expect(told).toEqual([expect.objectContaining({ kind: 'deploy', title: `scheduled deploy ${cluster}/api: refused`, fields: expect.objectContaining({ 'requested by': 'cli:alice', schedule: schedule.scheduleId }) })]);
    expect(told[0]!.text).toContain(incidentId);
    await recordHistory(handle, 'deploy-trigger', 'refused-by-freeze');

    // The refusal took nothing from the Schedule: once the incident is over, its next run deploys.
    const after = await schedule.describe();
    expect(after.state.paused).toBe(false);
    expect(after.info.nextActionTimes.length).toBeGreaterThan(0);
    await env.client.workflow.getHandle(incidentId).terminate('resolved');
    await until('the incident to be listed closed', async () => ((await listed(incidentId)) ? undefined : true), WAIT);
    const next = await triggerRun(schedule, 2);
    expect(next.result).toEqual({ started: { workflowId: apiDeployId, runId: expect.any(String) } });
    await env.client.workflow.getHandle(apiDeployId).terminate('test over');
  });

  it('a run inside a readiness window whose level freezes deploys starts no deploy, with the window\'s reason', async () => {
    const cartDeployId = deployWorkflowId(cluster, 'cart');
    const schedule = await createSchedule('in-window', 'registry.example/web:10', { cron: '0 20 * * *' }, 'cart');
    // A window that began a minute ago: its first task puts it in holding-frozen (no floor to raise).
    const window: ReadinessInput = {
      cluster,
      id: `sale-${randomUUID().slice(0, 8)}`,
      start: new Date(Date.now() - 60_000).toISOString(),
      end: new Date(Date.now() + 3_600_000).toISOString(),
      reason: 'TV spot',
      level: { level: 3, onDemandShare: 0, leadSeconds: 300, freezeDeploys: true, notify: [] },
    };
    const { workflowType, ...start } = readinessStartOptions(window);
    const w = await env.client.workflow.start(workflowType, { ...start, taskQueue });
    cleanup.push(() => w.terminate('test over'));
    await until('the window to be listed frozen', async () => {
      for await (const wf of env.client.workflow.list({ query: `WorkflowId = '${w.workflowId}' AND FleetopsPhase = 'holding-frozen'` })) return wf.workflowId;
      return undefined;
    }, WAIT);

    const { handle, result } = await triggerRun(schedule, 1);
    expect(result).toEqual({
      refused: { field: 'freeze', reason: `deploys to ${cluster} are frozen during readiness windows: ${w.workflowId} (level 3 until ${window.end}: TV spot)` },
      deployWorkflowId: cartDeployId,
    });
    await expect(env.client.workflow.getHandle(cartDeployId).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    expect((await handle.describe()).typedSearchAttributes.get(FleetopsPhase)).toBe('refused');
    expect(sent.filter((n) => n.workflowId === handle.workflowId)[0]?.text).toContain('TV spot');
    await w.executeUpdate(cancelUpdate, { args: [{ by: 'test' }] });
    await w.result();
  });

  it('an --at schedule is one calendar time with one action left', async () => {
    const at = new Date(Math.ceil((Date.now() + 3600_000) / 1000) * 1000);
    const schedule = await createSchedule('once', 'registry.example/web:9', { at });
    const d = await schedule.describe();
    expect(d.info.nextActionTimes.map((t) => t.toISOString())).toEqual([at.toISOString()]);
    expect(d.state.remainingActions).toBe(1);
    expect(d.memo).toEqual(expect.objectContaining({ cluster, service: 'web', target: 'registry.example/web:9', when: `at ${at.toISOString()}`, requestedBy: 'cli:alice' }));
  });
});
