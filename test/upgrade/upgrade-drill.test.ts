import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import { moveWorkOffFrom, type DrainActivities } from '../../activities/drain';
import { createIncidentActivities } from '../../activities/incident';
import { abortUpdate, pauseSignal, resumeUpdate, statusQuery, type WorkflowStatus } from '../../contracts/controls';
import { CAPACITY_WORKFLOW_TYPE } from '../../contracts/capacity/start';
import { setupTracing } from '../../common/tracing';
import { workerTracingOptions } from '../../common/worker-tracing';
import { buildWorkflowBundle } from '../../common/workflow-bundle';
import { deployStartOptions } from '../../contracts/canary-deploy/start';
import { drainStartOptions } from '../../contracts/spot-drain/start';
import { incidentStartOptions } from '../../contracts/incident/start';
import { capacityWorkflowId, declaredIncidentWorkflowId, deployWorkflowId } from '../../common/workflow-ids';
import type { DrainEvent } from '../../contracts/spot-drain/input';
import { approveUpdate, type DeployResult } from '../../contracts/canary-deploy/messages';
import { capacityRequestSignal, type CapacityStatus } from '../../contracts/capacity/messages';
import type { IncidentStatus } from '../../contracts/incident/messages';
import { drainEventSignal, type DrainStatus, type SpotDrainResult } from '../../contracts/spot-drain/messages';
import { FakeCloud } from '../capacity/fake-cloud';
import { mock, planOf } from '../deploy/deploy-mock';
import { incidentTestConfig, recordingNotify } from '../incident/fixtures';
import { untilValue } from '../../testkit/poll';
import { releasedBundleCode, releasedVersions } from '../../testkit/releases';
import { createTimeSkippingEnv, uniqueTaskQueue } from '../harness/temporal';
import { createWorker } from '../harness/workers';

/**
 * The upgrade drill: long-lived executions started on the last release's workflow bundle
 * (test/histories/released/<version>/workflow-bundle.js.gz, what that release's image ran) are taken
 * over by a worker with today's code, as a deploy during a spot storm does, and all of them finish:
 * a drain waiting for tasks, a capacity workflow holding a pending request, a deploy at its gate, an
 * incident with a reminder due. Any non-determinism in today's code against what the old code wrote
 * fails the takeover's workflow task, and the wait for the state after it times out here.
 */

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

const MIN = 60_000;
const QUIET = { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} } as never;
const previous = releasedVersions().at(-1) ?? '';

/** A query that fails during the takeover is asked again (until's default). */
function statusWhen<S extends WorkflowStatus>(h: WorkflowHandle, ok: (s: S) => boolean, what: string): Promise<S> {
  return untilValue(what, async () => (await h.query(statusQuery)) as S, ok, { timeoutMs: 30_000, intervalMs: 100 });
}

/** The build ids of the workers that completed this execution's workflow tasks, in order of first appearance. */
async function buildIds(h: WorkflowHandle): Promise<string[]> {
  const ids = ((await h.fetchHistory()).events ?? []).map(
    (e) => e.workflowTaskCompletedEventAttributes?.workerVersion?.buildId || e.workflowTaskCompletedEventAttributes?.binaryChecksum || '',
  );
  return [...new Set(ids.filter(Boolean))];
}

describe('upgrade drill', () => {
  it(`executions started on ${previous || 'the last release'} finish on the current code`, async () => {
    expect(previous).not.toBe('');
    const queues = { drain: uniqueTaskQueue('drill-drain'), capacity: uniqueTaskQueue('drill-capacity'), deploy: uniqueTaskQueue('drill-deploy'), incident: uniqueTaskQueue('drill-incident') };

    // --- what the activities see (the same on both sides of the upgrade) ---
    let tasksGone = false;
    const none = { dryRunCalls: [] };
    const drainParts: Omit<DrainActivities, 'moveWorkOff'> = {
      async setDrainingAtOnce({ instanceIds }) {
        return { instances: instanceIds.map((instanceId) => ({ instanceId, outcome: 'draining' as const })) };
      },
      async resolveDrainTarget() {
        const drain = { rerunStandaloneTasks: true, rebalanceDeadlineSeconds: 600, lifecycleDeadlineSeconds: 900, maxDeregistrationDelaySeconds: 30, lifecycleHeartbeatSeconds: 60 };
        return { found: true, cluster: 'demo', containerInstanceArn: 'arn:aws:ecs:us-east-1:123456789012:container-instance/demo/0f', status: 'ACTIVE', instanceType: 'm5.large', runningTasks: 2, pendingTasks: 0, capacityUnits: 1, drain };
      },
      async setContainerInstanceDraining() {
        return { ...none, alreadyDraining: false };
      },
      async deregisterInstanceTargets() {
        return { ...none, targetGroups: [] };
      },
      async moveStandaloneTasks() {
        return { ...none, stopped: [], rerun: [], rerunFailed: [], serviceTasks: 2 };
      },
      async waitForInstanceTasks() {
        return tasksGone ? { tasksLeft: 0, running: 0, pending: 0 } : { tasksLeft: 2, running: 2, pending: 0 };
      },
      async requestReplacementCapacity(input) {
        return { ...none, workflowId: `capacity-${input.cluster}` };
      },
      async recordLifecycleHeartbeat() {
        return { ...none, active: true };
      },
      async completeLifecycleAction() {
        return { ...none, alreadyCompleted: false };
      },
      async findInstancePool() {
        return { found: true, pool: 'spot-instant', kind: 'ec2-fleet', replacesOwnInstances: false };
      },
      async waitForReplacement() {
        return { arrived: true, containerInstanceArn: 'arn:aws:ecs:us-east-1:123456789012:container-instance/demo/1f', instanceId: 'i-0fedcba9876543210' };
      },
      async terminateDrainedInstance() {
        return none;
      },
      async setContainerInstanceActive() {
        return none;
      },
      async setDrainingWithinBudget() {
        return { ...none, granted: true, draining: 0 };
      },
      async setDrainingWithSlot(input) {
        return { ...none, granted: true, holders: 1, others: 0, budget: input.budget };
      },
      async drainSlotHoldersClosed() {
        return [];
      },
      async describeLifecycleHook() {
        return { found: true, heartbeatTimeoutSeconds: 3600, globalTimeoutSeconds: 172_800, defaultResult: 'CONTINUE' };
      },
      async requestDrainIncident() {
        return { requested: false, detail: 'drill' };
      },
    } as Omit<DrainActivities, 'moveWorkOff'>;
    const drainActivities: DrainActivities = { ...drainParts, moveWorkOff: moveWorkOffFrom(drainParts) };
    const cloud = new FakeCloud({ settings: { cooldownSeconds: 0 } });
    cloud.pools.splice(1);
    const deploy = mock({
      plan: planOf({ alarms: [], gateTimeoutAction: 'rollback', steps: [{ kind: 'setWeight', weight: 20 }, { kind: 'gate', timeoutSeconds: 3600 }, { kind: 'promote' }] }),
      stableDesired: 4,
      stableRunning: 4,
    });
    const incidentConfig = incidentTestConfig({ postmortemDir: mkdtempSync(join(tmpdir(), 'fleetops-drill-')) });
    const notes = recordingNotify();
    const incidentActivities = {
      ...createIncidentActivities({ config: incidentConfig, temporal: { client: env.client, namespace: 'default' } }),
      notify: notes.notify,
      previousIncident: async () => null,
    };

    /**
     * One worker per queue on `workflows`, set up as workers/main.ts sets one up (the bundles carry the
     * OpenTelemetry workflow interceptors, whose sink every worker registers); stateless, so the next
     * worker replays from history (no sticky cache).
     */
    const traced = workerTracingOptions(setupTracing('drill', { env: {} }));
    const workersOn = (workflows: Pick<WorkerOptions, 'workflowBundle'>, cache: 'stateless' | 'cached') =>
      Promise.all(
        (
          [
            [queues.drain, drainActivities],
            [queues.capacity, cloud.activities()],
            [queues.deploy, deploy.activities],
            [queues.incident, incidentActivities],
          ] as const
        ).map(([taskQueue, activities]) =>
          createWorker({ connection: env.nativeConnection, taskQueue, ...workflows, ...traced, activities: activities as never, ...(cache === 'stateless' ? { maxCachedWorkflows: 0 } : {}) }),
        ),
      );
    const runAll = async <T>(workers: Worker[], fn: () => Promise<T>): Promise<T> => {
      const [first, ...rest] = workers;
      return rest.reduce<() => Promise<T>>((inner, w) => () => w.runUntil(inner), () => first!.runUntil(fn))();
    };

    // --- on the previous release ---
    const cluster = `drill-${Date.now().toString(36)}`;
    const handles = await runAll(await workersOn({ workflowBundle: { code: releasedBundleCode(previous) } }, 'stateless'), async () => {
      const deployInput = { cluster: 'demo', service: 'web', image: 'registry.example/web:2', requestedBy: 'alice' };
      const { workflowType: deployType, ...deployOptions } = deployStartOptions(deployInput);
      const deployHandle = await env.client.workflow.start(deployType, { ...deployOptions, workflowId: deployWorkflowId('demo', `web-${cluster}`), taskQueue: queues.deploy, args: [deployInput] });
      for (let i = 0; i < 30 && ((await deployHandle.query(statusQuery)) as WorkflowStatus).phase !== 'awaiting-approval'; i++) await env.sleep('10 seconds');
      await statusWhen(deployHandle, (s) => s.phase === 'awaiting-approval', 'the deploy at its gate');

      const capacity = await env.client.workflow.start(CAPACITY_WORKFLOW_TYPE, { workflowId: capacityWorkflowId(cluster), taskQueue: queues.capacity, args: [{ cluster }] });
      await capacity.signal(pauseSignal, { by: 'drill' });
      await capacity.signal(capacityRequestSignal, { direction: 'out', units: 2, reason: 'drill', source: { kind: 'alarm', alarmName: 'drill-out', eventId: 'drill-1' } });
      await statusWhen<CapacityStatus>(capacity, (s) => s.paused === true && s.pending.requests > 0, 'a pending request held by pause');

      const title = `Drill ${cluster}`;
      const incidentInput = { title, severity: 'sev3' as const, source: { kind: 'event' as const, eventId: `drill-${cluster}`, by: 'drill' } };
      const incident = await env.client.workflow.start('incident', { ...incidentStartOptions(declaredIncidentWorkflowId(title, cluster), incidentInput), taskQueue: queues.incident, args: [incidentInput] });
      const opened = await statusWhen<IncidentStatus>(incident, (s) => s.phase === 'open' && s.nextReminder?.kind === 'status-update', 'the incident open with a reminder ahead');

      const instanceId = `i-0${Date.now().toString(16).padStart(16, '0').slice(-16)}`;
      const warning: DrainEvent = { kind: 'interruption-warning', instanceId, eventId: `drill-${instanceId}`, eventTime: new Date(await env.currentTimeMs()).toISOString() };
      const start = drainStartOptions({ instanceId }, { why: warning.kind });
      const drain = await env.client.workflow.signalWithStart(start.workflowType, { ...start, taskQueue: queues.drain, signal: drainEventSignal, signalArgs: [warning] });
      await statusWhen<DrainStatus>(drain, (s) => s.phase === 'waiting-for-tasks' && s.tasksLeft === 2, 'the drain waiting for tasks');
      return { deployHandle, capacity, incident, drain, reminderAt: Date.parse(opened.nextReminder!.at) };
    });
    const oldBuilds = await buildIds(handles.drain);
    expect(oldBuilds).toHaveLength(1);

    // --- the worker is replaced with the current code ---
    const current = await buildWorkflowBundle(require.resolve('../../workflows'), QUIET);
    await runAll(await workersOn({ workflowBundle: { code: current } }, 'cached'), async () => {
      // The gate first: every wait below lets the server skip time, and the gate times out in an hour.
      await statusWhen(handles.deployHandle, (s) => s.phase === 'awaiting-approval', 'the deploy still at its gate on the new worker');
      await handles.deployHandle.executeUpdate(approveUpdate, { args: [{ by: 'dave' }] });

      tasksGone = true;
      await env.sleep('40 seconds'); // the drain's next wait slice finds the instance empty
      const drained = (await handles.drain.result()) as SpotDrainResult;
      expect(drained.outcome).toBe('drained');

      const deployed = (await handles.deployHandle.result()) as DeployResult;
      expect(deployed.outcome).toBe('promoted');
      expect(deployed.decisions.find((d) => d.decision === 'approve')?.reason).toBe('approved by dave');

      // 0.2.0 paused it with the signal; the current code answers the resume update on that execution.
      expect(await handles.capacity.executeUpdate(resumeUpdate, { args: [{ by: 'drill' }] })).toMatchObject({ paused: false });
      await statusWhen<CapacityStatus>(handles.capacity, (s) => s.phase === 'idle' && s.pending.out === 0 && cloud.units(cloud.pools[0]!.settings.name) === 2, 'the held request delivered');

      await env.sleep(Math.max(0, handles.reminderAt - (await env.currentTimeMs())) + MIN);
      await statusWhen<IncidentStatus>(handles.incident, (s) => s.reminders.statusReminders >= 1, 'the due reminder sent');
      await handles.incident.executeUpdate(abortUpdate, { args: [{ reason: 'drill over', by: 'drill' }] });
      expect(((await handles.incident.result()) as { outcome: string }).outcome).toBe('aborted');

      await handles.capacity.executeUpdate(abortUpdate, { args: [{ reason: 'drill over', by: 'drill' }] });
      expect(((await handles.capacity.result()) as { phase: string }).phase).toBe('aborted');
    });

    // Each execution's workflow tasks were completed first by the old bundle, then by the current one.
    for (const h of [handles.drain, handles.capacity, handles.deployHandle, handles.incident]) {
      const ids = await buildIds(h);
      expect(ids).toHaveLength(2);
      expect(ids[0]).toBe(oldBuilds[0]);
    }
    expect(notes.sent.some((n) => n.key.includes('status-update'))).toBe(true);
  }, 300_000);
});
