import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import type { WorkflowHandle, WorkflowHandleWithSignaledRunId } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createDrainActivities, type DrainActivities } from '../../activities/drain';
import type { AwsClients } from '../../activities/aws/clients';
import { abortUpdate, statusQuery } from '../../contracts/controls';
import { FailureType } from '../../common/failures';
import type { DrainEvent } from '../../contracts/spot-drain/input';
import { parseConfigText } from '../../config/load';
import { drainStartOptions } from '../../contracts/spot-drain/start';
import { drainEventSignal, type DrainStatus, type SpotDrainResult, type SpotDrainWorkflow } from '../../contracts/spot-drain/messages';
import * as poll from '../../testkit/poll';
import { bundledWorkflows, createTimeSkippingEnv, recordHistory, uniqueTaskQueue } from '../harness/temporal';
import { ROOT } from '../../testkit/paths';
import { createWorker } from '../harness/workers';
import { ARN, CLUSTER, DRAIN_DEFAULTS, mockActivities } from './drain-mocks';

/**
 * The drain workflow on the time-skipping server with mocked activities: the deadline arithmetic,
 * escalation, lifecycle heartbeats, worker loss and the operator controls. The activities themselves
 * are tested against the emulator in test/drain/drain-activities.test.ts.
 */

let env: TestWorkflowEnvironment;
let instanceCounter = 0;
const EventType = temporal.api.enums.v1.EventType;

beforeAll(async () => {
  env = await createTimeSkippingEnv();
});

afterAll(async () => {
  await env?.teardown();
});

function newInstanceId(): string {
  instanceCounter += 1;
  return `i-${(Date.now().toString(16) + instanceCounter.toString(16).padStart(4, '0')).padStart(17, '0').slice(-17)}`;
}

/**
 * `stateless` workers keep no workflow cache, hence no sticky queue: the time-skipping server does not
 * move a stopped worker's sticky tasks back to the normal queue, which a real server does after 5 s.
 */
async function newWorker(taskQueue: string, activities: DrainActivities, stateless = false): Promise<Worker> {
  return createWorker({ connection: env.nativeConnection, taskQueue, ...bundledWorkflows(), activities, ...(stateless ? { maxCachedWorkflows: 0 } : {}) });
}

async function event(instanceId: string, kind: DrainEvent['kind'], extra: Partial<DrainEvent> = {}): Promise<DrainEvent> {
  return {
    kind,
    instanceId,
    eventId: `ev-${kind}-${instanceId}-${Math.random().toString(36).slice(2, 8)}`,
    eventTime: new Date(await env.currentTimeMs()).toISOString(),
    ...extra,
  };
}

/** Starts the drain the way the router does: signal-with-start of `drainEvent`. */
async function sendEvent(taskQueue: string, e: DrainEvent, dryRun?: boolean): Promise<WorkflowHandleWithSignaledRunId<SpotDrainWorkflow>> {
  const start = drainStartOptions({ instanceId: e.instanceId, ...(dryRun ? { dryRun } : {}) }, { why: e.kind });
  return env.client.workflow.signalWithStart<SpotDrainWorkflow, [DrainEvent]>(start.workflowType, {
    ...start,
    taskQueue,
    signal: drainEventSignal,
    signalArgs: [e],
  });
}

async function statusOf(handle: WorkflowHandle): Promise<DrainStatus> {
  return (await handle.query(statusQuery)) as DrainStatus;
}

/** Polls the status query (real time; the workflow clock stands still while the test is not awaiting a result). */
function until(handle: WorkflowHandle, pred: (s: DrainStatus) => boolean, what: string): Promise<DrainStatus> {
  return poll.untilValue(what, () => statusOf(handle), pred, { timeoutMs: 10_000, intervalMs: 50 });
}

async function workflowSeconds(handle: WorkflowHandle): Promise<number> {
  const d = await handle.describe();
  return ((d.closeTime?.getTime() ?? 0) - d.startTime.getTime()) / 1000;
}

const stepNames = (r: SpotDrainResult) => r.steps.map((s) => `${s.name}:${s.status}`);

/** An activity that heartbeats until it is cancelled (a wait that never ends on its own). */
function blockingWait(started: () => void, cancelled: () => void = () => undefined): DrainActivities['waitForInstanceTasks'] {
  return async () => {
    const ctx = Context.current();
    started();
    const beat = setInterval(() => ctx.heartbeat({ running: 2, pending: 0 }), 200);
    try {
      await ctx.cancelled;
    } catch (err) {
      cancelled();
      throw err;
    } finally {
      clearInterval(beat);
    }
    throw new Error('unreachable');
  };
}

describe('spotDrain workflow (time-skipping, mocked activities)', () => {
  it('drains on an interruption warning: DRAINING, targets, standalone tasks, capacity, tasks gone', async () => {
    const taskQueue = uniqueTaskQueue('drain-happy');
    const { activities, calls } = mockActivities();
    const worker = await newWorker(taskQueue, activities);
    const instanceId = newInstanceId();
    const result = await worker.runUntil(async () => {
      const handle = await sendEvent(taskQueue, await event(instanceId, 'interruption-warning'));
      const r = await handle.result();
      const status = await statusOf(handle);
      expect(status.phase).toBe('drained');
      expect(status.capacityRequested).toBe(true);
      expect(status.tasksLeft).toBe(0);
      expect(status.cluster).toBe(CLUSTER);
      await recordHistory(handle, 'spot-drain', 'happy-path');
      return r;
    });
    expect(result.outcome).toBe('drained');
    expect(result.notDone).toEqual([]);
    expect(stepNames(result)).toEqual([
      'resolve:done',
      'set-draining:done',
      'deregister-targets:done',
      'move-standalone-tasks:done',
      'request-capacity:done',
      'wait-for-tasks:done',
    ]);
    expect(calls.requestReplacementCapacity?.[0]?.[0]).toMatchObject({ cluster: CLUSTER, instanceId, units: 1 });
    expect(calls.deregisterInstanceTargets?.[0]?.[0]).toEqual({ instanceId, cluster: 'demo', dryRun: false });
    expect(calls.moveStandaloneTasks?.[0]?.[0]).toMatchObject({ rerun: true, dryRun: false });
    expect(calls.requestDrainIncident).toBeUndefined();
  });

  it('on the two-minute deadline the work after DRAINING is one activity: two workflow tasks, and DRAINING not set again after the coordinator', async () => {
    const taskQueue = uniqueTaskQueue('drain-lean');
    const { activities, calls } = mockActivities({
      // The coordinator's call set it DRAINING after the sweep this reading comes from.
      async resolveDrainTarget() {
        return { found: true, cluster: CLUSTER, containerInstanceArn: ARN, status: 'ACTIVE', drainingSet: true, instanceType: 'm5.large', runningTasks: 3, pendingTasks: 0, capacityUnits: 1, drain: DRAIN_DEFAULTS };
      },
    });
    const worker = await newWorker(taskQueue, activities);
    const instanceId = newInstanceId();
    const { result, events } = await worker.runUntil(async () => {
      const handle = await sendEvent(taskQueue, await event(instanceId, 'interruption-warning'));
      const r = await handle.result();
      await recordHistory(handle, 'spot-drain', 'lean-history');
      return { result: r, events: (await handle.fetchHistory()).events ?? [] };
    });
    expect(result.outcome).toBe('drained');
    expect(result.steps.find((st) => st.name === 'set-draining')).toMatchObject({ status: 'done', detail: 'was already DRAINING' });
    expect(calls.setContainerInstanceDraining).toBeUndefined();
    expect(calls.moveWorkOff).toHaveLength(1);
    const of = (type: keyof typeof EventType) => events.filter((e) => e.eventType === EventType[type]);
    expect(of('EVENT_TYPE_WORKFLOW_TASK_COMPLETED')).toHaveLength(2);
    expect(of('EVENT_TYPE_ACTIVITY_TASK_SCHEDULED').map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)).toEqual(['moveWorkOff']);
    // The resolve only; no local activity for DRAINING.
    expect(of('EVENT_TYPE_MARKER_RECORDED').filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')).toHaveLength(1);
    // The cluster goes out with the first phase (patches add their own TemporalChangeVersion upserts).
    const upserted = of('EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES').map((e) => Object.keys(e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {}).sort().join(','));
    expect(upserted.filter((k) => k !== 'TemporalChangeVersion')).toEqual(['FleetopsCluster,FleetopsPhase', 'FleetopsPhase']);
    expect(events.length).toBeLessThanOrEqual(20);
  });

  it('a step that fails inside the one activity fails alone: the drain still moves what it can, asks for capacity and waits', async () => {
    const taskQueue = uniqueTaskQueue('drain-lean-part');
    const { activities } = mockActivities({
      async moveStandaloneTasks() {
        throw ApplicationFailure.nonRetryable('ecs:ListTasks: AccessDeniedException', FailureType.AwsAccessDenied);
      },
    });
    const worker = await newWorker(taskQueue, activities);
    const instanceId = newInstanceId();
    const result = await worker.runUntil(async () => (await sendEvent(taskQueue, await event(instanceId, 'interruption-warning'))).result());
    expect(result.outcome).toBe('drained');
    expect(result.steps.find((st) => st.name === 'move-standalone-tasks')).toMatchObject({ status: 'failed', detail: 'ecs:ListTasks: AccessDeniedException' });
    expect(stepNames(result)).toEqual(['resolve:done', 'set-draining:done', 'deregister-targets:done', 'move-standalone-tasks:failed', 'request-capacity:done', 'wait-for-tasks:done']);
  });

  it('drains a scale-in victim on the relaxed deadline and asks for no replacement', async () => {
    const taskQueue = uniqueTaskQueue('drain-scale-in');
    const { activities, calls } = mockActivities();
    const worker = await newWorker(taskQueue, activities);
    const instanceId = newInstanceId();
    const e = await event(instanceId, 'scale-in');
    const { result, status } = await worker.runUntil(async () => {
      const handle = await sendEvent(taskQueue, e);
      const r = await handle.result();
      const st = await statusOf(handle);
      await recordHistory(handle, 'spot-drain', 'scale-in');
      return { result: r, status: st };
    });
    expect(status.mode).toBe('scale-in');
    expect(status.capacityRequested).toBe(false);
    expect(result.outcome).toBe('drained');
    expect(result.deadline).toBe(new Date(Date.parse(e.eventTime) + DRAIN_DEFAULTS.rebalanceDeadlineSeconds * 1000).toISOString());
    expect(result.notDone).toEqual([]);
    expect(result.steps.find((st) => st.name === 'request-capacity')).toMatchObject({
      status: 'skipped',
      detail: 'scale-in: the capacity workflow chose this instance to leave',
    });
    expect(calls.requestReplacementCapacity).toBeUndefined();
    expect(calls.setDrainingWithSlot).toHaveLength(1);
    // Relaxed: ECS takes each task's target out as it replaces the task.
    expect(calls.deregisterInstanceTargets).toBeUndefined();
    expect(result.steps.find((st) => st.name === 'deregister-targets')).toMatchObject({ status: 'skipped' });
  });

  it('asks no replacement when the pool replaces an interrupted instance itself (maintain Spot Fleet), but does on a rebalance', async () => {
    const taskQueue = uniqueTaskQueue('drain-self-healing');
    const { activities, calls } = mockActivities({
      async findInstancePool() {
        return { found: true, pool: 'spot-diversified', kind: 'spot-fleet', replacesOwnInstances: true };
      },
    });
    const worker = await newWorker(taskQueue, activities);
    const interrupted = newInstanceId();
    const rebalanced = newInstanceId();
    const [warned, relaxed] = await worker.runUntil(async () => [
      await (await sendEvent(taskQueue, await event(interrupted, 'interruption-warning'))).result(),
      await (await sendEvent(taskQueue, await event(rebalanced, 'rebalance-recommendation'))).result(),
    ]);
    expect(warned!.outcome).toBe('drained');
    expect(warned!.notDone).toEqual([]);
    expect(warned!.steps.find((st) => st.name === 'request-capacity')).toMatchObject({
      status: 'skipped',
      detail: 'pool spot-diversified (spot-fleet) replaces an interrupted instance itself',
    });
    // The rebalanced instance is not interrupted: its pool replaces nothing until it is gone.
    expect(relaxed!.steps.find((st) => st.name === 'request-capacity')?.status).toBe('done');
    expect(calls.requestReplacementCapacity?.map((c) => (c[0] as { instanceId: string }).instanceId)).toEqual([rebalanced]);
  });

  it('a standalone task that could not be rerun is on the status and asks for an incident, though the drain succeeded', async () => {
    const taskQueue = uniqueTaskQueue('drain-rerun-failed');
    const { activities, calls } = mockActivities({
      async moveStandaloneTasks() {
        return { stopped: ['t-report'], rerun: [], rerunFailed: [{ from: 'arn:aws:ecs:us-east-1:123456789012:task/demo/t-report', reason: 'RESOURCE:MEMORY' }], orchestrated: [], serviceTasks: 2, dryRunCalls: [] };
      },
    });
    const worker = await newWorker(taskQueue, activities);
    const instanceId = newInstanceId();
    const { result, status } = await worker.runUntil(async () => {
      const handle = await sendEvent(taskQueue, await event(instanceId, 'interruption-warning'));
      return { result: await handle.result(), status: await statusOf(handle) };
    });
    expect(result.outcome).toBe('drained');
    expect(status.rerunFailed).toEqual([{ from: 'arn:aws:ecs:us-east-1:123456789012:task/demo/t-report', reason: 'RESOURCE:MEMORY' }]);
    expect(calls.requestDrainIncident?.[0]?.[0]).toMatchObject({ instanceId, what: 'rerun-failed', rerunFailed: status.rerunFailed });
  });

  it('disruption budget: a voluntary drain waits its turn, is held to its deadline, and a warning is never held back', async () => {
    const taskQueue = uniqueTaskQueue('drain-budget');
    let grantAfter = 2;
    const { activities, calls } = mockActivities({
      async setDrainingWithSlot({ budget }) {
        grantAfter -= 1;
        // Behind `budget` others the first time, next in line after.
        return { granted: grantAfter < 0, holders: budget, others: 0, budget, ...(grantAfter >= 0 ? { ahead: grantAfter === 1 ? budget : 0 } : {}), dryRunCalls: [] };
      },
    });
    const worker = await newWorker(taskQueue, activities);
    const turn = newInstanceId();
    const held = newInstanceId();
    const warned = newInstanceId();
    const { waited, never, urgent } = await worker.runUntil(async () => {
      const waited = await (await sendEvent(taskQueue, await event(turn, 'scale-in'))).result();
      grantAfter = 1_000_000;
      const never = await (await sendEvent(taskQueue, await event(held, 'scale-in'))).result();
      const h = await sendEvent(taskQueue, await event(warned, 'rebalance-recommendation'));
      await until(h, (s) => s.phase === 'waiting-for-budget', 'the wait for the budget');
      await sendEvent(taskQueue, await event(warned, 'interruption-warning'));
      return { waited, never, urgent: await h.result() };
    });
    expect(waited.outcome).toBe('drained');
    const wait = waited.steps.find((st) => st.name === 'wait-for-budget')!;
    expect(wait).toMatchObject({ status: 'done' });
    // Asked three times: 15 s after the first answer (behind the next in line), 5 s after the second (next in line).
    const waitedMs = Date.parse(wait.endedAt!) - Date.parse(wait.startedAt);
    expect(waitedMs).toBeGreaterThanOrEqual(20_000);
    expect(waitedMs).toBeLessThan(30_000);
    expect(waited.steps.find((st) => st.name === 'set-draining')).toMatchObject({ status: 'done' });

    expect(never.outcome).toBe('deadline-missed');
    expect(never.failure).toContain('held back by the disruption budget');
    expect(never.steps.find((st) => st.name === 'set-draining')).toBeUndefined();

    expect(urgent.outcome).toBe('drained');
    expect(urgent.steps.find((st) => st.name === 'wait-for-budget')).toMatchObject({ status: 'skipped', detail: 'interruption-warning: not held back by the budget' });
    expect(calls.setContainerInstanceDraining?.map((c) => (c[0] as { containerInstanceArn: string }).containerInstanceArn)).toEqual([ARN]);
  });

  it('disruption budget: an ask that is never answered (its worker lost, the budget workflow slow) is asked again, not the end of the drain', async () => {
    const taskQueue = uniqueTaskQueue('drain-budget-lost');
    let asks = 0;
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const { activities } = mockActivities({
      async setDrainingWithSlot({ budget }) {
        asks += 1;
        // The first attempt hangs past its call's time, as one on a SIGKILLed worker does.
        if (asks === 1) await released;
        return { granted: true, holders: 1, others: 0, budget, dryRunCalls: [] };
      },
    });
    const worker = await newWorker(taskQueue, activities);
    const instanceId = newInstanceId();
    const result = await worker.runUntil(async () => {
      const handle = await sendEvent(taskQueue, await event(instanceId, 'rebalance-recommendation'));
      const r = await handle.result();
      release();
      await recordHistory(handle, 'spot-drain', 'budget-ask-timed-out');
      return r;
    });
    expect(result.outcome).toBe('drained');
    expect(asks).toBe(2);
    expect(result.steps.find((st) => st.name === 'wait-for-budget')).toMatchObject({ status: 'done' });
    expect(result.steps.find((st) => st.name === 'set-draining')).toMatchObject({ status: 'done' });
  });

  it('ends deadline-missed at 120 s of workflow time when tasks never leave, and asks for an incident', async () => {
    const taskQueue = uniqueTaskQueue('drain-missed');
    const { activities, calls } = mockActivities({
      async waitForInstanceTasks() {
        return { tasksLeft: 2, running: 2, pending: 0 };
      },
    });
    const worker = await newWorker(taskQueue, activities);
    const instanceId = newInstanceId();
    const { result, seconds } = await worker.runUntil(async () => {
      const handle = await sendEvent(taskQueue, await event(instanceId, 'interruption-warning'));
      const r = await handle.result();
      await recordHistory(handle, 'spot-drain', 'deadline-missed');
      return { result: r, seconds: await workflowSeconds(handle) };
    });
    expect(result.outcome).toBe('deadline-missed');
    expect(result.tasksLeft).toBe(2);
    expect(result.notDone).toEqual(['wait-for-tasks']);
    expect(seconds).toBeGreaterThanOrEqual(119);
    expect(seconds).toBeLessThan(125);
    const facts = calls.requestDrainIncident?.[0]?.[0];
    expect(facts).toMatchObject({ instanceId, cluster: CLUSTER, tasksLeft: 2, notDone: ['wait-for-tasks'] });
    expect(facts).toHaveProperty('done', expect.arrayContaining(['set-draining', 'deregister-targets', 'request-capacity']));
  });

  it('retries a throttled DRAINING call with short backoff and drains', async () => {
    const taskQueue = uniqueTaskQueue('drain-throttle');
    let attempts = 0;
    const { activities } = mockActivities({
      async setContainerInstanceDraining() {
        attempts += 1;
        if (attempts <= 3) throw ApplicationFailure.retryable('ecs:UpdateContainerInstancesState: ThrottlingException', FailureType.AwsThrottled);
        return { alreadyDraining: false, dryRunCalls: [] };
      },
    });
    const worker = await newWorker(taskQueue, activities);
    const instanceId = newInstanceId();
    const { result, seconds } = await worker.runUntil(async () => {
      const handle = await sendEvent(taskQueue, await event(instanceId, 'interruption-warning'));
      const r = await handle.result();
      await recordHistory(handle, 'spot-drain', 'throttled-then-drained');
      return { result: r, seconds: await workflowSeconds(handle) };
    });
    expect(attempts).toBe(4);
    expect(result.outcome).toBe('drained');
    // Backoff 250 ms, 500 ms, 1 s: the retries cost under two seconds of the two minutes.
    expect(seconds).toBeLessThan(5);
  });

  it('replaces first on a rebalance recommendation, then escalates the same run to two minutes on a warning', async () => {
    const taskQueue = uniqueTaskQueue('drain-rebalance');
    let tasksLeft = 2;
    let warningTime = '';
    const { activities, calls } = mockActivities({
      async waitForInstanceTasks() {
        return { tasksLeft, running: tasksLeft, pending: 0 };
      },
    });
    const worker = await newWorker(taskQueue, activities);
    const instanceId = newInstanceId();
    const result = await worker.runUntil(async () => {
      const rebalance = await event(instanceId, 'rebalance-recommendation');
      const handle = await sendEvent(taskQueue, rebalance);
      const relaxed = await until(handle, (s) => s.phase === 'waiting-for-tasks', 'the relaxed wait');
      expect(relaxed.mode).toBe('rebalance-recommendation');
      expect(Date.parse(relaxed.deadline!)).toBe(Date.parse(rebalance.eventTime) + 600_000);

      const warning = await event(instanceId, 'interruption-warning');
      warningTime = warning.eventTime;
      const again = await sendEvent(taskQueue, warning);
      expect(again.signaledRunId).toBe(handle.signaledRunId);
      const escalated = await until(handle, (s) => s.mode === 'interruption-warning', 'the escalation');
      expect(Date.parse(escalated.deadline!)).toBe(Date.parse(warning.eventTime) + 120_000);
      expect(escalated.secondsToDeadline).toBeLessThanOrEqual(120);
      tasksLeft = 0;
      const r = await handle.result();
      await recordHistory(handle, 'spot-drain', 'rebalance-then-warning');
      return r;
    });
    expect(result.outcome).toBe('drained');
    expect(result.deadline).toBe(new Date(Date.parse(warningTime) + 120_000).toISOString());
    const order = result.steps.map((s) => s.name);
    expect(order.indexOf('request-capacity')).toBeLessThan(order.indexOf('set-draining'));
    expect(calls.requestReplacementCapacity).toHaveLength(1);
    // Targets left to ECS while relaxed; taken out ahead of it once the warning set the two-minute deadline.
    expect(calls.deregisterInstanceTargets).toHaveLength(1);
    const dereg = result.steps.filter((s) => s.name === 'deregister-targets');
    expect(dereg.map((s) => s.status)).toEqual(['skipped', 'done']);
    expect(Date.parse(dereg[1]!.startedAt)).toBeGreaterThanOrEqual(Date.parse(warningTime));
    expect(result.notDone).toEqual([]);
    expect(calls.setDrainingWithSlot).toHaveLength(1);
  });

  it('rebalance: replacement ACTIVE before DRAINING, then drained and taken out through its pool', async () => {
    const taskQueue = uniqueTaskQueue('drain-replace-first');
    const instanceId = newInstanceId();
    const e = await event(instanceId, 'rebalance-recommendation');
    const arrivesAt = Date.parse(e.eventTime) + 150_000;
    const { activities, calls } = mockActivities({
      async waitForReplacement() {
        const now = Context.current().info.currentAttemptScheduledTimestampMs;
        if (now >= arrivesAt) return { arrived: true, containerInstanceArn: `${ARN}-new`, instanceId: 'i-0fedcba9876543210' };
        // Nothing yet: the slice runs out (the time-skipping server moves the clock while the workflow waits).
        return { arrived: false };
      },
    });
    const worker = await newWorker(taskQueue, activities);
    const result = await worker.runUntil(async () => {
      const handle = await sendEvent(taskQueue, e);
      const r = await handle.result();
      await recordHistory(handle, 'spot-drain', 'rebalance-replace-first');
      return r;
    });
    expect(result.outcome).toBe('drained');
    const names = result.steps.map((st) => `${st.name}:${st.status}`);
    expect(names.slice(0, 4)).toEqual(['resolve:done', 'request-capacity:done', 'wait-for-replacement:done', 'set-draining:done']);
    expect(names[names.length - 1]).toBe('terminate-instance:done');
    const draining = result.steps.find((st) => st.name === 'set-draining')!;
    expect(Date.parse(draining.startedAt)).toBeGreaterThanOrEqual(arrivesAt);
    expect(calls.terminateDrainedInstance?.[0]?.[0]).toEqual({ cluster: CLUSTER, pool: 'spot-instant', instanceId, weight: 1, dryRun: false });
    expect(result.notDone).toEqual([]);
  });

  it('rebalance in a pool with Capacity Rebalancing: asks for no second replacement, waits for the pool\'s own, and takes the instance out keeping the pool\'s target', async () => {
    const taskQueue = uniqueTaskQueue('drain-pool-rebalances');
    const instanceId = newInstanceId();
    const e = await event(instanceId, 'rebalance-recommendation');
    const { activities, calls } = mockActivities({
      async findInstancePool() {
        return { found: true, pool: 'on-demand', kind: 'asg', replacesOwnInstances: true, replacesOnRebalance: true };
      },
    });
    const worker = await newWorker(taskQueue, activities);
    const result = await worker.runUntil(async () => {
      const handle = await sendEvent(taskQueue, e);
      const r = await handle.result();
      await recordHistory(handle, 'spot-drain', 'rebalance-pool-replaces');
      return r;
    });
    expect(result.outcome).toBe('drained');
    expect(calls.requestReplacementCapacity).toBeUndefined();
    const names = result.steps.map((st) => `${st.name}:${st.status}`);
    expect(names.slice(0, 4)).toEqual(['resolve:done', 'request-capacity:skipped', 'wait-for-replacement:done', 'set-draining:done']);
    expect(result.steps.find((st) => st.name === 'request-capacity')?.detail).toBe('pool on-demand (asg) launches its replacement itself (Capacity Rebalancing)');
    // The pool's replacement is looked for since the recommendation, not since a request.
    expect(calls.waitForReplacement?.[0]?.[0]).toMatchObject({ sinceEpochMs: Date.parse(e.eventTime) });
    expect(calls.terminateDrainedInstance?.[0]?.[0]).toEqual({ cluster: CLUSTER, pool: 'on-demand', instanceId, weight: 1, keepTarget: true, dryRun: false });
    expect(result.notDone).toEqual([]);
  });

  it('rebalance: no replacement within five minutes drains anyway', async () => {
    const taskQueue = uniqueTaskQueue('drain-replace-bounded');
    const never = mockActivities({
      async waitForReplacement() {
        return { arrived: false };
      },
    });
    const worker = await newWorker(taskQueue, never.activities);
    const slow = newInstanceId();
    const e = await event(slow, 'rebalance-recommendation');
    const bounded = await worker.runUntil(async () => (await sendEvent(taskQueue, e)).result());
    const waited = bounded.steps.find((st) => st.name === 'wait-for-replacement')!;
    expect(waited.status).toBe('failed');
    expect(Date.parse(waited.endedAt!) - Date.parse(waited.startedAt)).toBeLessThanOrEqual(301_000);
    expect(bounded.outcome).toBe('drained');
    expect(never.calls.terminateDrainedInstance).toHaveLength(1);
  });

  it('a stop (or hibernate) warning: drained, no permanent replacement, ACTIVE again when the instance runs again', async () => {
    const taskQueue = uniqueTaskQueue('drain-stop');
    const { activities, calls } = mockActivities();
    const worker = await newWorker(taskQueue, activities);
    const instanceId = newInstanceId();
    const result = await worker.runUntil(async () => {
      const handle = await sendEvent(taskQueue, await event(instanceId, 'interruption-warning', { instanceAction: 'stop' }));
      await until(handle, (s) => s.phase === 'waiting-for-return', 'the wait for the instance to come back');
      // Stopped (EC2 `stopped`), then started again a day later (EC2 `running`).
      await handle.signal(drainEventSignal, await event(instanceId, 'instance-gone', { instanceAction: 'stop' }));
      await env.sleep('1 day');
      await handle.signal(drainEventSignal, await event(instanceId, 'instance-running'));
      const r = await handle.result();
      await recordHistory(handle, 'spot-drain', 'stop-and-return');
      return r;
    });
    expect(result.outcome).toBe('drained');
    expect(result.steps.find((st) => st.name === 'request-capacity')).toMatchObject({ status: 'skipped', detail: 'the instance stops and comes back (stop/hibernate): no permanent replacement' });
    expect(calls.requestReplacementCapacity).toBeUndefined();
    expect(calls.setContainerInstanceActive?.[0]?.[0]).toEqual({ cluster: CLUSTER, containerInstanceArn: ARN, dryRun: false });
    expect(result.steps[result.steps.length - 1]).toMatchObject({ name: 'reactivate', status: 'done' });
  });

  it('leaves no abort watcher pending from earlier wait slices', async () => {
    const taskQueue = uniqueTaskQueue('drain-watchers');
    const instanceId = newInstanceId();
    const lifecycle = { hookName: 'drain-hook', asgName: 'demo-on-demand', actionToken: 'tok-w' };
    let tasksGone = false;
    const { activities } = mockActivities({
      async waitForInstanceTasks() {
        return tasksGone ? { tasksLeft: 0, running: 0, pending: 0 } : { tasksLeft: 2, running: 2, pending: 0 };
      },
    });
    const worker = await newWorker(taskQueue, activities);
    await worker.runUntil(async () => {
      const handle = await sendEvent(taskQueue, await event(instanceId, 'lifecycle-terminate', { lifecycle }));
      await until(handle, (s) => s.phase === 'waiting-for-tasks', 'waiting for tasks');
      // Twenty wait slices, landing inside a pause between two (the mocked wait answers at once).
      await env.sleep('615 seconds');
      // The SDK's own query: the stack of every promise the workflow is blocked on.
      const stacks = await handle.query<string>('__stack_trace');
      const blockedAt = new Set(stacks.split('\n').flatMap((line) => /wait-for-tasks\.ts:(\d+)/.exec(line)?.[1] ?? []));
      // Only the pause itself. Before the fix, also the abort watcher every earlier slice left pending.
      expect(blockedAt.size).toBe(1);
      tasksGone = true;
      await env.sleep('1 minute');
      expect((await handle.result()).outcome).toBe('drained');
    });
  });

  it('heartbeats the lifecycle action on durable timers through a ten-minute drain and a worker restart, then CONTINUE', async () => {
    const taskQueue = uniqueTaskQueue('drain-lifecycle');
    const instanceId = newInstanceId();
    const lifecycle = { hookName: 'drain-hook', asgName: 'demo-on-demand', actionToken: 'tok-1' };
    const e = await event(instanceId, 'lifecycle-terminate', { lifecycle });
    // Tasks leave at the first wait slice after the tenth heartbeat (ten minutes of workflow time at
    // 60 s each). The drain then ends at least a wait slice (30 s) before the next heartbeat is due,
    // so the heartbeat timer it cancels cannot fire during its last task, even on a loaded machine:
    // the time-skipping server refuses such a task (harness/workflow-task-failures.ts) and its clock
    // runs at wall speed while a task is out. Tasks leaving at a fixed time ended the drain on a wait
    // slice that every other minute falls within a second of a heartbeat.
    let heartbeats = 0;
    const heartbeat: DrainActivities['recordLifecycleHeartbeat'] = async () => {
      heartbeats += 1;
      return { active: true, dryRunCalls: [] };
    };
    const waitUntilTenMinutes: DrainActivities['waitForInstanceTasks'] = async () => {
      const left = heartbeats >= 10 ? 0 : 2;
      return { tasksLeft: left, running: left, pending: 0 };
    };
    const first = mockActivities({ waitForInstanceTasks: waitUntilTenMinutes, recordLifecycleHeartbeat: heartbeat });
    const worker1 = await newWorker(taskQueue, first.activities, true);
    const handle = await worker1.runUntil(async () => {
      const h = await sendEvent(taskQueue, e);
      await env.sleep('4 minutes');
      return h;
    });
    const beforeRestart = first.calls.recordLifecycleHeartbeat?.length ?? 0;
    expect(beforeRestart).toBeGreaterThanOrEqual(3);

    const second = mockActivities({ waitForInstanceTasks: waitUntilTenMinutes, recordLifecycleHeartbeat: heartbeat });
    const worker2 = await newWorker(taskQueue, second.activities);
    const { result, seconds } = await worker2.runUntil(async () => {
      const r = await handle.result();
      await recordHistory(handle, 'spot-drain', 'lifecycle-ten-minutes');
      return { result: r, seconds: await workflowSeconds(handle) };
    });
    expect(result.outcome).toBe('drained');
    expect(seconds).toBeGreaterThanOrEqual(600);
    const afterRestart = second.calls.recordLifecycleHeartbeat?.length ?? 0;
    expect(afterRestart).toBeGreaterThanOrEqual(4);
    expect(beforeRestart + afterRestart).toBe(10);
    expect(second.calls.recordLifecycleHeartbeat?.[0]?.[0]).toMatchObject({ lifecycle, instanceId });
    expect(second.calls.completeLifecycleAction).toHaveLength(1);
    expect(second.calls.completeLifecycleAction?.[0]?.[0]).toMatchObject({ lifecycle, instanceId });
    expect(result.steps.find((s) => s.name === 'request-capacity')?.status).toBe('skipped');
    expect(first.calls.requestReplacementCapacity).toBeUndefined();
    expect(first.calls.deregisterInstanceTargets).toBeUndefined();
    expect(second.calls.deregisterInstanceTargets).toBeUndefined();
  });

  it('a lifecycle action after the drain finished starts a new run that completes it at once (CONTINUE), not a duplicate', async () => {
    const taskQueue = uniqueTaskQueue('drain-late-lifecycle');
    let drained = false;
    const { activities, calls } = mockActivities({
      async resolveDrainTarget() {
        const left = drained ? 0 : 2;
        return { found: true, cluster: CLUSTER, containerInstanceArn: ARN, status: drained ? 'DRAINING' : 'ACTIVE', instanceType: 'm5.large', runningTasks: left, pendingTasks: 0, capacityUnits: 1, drain: DRAIN_DEFAULTS };
      },
    });
    const worker = await newWorker(taskQueue, activities);
    const instanceId = newInstanceId();
    const lifecycle = { hookName: 'drain-hook', asgName: 'demo-on-demand', actionToken: 'tok-late' };
    const { second, seconds } = await worker.runUntil(async () => {
      const first = await sendEvent(taskQueue, await event(instanceId, 'scale-in'));
      expect((await first.result()).outcome).toBe('drained');
      drained = true;
      // The capacity workflow's TerminateInstanceInAutoScalingGroup fires the hook only now.
      const start = drainStartOptions({ instanceId }, { why: 'lifecycle', lifecycleAction: true });
      const handle = await env.client.workflow.signalWithStart<SpotDrainWorkflow, [DrainEvent]>(start.workflowType, {
        ...start,
        taskQueue,
        signal: drainEventSignal,
        signalArgs: [await event(instanceId, 'lifecycle-terminate', { lifecycle })],
      });
      expect(handle.signaledRunId).not.toBe(first.signaledRunId);
      const r = await handle.result();
      await recordHistory(handle, 'spot-drain', 'lifecycle-after-drain');
      return { second: r, seconds: await workflowSeconds(handle) };
    });
    expect(second.outcome).toBe('drained');
    expect(second.notDone).toEqual([]);
    expect(seconds).toBeLessThan(5);
    expect(calls.completeLifecycleAction).toHaveLength(1);
    expect(calls.completeLifecycleAction?.[0]?.[0]).toMatchObject({ lifecycle, instanceId });
    expect(calls.setDrainingWithSlot).toHaveLength(1);
  });

  it('completes the lifecycle action CONTINUE when the instance is in no cluster, and when the resolve fails', async () => {
    const taskQueue = uniqueTaskQueue('drain-lifecycle-ends');
    const lifecycle = { hookName: 'drain-hook', asgName: 'demo-on-demand', actionToken: 'tok-x' };
    const notFound = mockActivities({
      async resolveDrainTarget() {
        return { found: false, searchedClusters: ['demo'] };
      },
    });
    const failing = mockActivities({
      async resolveDrainTarget() {
        throw ApplicationFailure.nonRetryable('ecs:ListContainerInstances: AccessDeniedException', FailureType.AwsAccessDenied);
      },
    });
    for (const [mock, outcome] of [
      [notFound, 'not-in-cluster'],
      [failing, 'deadline-missed'],
    ] as const) {
      const worker = await newWorker(taskQueue, mock.activities);
      const instanceId = newInstanceId();
      const result = await worker.runUntil(async () => {
        const handle = await sendEvent(taskQueue, await event(instanceId, 'lifecycle-terminate', { lifecycle }));
        return handle.result();
      });
      expect(result.outcome).toBe(outcome);
      expect(mock.calls.completeLifecycleAction).toHaveLength(1);
      expect(result.steps.find((st) => st.name === 'complete-lifecycle-action')).toMatchObject({ status: 'done' });
    }
  });

  it('completes the lifecycle action CONTINUE when the instance cannot be set DRAINING', async () => {
    const taskQueue = uniqueTaskQueue('drain-lifecycle-no-draining');
    const lifecycle = { hookName: 'drain-hook', asgName: 'demo-on-demand', actionToken: 'tok-nd' };
    const { activities, calls } = mockActivities({
      async setContainerInstanceDraining() {
        throw ApplicationFailure.nonRetryable('ecs:UpdateContainerInstancesState: AccessDeniedException', FailureType.AwsAccessDenied);
      },
    });
    const worker = await newWorker(taskQueue, activities);
    const instanceId = newInstanceId();
    const result = await worker.runUntil(async () => {
      const handle = await sendEvent(taskQueue, await event(instanceId, 'lifecycle-terminate', { lifecycle }));
      return handle.result();
    });
    expect(result.outcome).toBe('deadline-missed');
    expect(result.failure).toMatch(/could not set DRAINING/);
    // Left open, the action would hold the instance in Terminating:Wait for the hook's whole timeout.
    expect(calls.completeLifecycleAction).toHaveLength(1);
    expect(calls.completeLifecycleAction?.[0]?.[0]).toMatchObject({ lifecycle, instanceId });
  });

  it('a stop warning whose DRAINING fails still waits for the instance to run again and sets it ACTIVE (the coordinator may have set it DRAINING)', async () => {
    const taskQueue = uniqueTaskQueue('drain-stop-no-draining');
    const { activities, calls } = mockActivities({
      async setContainerInstanceDraining() {
        throw ApplicationFailure.nonRetryable('ecs:UpdateContainerInstancesState: AccessDeniedException', FailureType.AwsAccessDenied);
      },
    });
    const worker = await newWorker(taskQueue, activities);
    const instanceId = newInstanceId();
    const result = await worker.runUntil(async () => {
      const handle = await sendEvent(taskQueue, await event(instanceId, 'interruption-warning', { instanceAction: 'stop' }));
      await until(handle, (s) => s.phase === 'waiting-for-return', 'the wait for the instance to come back');
      await handle.signal(drainEventSignal, await event(instanceId, 'instance-gone', { instanceAction: 'stop' }));
      await env.sleep('1 day');
      await handle.signal(drainEventSignal, await event(instanceId, 'instance-running'));
      return handle.result();
    });
    expect(result.outcome).toBe('deadline-missed');
    expect(result.failure).toMatch(/could not set DRAINING/);
    expect(calls.setContainerInstanceActive?.[0]?.[0]).toEqual({ cluster: CLUSTER, containerInstanceArn: ARN, dryRun: false });
    expect(result.steps[result.steps.length - 1]).toMatchObject({ name: 'reactivate', status: 'done' });
  });

  it('heartbeats inside the hook\'s HeartbeatTimeout when it is shorter than the configured interval', async () => {
    const taskQueue = uniqueTaskQueue('drain-hook-timeout');
    const instanceId = newInstanceId();
    const lifecycle = { hookName: 'drain-hook', asgName: 'demo-on-demand', actionToken: 'tok-short' };
    const e = await event(instanceId, 'lifecycle-terminate', { lifecycle });
    // Tasks leave in the tenth 30 s wait slice, 270 s into the wait: halfway between two heartbeats
    // (260 s, 280 s), so the heartbeat timer the drain cancels as it ends is not due during its last
    // task (see the ten-minute drain above).
    let slices = 0;
    const { activities, calls } = mockActivities({
      async describeLifecycleHook() {
        return { found: true, heartbeatTimeoutSeconds: 60, globalTimeoutSeconds: 6000, defaultResult: 'ABANDON' };
      },
      async waitForInstanceTasks() {
        slices += 1;
        const left = slices >= 10 ? 0 : 2;
        return { tasksLeft: left, running: left, pending: 0 };
      },
    });
    const worker = await newWorker(taskQueue, activities);
    const result = await worker.runUntil(async () => (await sendEvent(taskQueue, e)).result());
    expect(result.outcome).toBe('drained');
    // 270 s at one heartbeat per 20 s (a third of the hook's 60 s), not per the configured 60 s.
    expect(calls.recordLifecycleHeartbeat?.length).toBeGreaterThanOrEqual(12);
    expect(calls.describeLifecycleHook?.[0]?.[0]).toEqual({ asgName: 'demo-on-demand', hookName: 'drain-hook', cluster: 'demo' });
  });

  it('ends not-in-cluster quickly when no managed cluster has the instance', async () => {
    const taskQueue = uniqueTaskQueue('drain-notincluster');
    const { activities, calls } = mockActivities({
      async resolveDrainTarget() {
        return { found: false, searchedClusters: ['demo'] };
      },
    });
    const worker = await newWorker(taskQueue, activities);
    const instanceId = newInstanceId();
    const { result, seconds } = await worker.runUntil(async () => {
      const handle = await sendEvent(taskQueue, await event(instanceId, 'interruption-warning'));
      const r = await handle.result();
      await recordHistory(handle, 'spot-drain', 'not-in-cluster');
      return { result: r, seconds: await workflowSeconds(handle) };
    });
    expect(result.outcome).toBe('not-in-cluster');
    expect(result.notDone).toEqual([]);
    expect(seconds).toBeLessThan(2);
    expect(Object.keys(calls)).toEqual(['resolveDrainTarget']);
  });

  it('ignores a duplicate event: one run, one drain', async () => {
    const taskQueue = uniqueTaskQueue('drain-duplicate');
    let release = false;
    const { activities, calls } = mockActivities({
      async waitForInstanceTasks() {
        const left = release ? 0 : 1;
        return { tasksLeft: left, running: left, pending: 0 };
      },
    });
    const worker = await newWorker(taskQueue, activities);
    const instanceId = newInstanceId();
    const result = await worker.runUntil(async () => {
      const e = await event(instanceId, 'interruption-warning');
      const handle = await sendEvent(taskQueue, e);
      await until(handle, (s) => s.phase === 'waiting-for-tasks', 'the wait');
      const again = await sendEvent(taskQueue, e);
      expect(again.signaledRunId).toBe(handle.signaledRunId);
      const s = await until(handle, (st) => st.duplicateEvents === 1, 'the duplicate to be counted');
      expect(s.events).toHaveLength(1);
      release = true;
      const r = await handle.result();
      await recordHistory(handle, 'spot-drain', 'duplicate-event');
      return r;
    });
    expect(result.outcome).toBe('drained');
    expect(calls.setContainerInstanceDraining).toHaveLength(1);
    expect(calls.requestReplacementCapacity).toHaveLength(1);
  });

  it('aborts on request: the wait is cancelled and the state left is stated', async () => {
    const taskQueue = uniqueTaskQueue('drain-abort');
    let waitStarted!: () => void;
    const waiting = new Promise<void>((r) => (waitStarted = r));
    let waitCancelled = false;
    const { activities, calls } = mockActivities({ waitForInstanceTasks: blockingWait(() => waitStarted(), () => (waitCancelled = true)) });
    const worker = await newWorker(taskQueue, activities);
    const instanceId = newInstanceId();
    const result = await worker.runUntil(async () => {
      const handle = await sendEvent(taskQueue, await event(instanceId, 'interruption-warning'));
      await waiting;
      const accepted = await handle.executeUpdate(abortUpdate, { args: [{ reason: 'instance is being kept for forensics', by: 'test' }] });
      expect(accepted.abortRequested).toBe('instance is being kept for forensics');
      const r = await handle.result();
      await expect(handle.executeUpdate(abortUpdate, { args: [{ reason: 'again' }] })).rejects.toThrow();
      await recordHistory(handle, 'spot-drain', 'abort');
      return r;
    });
    expect(result.outcome).toBe('aborted');
    expect(result.abortReason).toBe('instance is being kept for forensics');
    expect(result.failure).toContain('stays DRAINING');
    expect(result.notDone).toContain('wait-for-tasks');
    expect(calls.requestDrainIncident).toBeUndefined();
    await poll.until('the wait for tasks to see its cancellation', () => waitCancelled, { timeoutMs: 5_000, intervalMs: 100 });
    expect(waitCancelled).toBe(true);
  });

  // After the time-dependent tests: a cancelled activity attempt keeps the time-skipping clock locked.
  it('rebalance: a warning during the replacement wait drains at once and terminates nothing', async () => {
    const taskQueue = uniqueTaskQueue('drain-replace-escalated');
    let waitStarted!: () => void;
    const waiting = new Promise<void>((r) => (waitStarted = r));
    let cancelled!: () => void;
    const waitCancelled = new Promise<void>((r) => (cancelled = r));
    const blocked = mockActivities({ waitForReplacement: blockingWait(() => waitStarted(), () => cancelled()) as unknown as DrainActivities['waitForReplacement'] });
    const worker2 = await newWorker(taskQueue, blocked.activities);
    const urgent = newInstanceId();
    const { result, warningAt } = await worker2.runUntil(async () => {
      const handle = await sendEvent(taskQueue, await event(urgent, 'rebalance-recommendation'));
      await waiting;
      const warning = await event(urgent, 'interruption-warning');
      await sendEvent(taskQueue, warning);
      const r = await handle.result();
      // The cancelled wait must be seen to end here: a running activity holds the time-skipping clock.
      await waitCancelled;
      return { result: r, warningAt: Date.parse(warning.eventTime) };
    });
    expect(result.outcome).toBe('drained');
    expect(result.steps.find((st) => st.name === 'wait-for-replacement')).toMatchObject({ status: 'skipped', detail: 'interruption-warning: draining at once' });
    expect(Date.parse(result.steps.find((st) => st.name === 'set-draining')!.startedAt) - warningAt).toBeLessThan(5_000);
    expect(blocked.calls.terminateDrainedInstance).toBeUndefined();
  });

  it('dryRun: the real activities make no mutating AWS call and every one is recorded', async () => {
    const taskQueue = uniqueTaskQueue('drain-dryrun');
    const instanceId = newInstanceId();
    const config = parseConfigText(readFileSync(join(ROOT, 'test', 'fixtures', 'fleetops.valid.yaml'), 'utf8'));
    const sent: string[] = [];
    // A read the fake does not answer fails and is retried: the drain must not have needed one.
    const unexpected: string[] = [];
    const tg = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/1';
    const reads: Record<string, () => unknown> = {
      ListContainerInstancesCommand: () => ({ containerInstanceArns: [ARN] }),
      DescribeContainerInstancesCommand: () => ({
        containerInstances: [
          { containerInstanceArn: ARN, ec2InstanceId: instanceId, status: 'ACTIVE', runningTasksCount: 2, pendingTasksCount: 0, attributes: [{ name: 'ecs.instance-type', value: 'm5.xlarge' }] },
        ],
      }),
      ListTasksCommand: () => ({ taskArns: ['arn:aws:ecs:us-east-1:123456789012:task/demo/svc1', 'arn:aws:ecs:us-east-1:123456789012:task/demo/batch1'] }),
      DescribeTasksCommand: () => ({
        tasks: [
          { taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/demo/svc1', group: 'service:web', desiredStatus: 'RUNNING' },
          { taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/demo/batch1', group: 'family:batch', desiredStatus: 'RUNNING', taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/batch:3' },
        ],
      }),
      DescribeTargetGroupsCommand: () => ({ TargetGroups: [{ TargetGroupArn: tg }] }),
      // The drain finds the group through the service of the instance's task.
      DescribeServicesCommand: () => ({ services: [{ serviceName: 'web', loadBalancers: [{ targetGroupArn: tg, containerName: 'web', containerPort: 80 }] }] }),
      DescribeTargetHealthCommand: () => ({ TargetHealthDescriptions: [{ Target: { Id: instanceId, Port: 32768 }, TargetHealth: { State: 'healthy' } }] }),
      DescribeTargetGroupAttributesCommand: () => ({ Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '300' }] }),
      // The pool lookup sweeps the configured pools; none holds the instance in this world.
      DescribeFleetsCommand: () => ({ Fleets: [] }),
      DescribeFleetInstancesCommand: () => ({ ActiveInstances: [] }),
      DescribeSpotFleetRequestsCommand: () => ({ SpotFleetRequestConfigs: [] }),
      DescribeSpotFleetInstancesCommand: () => ({ ActiveInstances: [] }),
      DescribeAutoScalingGroupsCommand: () => ({ AutoScalingGroups: [] }),
      DescribeInstancesCommand: () => ({ Reservations: [] }),
    };
    const fakeClient = {
      async send(cmd: object) {
        const name = cmd.constructor.name;
        sent.push(name);
        const read = reads[name];
        if (!read) {
          unexpected.push(name);
          throw new Error(`unexpected AWS call ${name}`);
        }
        return read();
      },
    };
    const aws = { ecs: fakeClient, ec2: fakeClient, autoscaling: fakeClient, elbv2: fakeClient, cloudwatch: fakeClient, sqs: fakeClient, destroy() {} } as unknown as AwsClients;
    const signalled: string[] = [];
    const activities = createDrainActivities({ aws, config }, { signalWithStart: async (type) => void signalled.push(type) });
    const worker = await newWorker(taskQueue, activities);
    const { result, status } = await worker.runUntil(async () => {
      const handle = await sendEvent(taskQueue, await event(instanceId, 'interruption-warning'), true);
      const r = await handle.result();
      const s = await statusOf(handle);
      await recordHistory(handle, 'spot-drain', 'dry-run');
      return { result: r, status: s };
    });
    expect(result.outcome).toBe('drained');
    expect(unexpected).toEqual([]);
    expect(sent.every((n) => n.startsWith('Describe') || n.startsWith('List'))).toBe(true);
    expect(signalled).toEqual([]);
    expect(status.dryRun).toBe(true);
    const actions = (status.dryRunCalls ?? []).map((c) => c.action).sort();
    expect(actions).toEqual([
      'ecs:RunTask',
      'ecs:StopTask',
      'ecs:UpdateContainerInstancesState',
      'elasticloadbalancing:DeregisterTargets',
      'fleetops:capacityRequest',
    ]);
    const capacity = status.dryRunCalls?.find((c) => c.action === 'fleetops:capacityRequest');
    // m5.xlarge weighs 2 units in the fixture's spot pool.
    expect(capacity?.params).toMatchObject({ workflowId: 'capacity-demo', units: 2, direction: 'out' });
    expect(result.steps.find((s) => s.name === 'wait-for-tasks')?.status).toBe('skipped');
  });

  // Last on purpose: the time-skipping server keeps time locked for the lost worker's activity attempt,
  // so tests after this one would wait out their timers in real time.
  it('survives losing the worker mid-drain: a new worker finishes the same run', async () => {
    const taskQueue = uniqueTaskQueue('drain-restart');
    let waitStarted!: () => void;
    const waiting = new Promise<void>((r) => (waitStarted = r));
    const first = mockActivities({ waitForInstanceTasks: blockingWait(() => waitStarted()) });
    const worker1 = await newWorker(taskQueue, first.activities, true);
    const instanceId = newInstanceId();
    const run1 = worker1.run();
    const handle = await sendEvent(taskQueue, await event(instanceId, 'interruption-warning'));
    await waiting;
    worker1.shutdown();
    await run1;

    const second = mockActivities();
    const worker2 = await newWorker(taskQueue, second.activities);
    const result = await worker2.runUntil(async () => {
      const r = await handle.result();
      await recordHistory(handle, 'spot-drain', 'worker-restart');
      return r;
    });
    expect(result.outcome).toBe('drained');
    expect(first.calls.setContainerInstanceDraining).toHaveLength(1);
    expect(second.calls.setContainerInstanceDraining).toBeUndefined();
    expect(second.calls.waitForInstanceTasks?.length).toBeGreaterThanOrEqual(1);
    expect(result.steps.filter((s) => s.name === 'set-draining')).toHaveLength(1);
  });
});
