import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { until } from '../../testkit/poll';

/**
 * Keeps one test's workflow runs from stopping the clock of the tests after it in the same file.
 *
 * The time-skipping server skips time only while no workflow or activity task is outstanding: each
 * holds a lock on its clock, which then runs at wall speed. A run a test leaves open (it timed out,
 * or it ended with a drain still waiting) gets its next task after the test's workers stopped, on a
 * task queue no worker polls any more, and that task holds the clock for good: every later test in
 * the file waits out its timers in real time (an `env.sleep('1 day')` takes a day; the test times
 * out). Terminating such a run does not give the lock back (the server releases it only when the
 * task completes, fails or times out, which a closed run's task no longer does), nor does anything
 * give back the lock of a task whose completion the server refused (workflow-task-failures.ts).
 * A test that timed out also leaves its `result()` or `env.sleep()` call running, each of which
 * keeps the clock unlocked until it ends, while the next test assumes it locked.
 *
 * So after every test (per-file-setup.ts) the runs it started and left open are terminated: a run
 * that was only waiting (on a timer, a signal) holds nothing, and its `result()` and `sleep()` calls
 * then end on their own, and a ten-minute sleep checks that the clock skips. If one had a task
 * outstanding, the server refused a completion, or the clock does not skip, the file's environment
 * gets a new server (createTimeSkippingEnv: ~3 s) for the tests after it.
 * Runs open before the test began (a file's `beforeAll`) are the file's and are left alone. Only
 * time-skipping servers are watched: each belongs to one file; the dev server is shared by all.
 */

const NAMESPACE = 'default';

interface Tracked {
  env: TestWorkflowEnvironment;
  /** Starts a new server under `env` and stops the old one. */
  replaceServer: () => Promise<void>;
  /** Run ids open when the current test began. */
  before: Set<string>;
  /** `result()` and `sleep()` calls not yet ended: each holds the clock unlocked. */
  awaiting: Set<Promise<unknown>>;
  /** A run the current test left had a task out when it was terminated: its lock is never given back. */
  held: boolean;
}

const tracked = new Set<Tracked>();
/** Terminations started while a test runs (terminateTestRunsSoon), awaited after it. */
let terminating: Promise<void> = Promise.resolve();
let terminationError: unknown;
/** A task completion was refused during the current test: a lock no call gives back. */
let refused = false;

function watch<T>(t: Tracked, p: Promise<T>): Promise<T> {
  t.awaiting.add(p);
  const done = (): void => void t.awaiting.delete(p);
  void p.then(done, done);
  return p;
}

/** Counts the `result()` calls of `env`'s current client while they run. */
function watchResults(t: Tracked): void {
  // The handle's result() calls its client's result(), which the time-skipping client wraps in an
  // unlock and a lock.
  const client = t.env.client.workflow as unknown as { result: (...args: unknown[]) => Promise<unknown> };
  const result = client.result.bind(client);
  client.result = (...args) => watch(t, result(...args));
}

/**
 * Watches `env`, a time-skipping environment of this file (createTimeSkippingEnv), which
 * `replaceServer` moves to a new server. Returns the call that stops watching it.
 */
export function trackTimeSkippingEnv(env: TestWorkflowEnvironment, replaceServer: () => Promise<void>): () => void {
  const t: Tracked = { env, replaceServer, before: new Set(), awaiting: new Set(), held: false };
  watchResults(t);
  const sleep = env.sleep;
  env.sleep = (duration) => watch(t, sleep(duration));
  tracked.add(t);
  return () => void tracked.delete(t);
}

interface Run {
  workflowId: string;
  runId: string;
}

async function openRuns(env: TestWorkflowEnvironment): Promise<Run[]> {
  const { executions } = await env.connection.workflowService.listOpenWorkflowExecutions({ namespace: NAMESPACE, maximumPageSize: 1000 });
  return executions.flatMap((e) => (e.execution?.workflowId && e.execution.runId ? [{ workflowId: e.execution.workflowId, runId: e.execution.runId }] : []));
}

/** Notes the runs open as a test begins, to tell the file's own from the test's. */
export async function noteOpenRuns(): Promise<void> {
  terminating = Promise.resolve();
  terminationError = undefined;
  refused = false;
  for (const t of tracked) {
    t.before = new Set((await openRuns(t.env)).map((r) => r.runId));
    t.held = false;
  }
}

const { EventType } = temporal.api.enums.v1;
const WORKFLOW_TASK_OUT = new Set([EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED]);
const WORKFLOW_TASK_ENDED = new Set([EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED, EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT]);

/** Whether `run` has a task out, which holds the clock: a workflow task not ended, an activity, a child. */
async function hasTaskOut(env: TestWorkflowEnvironment, run: Run): Promise<boolean> {
  const handle = env.client.workflow.getHandle(run.workflowId, run.runId);
  const { raw } = await handle.describe();
  if ((raw.pendingActivities?.length ?? 0) > 0 || (raw.pendingChildren?.length ?? 0) > 0) return true;
  const events = (await handle.fetchHistory()).events ?? [];
  for (let i = events.length - 1; i >= 0; i--) {
    const type = events[i]!.eventType ?? EventType.EVENT_TYPE_UNSPECIFIED;
    if (WORKFLOW_TASK_OUT.has(type)) return true;
    if (WORKFLOW_TASK_ENDED.has(type)) return false;
  }
  return false;
}

/** Terminates the runs the current test started and left open; returns their ids. */
async function terminateTestRuns(reason: string): Promise<string[]> {
  const closed: string[] = [];
  for (const t of tracked) {
    for (const run of await openRuns(t.env)) {
      if (t.before.has(run.runId)) continue;
      try {
        if (await hasTaskOut(t.env, run)) t.held = true;
        await t.env.client.workflow.getHandle(run.workflowId, run.runId).terminate(reason);
        closed.push(run.workflowId);
      } catch (err) {
        // Closed meanwhile: nothing left to do.
        if ((err as Error).name !== 'WorkflowNotFoundError') throw err;
      }
    }
  }
  return closed;
}

/**
 * Terminates the current test's open runs at once, for a run that can never continue: the server
 * refused its task completion (workflow-task-failures.ts). The test then fails now with `reason`
 * instead of at its time limit. Called from a log callback; closeLeftoverRuns awaits the work.
 */
export function terminateTestRunsSoon(reason: string): void {
  refused = true;
  terminating = terminating.then(() => terminateTestRuns(reason)).then(
    () => undefined,
    (err: unknown) => void (terminationError ??= err),
  );
}

/** How long the calls a test left running, and then a probe of the clock, may take before the clock counts as held. */
const SETTLE_MS = 3_000;

/**
 * Whether the clock skips: a sleep of ten minutes of server time, which ends at once when no task
 * holds the clock and after ten real minutes when one does. It moves the clock on by ten minutes.
 */
async function clockSkips(env: TestWorkflowEnvironment): Promise<boolean> {
  let slept = false;
  // When the clock is held, the sleep is abandoned: the server it runs on is replaced.
  void env.connection.testService!.unlockTimeSkippingWithSleep({ duration: msToTs('10 minutes') }).then(
    () => void (slept = true),
    () => undefined,
  );
  return until('the clock to skip ten minutes', () => slept, { timeoutMs: SETTLE_MS, intervalMs: 20 }).then(
    () => true,
    () => false,
  );
}

/**
 * After a test: terminates the runs it left open. When one had a task out, or the server refused a
 * task completion, the clock stays held: the file gets a new server. When it left runs that were
 * only waiting, waits for the `result()` and `sleep()` calls it left running to end and checks that
 * the clock skips (a task of a run closed during the test can hold it too), else the same. Returns
 * the ids of the runs it terminated and whether the server was replaced.
 */
export async function closeLeftoverRuns(testName: string | undefined): Promise<{ closed: string[]; replaced: boolean }> {
  await terminating;
  if (terminationError) throw terminationError;
  const closed = await terminateTestRuns(`left open by the test "${testName ?? '?'}": an open run can hold the time-skipping clock for the rest of the file`);
  let replaced = false;
  for (const t of tracked) {
    if (!t.held && !refused) {
      if (closed.length === 0 && t.awaiting.size === 0) continue;
      const settled = await until('the result() and sleep() calls the test left running to end', () => t.awaiting.size === 0, { timeoutMs: SETTLE_MS, intervalMs: 20 }).then(
        () => true,
        () => false,
      );
      if (settled && (await clockSkips(t.env))) continue;
    }
    // The calls left running belong to the old server, which takes them along.
    await t.replaceServer();
    t.awaiting.clear();
    watchResults(t);
    replaced = true;
  }
  return { closed, replaced };
}
