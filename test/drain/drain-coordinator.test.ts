import type { WorkflowHandle } from '@temporalio/client';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';

import type { DrainActivities } from '../../activities/drain';
import type { SetDrainingAtOnceInput, SetDrainingAtOnceResult } from '../../activities/drain/types';
import { abortUpdate, pauseUpdate, resumeUpdate, statusQuery } from '../../contracts/controls';
import { FailureType } from '../../common/failures';
import { drainCoordinatorStartOptions } from '../../contracts/drain-coordinator/start';
import type { InterruptionNotice } from '../../contracts/drain-coordinator/input';
import { interruptionNoticesSignal, type DrainCoordinatorStatus, type DrainCoordinatorWorkflow } from '../../contracts/drain-coordinator/messages';
import { until, untilValue } from '../../testkit/poll';
import { bundledWorkflows, connectDevServer, createTimeSkippingEnv, recordHistory, uniqueTaskQueue } from '../harness/temporal';
import { createWorker } from '../harness/workers';

/**
 * The drain coordinator on the time-skipping server with a mocked activity: one call per batch,
 * notices that arrive meanwhile go in the next, duplicates and expired notices are dropped, pause
 * holds notices (also across continue-as-new), a call that keeps failing is given up and the next
 * batch still goes, abort ends the run. setDrainingAtOnce itself runs against the emulator in
 * test/drain/drain-activities.test.ts; the whole path in the spot-storm bench and test/e2e/drain-e2e.
 */

// Message handling and continue-as-new run on the real dev server: the time-skipping test server
// lost a run that continued as new in the same task as a signal arrived (the next run never answered
// a query; the dev server carries the signal over as Temporal does). What involves time (retry
// budgets, deadlines) runs on the time-skipping server.
let dev: TestWorkflowEnvironment;
let skipping: TestWorkflowEnvironment;
let env: TestWorkflowEnvironment;
let counter = 0;

beforeAll(async () => {
  [dev, skipping] = await Promise.all([connectDevServer(), createTimeSkippingEnv()]);
  env = dev;
});

afterAll(async () => {
  await Promise.all([dev?.teardown(), skipping?.teardown()]);
});

// The dev server unless a test says otherwise.
beforeEach(() => {
  env = dev;
});

const newInstanceId = () => `i-${(Date.now().toString(16) + (++counter).toString(16).padStart(4, '0')).padStart(17, '0').slice(-17)}`;

async function notices(n: number, deadlineInMs = 120_000): Promise<InterruptionNotice[]> {
  const now = await env.currentTimeMs();
  return Array.from({ length: n }, () => {
    const instanceId = newInstanceId();
    return { instanceId, eventId: `ev-${instanceId}`, eventTime: new Date(now).toISOString(), deadline: new Date(now + deadlineInMs).toISOString() };
  });
}

type AtOnce = (input: SetDrainingAtOnceInput) => Promise<SetDrainingAtOnceResult>;
const allDraining: AtOnce = async ({ instanceIds }) => ({ instances: instanceIds.map((instanceId) => ({ instanceId, outcome: 'draining' as const })) });

/** The coordinator on its own task queue and workflow id, with `setDrainingAtOnce` recorded. */
async function withCoordinator(
  name: string,
  impl: AtOnce,
  body: (h: WorkflowHandle<DrainCoordinatorWorkflow>, calls: string[][]) => Promise<void>,
  continueAsNewAfterEvents?: number,
): Promise<void> {
  const calls: string[][] = [];
  const activities = {
    setDrainingAtOnce: (input: SetDrainingAtOnceInput) => {
      calls.push(input.instanceIds);
      return impl(input);
    },
  } as Partial<DrainActivities>;
  const taskQueue = uniqueTaskQueue(`coordinator-${name}`);
  const worker = await createWorker({ connection: env.nativeConnection, taskQueue, ...bundledWorkflows(), activities });
  await worker.runUntil(async () => {
    const start = drainCoordinatorStartOptions();
    const handle = await env.client.workflow.start<DrainCoordinatorWorkflow>(start.workflowType, {
      ...start,
      workflowId: `${start.workflowId}-${name}-${counter++}`,
      taskQueue,
      args: [{ ...start.args[0], ...(continueAsNewAfterEvents ? { continueAsNewAfterEvents } : {}) }],
    });
    await body(handle, calls);
    await recordHistory(handle, 'drain-coordinator', name);
  });
}

async function statusOf(h: WorkflowHandle<DrainCoordinatorWorkflow>): Promise<DrainCoordinatorStatus> {
  return (await h.query(statusQuery)) as DrainCoordinatorStatus;
}

/** Polls the status until `ok` holds (a state, not a sleep); fails with the last status after 20 s. */
function waitForStatus(h: WorkflowHandle<DrainCoordinatorWorkflow>, ok: (s: DrainCoordinatorStatus) => boolean): Promise<DrainCoordinatorStatus> {
  return untilValue('the coordinator status to match', () => statusOf(h), ok, { timeoutMs: 20_000, intervalMs: 50 });
}

/** Waits until the workflow id's current run is not `runId` (it continued as new). */
async function waitForNewRun(h: WorkflowHandle<DrainCoordinatorWorkflow>, runId: string): Promise<void> {
  await until('the coordinator to continue as new', async () => (await h.describe()).runId !== runId, { timeoutMs: 20_000, intervalMs: 50 });
}

/**
 * Whether this attempt was scheduled after its activity's schedule-to-close deadline, which Temporal
 * never does, but the Java time-skipping test server does for good when the deadline falls on a whole
 * second of its clock (one call in a thousand): it stops retrying only if the next attempt would
 * start after the deadline, a check it skips when the deadline's nanoseconds are 0 (it takes them
 * for "no deadline"), and its schedule-to-close timer ignores an activity whose first attempt failed.
 * The call then retried every two seconds for ever, the status kept `inFlight: 1`, and the attempt
 * out when the run was terminated held the server's clock. A mock that fails such an attempt for good
 * ends the call as the server should have, one or two attempts late.
 */
function pastScheduleToClose(): boolean {
  const { scheduledTimestampMs, currentAttemptScheduledTimestampMs, scheduleToCloseTimeoutMs } = Context.current().info;
  return currentAttemptScheduledTimestampMs > scheduledTimestampMs + scheduleToCloseTimeoutMs;
}

describe('drain coordinator (time-skipping, mocked activity)', () => {
  it('sets a batch DRAINING in one call; notices that arrive meanwhile go in the next; repeats are duplicates', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let first = true;
    await withCoordinator(
      'batches',
      async (input) => {
        if (first) {
          first = false;
          await held;
        }
        return allDraining(input);
      },
      async (h, calls) => {
        const a = await notices(3);
        const b = await notices(2);
        await h.signal(interruptionNoticesSignal, a);
        await waitForStatus(h, (s) => s.inFlight === 1);
        await h.signal(interruptionNoticesSignal, [...b, a[0]!]);
        await h.signal(interruptionNoticesSignal, [b[1]!]);
        // Up to four calls run at once: the new notices do not wait for the held call.
        const s1 = await waitForStatus(h, (s) => (s.counts.draining ?? 0) === 2);
        expect(s1.counts).toMatchObject({ received: 7, duplicates: 2 });
        release();
        const s = await waitForStatus(h, (s) => (s.counts.draining ?? 0) === 5 && s.inFlight === 0);
        expect(calls).toEqual([a.map((n) => n.instanceId), b.map((n) => n.instanceId)]);
        expect(s).toMatchObject({ phase: 'coordinating', pending: 0, counts: { received: 7, duplicates: 2, draining: 5, batches: 2 } });
        expect(s.summary).toContain('5 set DRAINING ahead of their drains');
        expect(s.recentBatches.map((r) => r.instances)).toEqual([3, 2]);
        // Each call at task priority 1: ahead of the drains' activities (default 3) in the queue's backlog.
        const scheduled = ((await h.fetchHistory()).events ?? []).flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes] : []));
        expect(scheduled.map((a) => a.priority?.priorityKey)).toEqual([1, 1]);
      },
    );
  });

  it('drops a notice whose deadline has passed: the instance is gone', async () => {
    await withCoordinator('expired', allDraining, async (h, calls) => {
      const stale = await notices(1, -1_000);
      const live = await notices(1);
      await h.signal(interruptionNoticesSignal, [...stale, ...live]);
      const s = await waitForStatus(h, (s) => (s.counts.batches ?? 0) === 1);
      expect(s.counts).toMatchObject({ received: 2, expired: 1, draining: 1 });
      expect(calls).toEqual([[live[0]!.instanceId]]);
    });
  });

  it('reports per instance what the call did, and keeps going', async () => {
    const outcomes = ['draining', 'already-draining', 'not-in-cluster', 'not-active', 'failed'] as const;
    await withCoordinator(
      'outcomes',
      async ({ instanceIds }) => ({ instances: instanceIds.map((instanceId, i) => ({ instanceId, outcome: outcomes[i]!, ...(outcomes[i] === 'failed' ? { detail: 'ThrottlingException' } : {}) })) }),
      async (h) => {
        await h.signal(interruptionNoticesSignal, await notices(5));
        const s = await waitForStatus(h, (s) => (s.counts.batches ?? 0) === 1);
        expect(s.counts).toMatchObject({ draining: 1, 'already-draining': 1, 'not-in-cluster': 1, 'not-active': 1, failed: 1 });
        expect(s.recentBatches[0]).toMatchObject({ instances: 5, draining: 1, failed: 1 });
      },
    );
  });

  it('gives a call that keeps failing up within a minute, leaving its instances to their drains; the next batch still goes', async () => {
    env = skipping;
    let failing = true;
    await withCoordinator(
      'call-fails',
      async (input) => {
        if (failing && pastScheduleToClose()) throw ApplicationFailure.nonRetryable('Rate exceeded', FailureType.AwsThrottled);
        if (failing) throw ApplicationFailure.retryable('Rate exceeded', FailureType.AwsThrottled);
        return allDraining(input);
      },
      async (h, calls) => {
        const t0 = await env.currentTimeMs();
        await h.signal(interruptionNoticesSignal, await notices(2));
        await waitForStatus(h, (s) => s.inFlight === 1);
        // Time moves on only while the test sleeps: past the activity's schedule-to-close.
        await env.sleep(61_000);
        const s = await waitForStatus(h, (s) => (s.counts.batches ?? 0) === 1);
        expect(s.counts).toMatchObject({ failed: 2 });
        expect(s.recentBatches[0]!.error).toContain('Rate exceeded');
        // The activity's schedule-to-close (60 s), several attempts, then given up.
        expect(calls.length).toBeGreaterThan(3);
        expect((await env.currentTimeMs()) - t0).toBeGreaterThanOrEqual(59_000);
        failing = false;
        const next = await notices(1);
        await h.signal(interruptionNoticesSignal, next);
        const after = await waitForStatus(h, (s) => (s.counts.batches ?? 0) === 2);
        expect(after.counts).toMatchObject({ failed: 2, draining: 1 });
        expect(calls.at(-1)).toEqual([next[0]!.instanceId]);
      },
    );
  });

  it('holds notices while paused, also across continue-as-new, and sends them on resume', async () => {
    await withCoordinator(
      'paused',
      allDraining,
      async (h, calls) => {
        const firstRun = (await h.describe()).runId;
        await h.executeUpdate(pauseUpdate, { args: [{ by: 'alice' }] });
        // Enough signals to pass the history limit while paused.
        const held: InterruptionNotice[] = [];
        for (let i = 0; i < 12; i += 1) {
          const n = await notices(1, 600_000);
          held.push(...n);
          await h.signal(interruptionNoticesSignal, n);
        }
        const s = await waitForStatus(h, (s) => s.pending === 12);
        expect(s.paused).toBe(true);
        expect(calls).toEqual([]);
        await waitForNewRun(h, firstRun);
        expect((await statusOf(h)).pending).toBe(12);
        await h.executeUpdate(resumeUpdate, { args: [{ by: 'alice' }] });
        const done = await waitForStatus(h, (s) => (s.counts.draining ?? 0) === 12);
        expect(calls.flat().sort()).toEqual(held.map((n) => n.instanceId).sort());
        expect(done.paused).toBe(false);
      },
      20,
    );
  });

  it('does not carry notices that expired while paused into the next run', async () => {
    await withCoordinator(
      'paused-expired',
      allDraining,
      async (h, calls) => {
        const firstRun = (await h.describe()).runId;
        await h.executeUpdate(pauseUpdate, { args: [{ by: 'alice' }] });
        // Deadlines already past when the run continues as new: those instances are gone.
        for (let i = 0; i < 12; i += 1) await h.signal(interruptionNoticesSignal, await notices(1, -1_000));
        await waitForNewRun(h, firstRun);
        const s = await statusOf(h);
        // Every notice of the first run was left behind as expired; a signal that raced the
        // continue-as-new lands in the new run, held there (paused) until its own take or carry.
        expect(s.counts.received).toBe(12);
        expect((s.counts.expired ?? 0) + s.pending).toBe(12);
        expect(s.counts.expired).toBeGreaterThan(0);
        expect(calls).toEqual([]);
      },
      20,
    );
  });

  it('remembers handled instances across continue-as-new, so a late copy of a warning is a duplicate', async () => {
    await withCoordinator(
      'continued',
      allDraining,
      async (h, calls) => {
        const firstRun = (await h.describe()).runId;
        // A run past 40 events continues as new about every fourth notice. Each boundary rejects a
        // signal or query that lands while the run closes (RESOURCE_EXHAUSTED "workflow is closing",
        // retried by the client after 1 s, then longer). With a boundary at every second notice (20
        // events), one CI run ran out of its minute inside such a signal.
        const sent: InterruptionNotice[] = [];
        for (let i = 0; i < 8; i += 1) {
          const n = await notices(1);
          sent.push(...n);
          await h.signal(interruptionNoticesSignal, n);
          await waitForStatus(h, (s) => (s.counts.draining ?? 0) === i + 1);
        }
        await waitForNewRun(h, firstRun);
        await h.signal(interruptionNoticesSignal, [sent[0]!]);
        const s = await waitForStatus(h, (s) => (s.counts.duplicates ?? 0) === 1);
        expect(s.counts).toMatchObject({ received: 9, draining: 8, batches: 8 });
        expect(calls).toHaveLength(8);
      },
      40,
    );
  });

  it('abort ends the run once its call in flight is done', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    await withCoordinator(
      'aborted',
      async (input) => {
        await held;
        return allDraining(input);
      },
      async (h) => {
        await h.signal(interruptionNoticesSignal, await notices(2));
        await waitForStatus(h, (s) => s.inFlight === 1);
        await h.executeUpdate(abortUpdate, { args: [{ reason: 'drill', by: 'alice' }] });
        const stillOpen = await statusOf(h);
        expect(stillOpen.inFlight).toBe(1);
        release();
        await h.result();
        const s = await statusOf(h);
        expect(s).toMatchObject({ phase: 'aborted', counts: { draining: 2 } });
      },
    );
  });
});
