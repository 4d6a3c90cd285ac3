import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { NON_RETRYABLE_FAILURE_TYPES, type FailureTypeName } from '../../common/failures';
import type {
  CapacityReplacementInput,
  CapacityReplacementResult,
  DeregisterTargetsInput,
  DeregisterTargetsResult,
  InstancePool,
  MoveStandaloneTasksInput,
  MoveStandaloneTasksResult,
  MoveWorkOffInput,
  MoveWorkOffResult,
  PartOutcome,
  WaitForTasksInput,
  WaitForTasksResult,
} from './types';

/**
 * The work after DRAINING of a drain on the two-minute deadline, as one activity: targets out, standalone
 * tasks moved, a replacement asked for (after finding the instance's pool), then the wait for its
 * tasks to leave, until a stop time. As four or five activities each cost the drain three history
 * events and a workflow task of its own, and in a storm those were most of what a drain cost Temporal
 * and the worker (docs/benchmarks.md).
 *
 * Each part keeps the guarantees it had as an activity of its own: it is retried with the same short
 * backoff until the deadline, a failure after that is reported for that part alone (the others go
 * on), and every part is safe to repeat, which is what happens if the worker is lost (the activity
 * heartbeats; after the heartbeat timeout it runs again elsewhere): DeregisterTargets and StopTask
 * again are no-ops, RunTask carries its idempotency token, and the capacity workflow counts a request
 * once per drain. An operator's abort cancels the activity: the moving parts finish, the wait ends,
 * and the result says what was done.
 */

/** The activities moveWorkOff is made of: the drain's own (in workflow tests, their mocks). */
export interface MoveOffParts {
  deregisterInstanceTargets(input: DeregisterTargetsInput): Promise<DeregisterTargetsResult>;
  moveStandaloneTasks(input: MoveStandaloneTasksInput): Promise<MoveStandaloneTasksResult>;
  findInstancePool(input: { cluster: string; instanceId: string; notBefore?: string }): Promise<InstancePool>;
  requestReplacementCapacity(input: CapacityReplacementInput): Promise<CapacityReplacementResult>;
  waitForInstanceTasks(input: WaitForTasksInput): Promise<WaitForTasksResult>;
}

/** The drain's retry policy for its short steps (workflows/spot-drain/activity-options.ts), per part. */
const FIRST_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 2_000;
/** One attempt of a part, as a short step's start-to-close. */
const ATTEMPT_TIMEOUT_MS = 15_000;
/** The pool lookup must not eat the time a replacement needs. */
const POOL_LOOKUP_BUDGET_MS = 10_000;
/** The activity heartbeats this often while it moves work (the wait heartbeats on its own too). */
const HEARTBEAT_MS = 3_000;
/** Moving may have used up the wait's time: the wait still gets this long to read the task count once. */
const MIN_WAIT_MS = 3_000;

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

function retryable(err: unknown): boolean {
  if (err instanceof CancelledFailure) return false;
  if (err instanceof ApplicationFailure) return !err.nonRetryable && !NON_RETRYABLE_FAILURE_TYPES.includes(err.type as FailureTypeName);
  return true;
}

function withTimeout<T>(run: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${Math.round(ms / 1000)} s`)), Math.max(ms, 0));
  });
  return Promise.race([run, timeout]).finally(() => clearTimeout(timer));
}

/** One part, retried with short backoff until `untilMs` or a failure that cannot be retried. */
async function retried<T>(run: () => Promise<T>, untilMs: number): Promise<PartOutcome<T>> {
  for (let backoff = FIRST_BACKOFF_MS; ; backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)) {
    try {
      return { ok: true, value: await withTimeout(run(), Math.min(ATTEMPT_TIMEOUT_MS, untilMs - Date.now())) };
    } catch (err) {
      if (!retryable(err) || Date.now() + backoff >= untilMs) return { ok: false, error: message(err) };
      await new Promise((r) => setTimeout(r, backoff));
    }
  }
}

/** The pool, and the request for a replacement unless that pool replaces an interrupted instance itself. */
async function replacement(parts: MoveOffParts, input: MoveWorkOffInput, c: NonNullable<MoveWorkOffInput['capacity']>): Promise<NonNullable<MoveWorkOffResult['capacity']>> {
  const { cluster, instanceId, dryRun } = input;
  const lookup = await retried(
    () => parts.findInstancePool({ cluster, instanceId, ...(c.notBefore ? { notBefore: c.notBefore } : {}) }),
    Math.min(input.deadlineEpochMs, Date.now() + POOL_LOOKUP_BUDGET_MS),
  );
  // Unknown (the lookup failed in its budget): asked as for any pool.
  const pool: InstancePool = lookup.ok ? lookup.value : { found: false };
  // A maintain Spot Fleet or an ASG replaces an interrupted instance by itself: one more would stay as an extra instance.
  if (pool.found && pool.replacesOwnInstances) return { pool };
  const request = await retried(
    () => parts.requestReplacementCapacity({ cluster, instanceId, units: c.units, reason: c.reason, source: c.source, dryRun }),
    input.deadlineEpochMs,
  );
  return { pool, request };
}

async function waitForTasks(parts: MoveOffParts, input: MoveWorkOffInput, until: number): Promise<PartOutcome<WaitForTasksResult>> {
  const stopAtEpochMs = Math.min(Math.max(until, Date.now() + MIN_WAIT_MS), input.deadlineEpochMs);
  try {
    return { ok: true, value: await parts.waitForInstanceTasks({ cluster: input.cluster, containerInstanceArn: input.containerInstanceArn, stopAtEpochMs }) };
  } catch (err) {
    // Cancelled (an abort), or no count in time: the workflow goes on from what the moving parts did.
    return { ok: false, error: message(err) };
  }
}

/** moveWorkOff, made of `parts` (activities/drain/index.ts gives it the drain's own activities). */
export function moveWorkOffFrom(parts: MoveOffParts): (input: MoveWorkOffInput) => Promise<MoveWorkOffResult> {
  return async function moveWorkOff(input) {
    const ctx = Context.current();
    const beat = setInterval(() => ctx.heartbeat(), HEARTBEAT_MS);
    try {
      const { cluster, containerInstanceArn, instanceId, dryRun, deadlineEpochMs } = input;
      const [deregister, standalone, capacity] = await Promise.all([
        input.deregister ? retried(() => parts.deregisterInstanceTargets({ instanceId, cluster, dryRun }), deadlineEpochMs) : undefined,
        retried(() => parts.moveStandaloneTasks({ cluster, containerInstanceArn, instanceId, ...input.standalone, dryRun }), deadlineEpochMs),
        input.capacity ? replacement(parts, input, input.capacity) : undefined,
      ]);
      const tasks = input.waitUntilEpochMs === undefined ? undefined : await waitForTasks(parts, input, input.waitUntilEpochMs);
      return { ...(deregister ? { deregister } : {}), standalone, ...(capacity ? { capacity } : {}), ...(tasks ? { tasks } : {}) };
    } finally {
      clearInterval(beat);
    }
  };
}
