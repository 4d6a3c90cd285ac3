import {
  WithStartWorkflowOperation,
  WorkflowUpdateFailedError,
  type WorkflowHandle,
  type WorkflowOptions,
} from '@temporalio/client';
import type { QueryDefinition, SignalDefinition, UpdateDefinition, Workflow } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkerOptions } from '@temporalio/worker';
import { statusQuery, type WorkflowStatus } from '../../contracts/controls';
import { until, untilValue } from '../../testkit/poll';
import { bundledWorkflows, connectDevServer } from '../harness/temporal';
import { createWorker } from '../harness/workers';

/**
 * Putting a message into a run's first workflow task, deterministically: the message reaches the
 * server before any worker polls the test's task queue, so the first task a worker picks up carries
 * it, and the SDK runs its handler the moment the workflow registers it (before the workflow body
 * has run to its first await).
 *
 *  - an update: update-with-start (`startWithUpdate`): the run and the update are created in one
 *    request, so once the run exists the update is waiting in it;
 *  - a signal: signal-with-start (`startWithSignal`), or `handle.signal` before a worker runs (the
 *    signal is in history when the call returns);
 *  - a query: `queryBeforeWorker` right after the start. The dev server holds a query to a run whose
 *    first workflow task has not completed and answers it once that task has run (no client retry
 *    is involved: a connection without the retry interceptor saw the query pending for seconds with
 *    no worker, then answered when one started). Nothing shows when the server has the query, so
 *    the tests assert that it is answered and with what, not which task computed the answer.
 *
 * A workflow task that fails (the bug these tests are for: a handler reading state the workflow has
 * not built yet) leaves an update unanswered for good; the update's answer then fails at once with
 * the task's error instead of waiting out the test's time limit.
 *
 * All of it on the dev server (a real Temporal server, as in production). The time-skipping test
 * server in .tools answers update-with-start too, but nothing here needs time skipping.
 *
 * A run "that continues a previous one" is started with the `carried` input continue-as-new hands
 * over, built by the workflow's own state code, so its first task is the continued run's first task.
 */

const { EventType } = temporal.api.enums.v1;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

let env: TestWorkflowEnvironment | undefined;

/** The dev server for this file's tests. */
export function useDevServer(): () => TestWorkflowEnvironment {
  beforeAll(async () => {
    env = await connectDevServer();
  });
  afterAll(async () => {
    await env?.teardown();
  });
  return () => {
    if (!env) throw new Error('the dev server is not connected (useDevServer in the file)');
    return env;
  };
}

/** Start options as contracts/<workflow>/start.ts build them (workflow type beside the options), on the test's task queue. */
export type StartOptions = Omit<WorkflowOptions, 'requestEagerStart'> & { workflowType: string; args: unknown[] };

/** What an update answered: the handler's result, or the validator's (or handler's) refusal. */
export type Answer<T> = { accepted: T } | { refused: string };

/** The message of the run's first failed workflow task, looked for until `done()`; undefined once done. */
async function taskFailure(handle: WorkflowHandle, done: () => boolean): Promise<string | undefined> {
  const found = await until(
    `a failed workflow task of ${handle.workflowId}, or its update's answer`,
    async () => {
      if (done()) return { message: undefined };
      const events = (await handle.fetchHistory()).events ?? [];
      const failed = events.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED);
      return failed ? { message: failed.workflowTaskFailedEventAttributes?.failure?.message ?? 'no message' } : undefined;
    },
    { timeoutMs: 10 * 60_000, intervalMs: 200 },
  );
  return found.message;
}

function answerOf<T>(handle: WorkflowHandle, p: Promise<T>): Promise<Answer<T>> {
  let settled = false;
  const answered = p
    .then(
      (accepted): Answer<T> => ({ accepted }),
      (err: unknown): Answer<T> => {
        if (err instanceof WorkflowUpdateFailedError) return { refused: err.cause?.message ?? err.message };
        throw err;
      },
    )
    .finally(() => void (settled = true));
  const failed = taskFailure(handle, () => settled).then((message) => {
    if (message === undefined) return answered;
    throw new Error(`the workflow task that carries the update failed, so it will never be answered: ${message}`);
  });
  const answer = Promise.race([answered, failed]);
  // Awaited by the test once a worker runs; a test that fails before that must not leave an unhandled rejection.
  for (const q of [answered, failed, answer]) q.catch(() => undefined);
  return answer;
}

/** The accepted answer's value; fails with the refusal otherwise. */
export async function accepted<T>(answer: Promise<Answer<T>>): Promise<T> {
  const a = await answer;
  if ('refused' in a) throw new Error(`the update was refused: ${a.refused}`);
  return a.accepted;
}

/** The refusal's message; fails if the update was accepted. */
export async function refused<T>(answer: Promise<Answer<T>>): Promise<string> {
  const a = await answer;
  if ('accepted' in a) throw new Error(`the update was accepted: ${JSON.stringify(a.accepted).slice(0, 500)}`);
  return a.refused;
}

async function runExists(handle: WorkflowHandle): Promise<void> {
  await until(`${handle.workflowId} to exist`, async () => (await handle.describe()).runId);
}

/**
 * Update-with-start of `update` with no worker running: returns once the run exists (the update with
 * it); `answer` settles when a worker has run the first task.
 */
export async function startWithUpdate<Ret, Args extends unknown[]>(
  env: TestWorkflowEnvironment,
  start: StartOptions,
  update: UpdateDefinition<Ret, Args>,
  args: Args,
): Promise<{ handle: WorkflowHandle; answer: Promise<Answer<Ret>> }> {
  const { workflowType, ...options } = start;
  const startWorkflowOperation = new WithStartWorkflowOperation(workflowType, { ...options, workflowIdConflictPolicy: 'FAIL' });
  const handle = env.client.workflow.getHandle(start.workflowId);
  const answer = answerOf(handle, env.client.workflow.executeUpdateWithStart(update, { args, startWorkflowOperation }));
  await runExists(handle);
  return { handle, answer };
}

/** Signal-with-start with no worker running: the signal is in the run's history before its first task. */
export async function startWithSignal<Args extends unknown[]>(
  env: TestWorkflowEnvironment,
  start: StartOptions,
  signal: SignalDefinition<Args>,
  args: Args,
): Promise<WorkflowHandle> {
  const { workflowType, ...options } = start;
  // The client's option type picks its shape from the argument tuple, which a generic cannot resolve.
  await env.client.workflow.signalWithStart<Workflow, unknown[]>(workflowType, { ...options, signal: signal as SignalDefinition<unknown[]>, signalArgs: args });
  return env.client.workflow.getHandle(start.workflowId);
}

/** A plain start with no worker running. */
export async function startOnly(env: TestWorkflowEnvironment, start: StartOptions): Promise<WorkflowHandle> {
  const { workflowType, ...options } = start;
  return env.client.workflow.start(workflowType, options);
}

/** A query sent while no worker runs: the dev server holds it until the first task has run. */
export function queryBeforeWorker<T>(handle: WorkflowHandle, query: QueryDefinition<T, []>): Promise<T> {
  const p = handle.query(query);
  p.catch(() => undefined);
  return p;
}

/** Runs `fn` while a worker of the test (stopped after it by the harness) serves `taskQueue`. */
export async function withWorker<T>(
  env: TestWorkflowEnvironment,
  taskQueue: string,
  activities: NonNullable<WorkerOptions['activities']>,
  fn: () => Promise<T>,
): Promise<T> {
  const worker = await createWorker({ connection: env.nativeConnection, taskQueue, ...bundledWorkflows(), activities });
  return worker.runUntil(fn);
}

/** The run's events before its second workflow task started: what the first task saw and did. */
async function firstTaskEvents(handle: WorkflowHandle): Promise<HistoryEvent[]> {
  const events = (await handle.fetchHistory()).events ?? [];
  const started = events.map((e, i) => (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED ? i : -1)).filter((i) => i >= 0);
  return events.slice(0, started[1] ?? events.length);
}

const typeName = (e: HistoryEvent): string => EventType[e.eventType ?? 0] ?? String(e.eventType);

/** The signal was in history before the run's first workflow task started. */
export async function expectSignalInFirstTask(handle: WorkflowHandle, signalName: string): Promise<void> {
  const events = (await handle.fetchHistory()).events ?? [];
  const firstStarted = events.findIndex((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);
  const signalled = events.findIndex((e) => e.workflowExecutionSignaledEventAttributes?.signalName === signalName);
  expect({ signalled: signalled >= 0, beforeFirstTask: signalled >= 0 && signalled < firstStarted }).toEqual({ signalled: true, beforeFirstTask: true });
}

/** The update was accepted by the run's first workflow task, which did not fail. */
export async function expectUpdateInFirstTask(handle: WorkflowHandle, updateName: string): Promise<void> {
  const events = await firstTaskEvents(handle);
  const types = events.map(typeName);
  const acceptedIn = events.findIndex((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === updateName);
  expect(types).not.toContain('EVENT_TYPE_WORKFLOW_TASK_FAILED');
  expect({ update: updateName, acceptedInFirstTask: acceptedIn >= 0 }).toEqual({ update: updateName, acceptedInFirstTask: true });
}

/** Polls `status` until `done` holds for it. */
export async function statusUntil<S extends WorkflowStatus>(handle: WorkflowHandle, what: string, done: (s: S) => boolean, timeoutMs = 30_000): Promise<S> {
  return untilValue(what, async () => (await handle.query(statusQuery)) as S, done, { timeoutMs });
}

/** A short unique suffix for ids. */
let seq = 0;
export function unique(prefix: string): string {
  seq += 1;
  return `${prefix}-${Date.now().toString(36)}-${process.pid.toString(36)}-${seq}`;
}
