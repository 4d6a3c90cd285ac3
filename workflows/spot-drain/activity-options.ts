import { proxyActivities, proxyLocalActivities, type ActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE_FAILURE_TYPES } from '../../common/failures';
import type { DrainActivities } from '../../activities/drain';

/**
 * How the drain runs its activities. Every step is budgeted against the deadline: each activity's
 * schedule-to-close is the time left, so retries (short backoff) stop when the instance is about to
 * die, and a worker crash costs only the heartbeat timeout. What must happen after the deadline
 * (completing the lifecycle action, asking for an incident) has a fixed budget of its own.
 */

/** An activity is not scheduled with less time than this left: it could not finish. */
export const MIN_ACTIVITY_BUDGET_MS = 1_000;
/** One wait activity covers at most this much, so status shows fresh `tasksLeft` during long drains. */
export const WAIT_SLICE_MS = 30_000;
/** After the deadline: completing the lifecycle action and asking for an incident still must happen. */
export const AFTER_DEADLINE_BUDGET_MS = 60_000;

const RETRY: ActivityOptions['retry'] = {
  initialInterval: '250ms',
  backoffCoefficient: 2,
  maximumInterval: '2s',
  nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES,
};

/** Short AWS steps: one attempt may take 15 s; all attempts together fit the time left. */
export function shortSteps(budgetMs: number): DrainActivities {
  return proxyActivities<DrainActivities>({
    scheduleToCloseTimeout: budgetMs,
    startToCloseTimeout: Math.min(15_000, budgetMs),
    retry: RETRY,
  });
}

/**
 * The way to DRAINING (resolve, then set DRAINING) runs as local activities, inside the drain's first
 * workflow task. In a storm the workflow task round trips, not AWS, dominated the time to DRAINING:
 * as regular activities each step cost a trip through a task queue that hundreds of drains share.
 * Both calls are batched across drains and short; both are safe to repeat, which is what happens if
 * the worker is lost in the middle (after the workflow task timeout, on another worker). The later
 * steps stay regular activities: they can be slow in a storm, and a local activity that outlives
 * the workflow task timeout makes the worker heartbeat the task, adding the very round trips this saves.
 * The price: a status query waits for the workflow task, so while a resolve is slow (AWS throttling)
 * it is answered at the task's next heartbeat, up to 8 s later.
 */
export function fastSteps(budgetMs: number): DrainActivities {
  return proxyLocalActivities<DrainActivities>({
    scheduleToCloseTimeout: budgetMs,
    startToCloseTimeout: Math.min(15_000, budgetMs),
    retry: RETRY,
  });
}

/** The waiting activity heartbeats; a dead worker is noticed after 10 s and the wait resumes elsewhere. */
export function waitStep(budgetMs: number, sliceMs: number): DrainActivities {
  return proxyActivities<DrainActivities>({
    scheduleToCloseTimeout: budgetMs,
    startToCloseTimeout: Math.min(sliceMs + 15_000, budgetMs),
    heartbeatTimeout: 10_000,
    retry: RETRY,
  });
}

/**
 * moveWorkOff (move-off.ts): the steps after DRAINING and the first wait, as one heartbeating activity
 * that may take the time left; each step inside it is retried on its own until the deadline.
 */
export function moveOffStep(budgetMs: number): DrainActivities {
  return proxyActivities<DrainActivities>({
    scheduleToCloseTimeout: budgetMs,
    startToCloseTimeout: budgetMs,
    heartbeatTimeout: 10_000,
    retry: RETRY,
  });
}
