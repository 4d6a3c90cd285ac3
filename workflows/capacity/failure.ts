import type { CapacityFailure } from './carried';
import { iso } from './rules';
import type { CapacityState } from './state';

/** The step name of a plan (workflow.ts); its success ends any failing episode. */
export const PLAN_STEP = 'a plan';

/** Backoff of a failing AWS step on the workflow's own timer (each attempt already had its activity retries). */
const RETRY_FIRST_MS = 10_000;
const RETRY_MAX_MS = 300_000;
/** The schema's defaults, for settings carried from before these existed. */
const DEFAULT_NOTIFY_AFTER_S = 120;
const DEFAULT_INCIDENT_AFTER_S = 900;

/** Records a failed AWS step on the carried state and sets its retry time (10 s doubling, at most 5 min). */
export function recordFailure(state: CapacityState, step: string, message: string): CapacityFailure {
  const st = state.carried;
  const now = state.now();
  const attempts = (st.failure?.attempts ?? 0) + 1;
  const retryAt = now + Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.min(attempts - 1, 10));
  st.failure = {
    since: st.failure?.since ?? now,
    lastAt: now,
    attempts,
    step,
    message: message.slice(0, 500),
    retryAt,
    notified: st.failure?.notified ?? false,
    ...(st.failure?.incident ? { incident: st.failure.incident } : {}),
  };
  state.decide({ action: 'aws-error', reason: `${step} failed (attempt ${attempts}): ${st.failure.message}; requests kept, retrying at ${iso(retryAt)}` });
  return st.failure;
}

/** How long an episode may last before a notification, and before an incident. */
export function failureThresholds(state: CapacityState): { notifyMs: number; incidentMs: number } {
  const s = state.carried.settings;
  return {
    notifyMs: (s?.errorNotifyAfterSeconds ?? DEFAULT_NOTIFY_AFTER_S) * 1000,
    incidentMs: (s?.errorIncidentAfterSeconds ?? DEFAULT_INCIDENT_AFTER_S) * 1000,
  };
}

/**
 * The failing episode is over when the step that failed, or a whole plan, goes through, or a step
 * goes through and nothing is left waiting. Another step succeeding while work still waits (an owed
 * withdrawal before the plan that keeps failing) does not end it, or the episode would restart and
 * never reach its notification and incident.
 */
export function recovered(state: CapacityState, step: string): void {
  const f = state.carried.failure;
  if (!f || (step !== f.step && step !== PLAN_STEP && hasWork(state))) return;
  state.carried.failure = undefined;
  state.decide({ action: 'recovered', reason: `AWS steps go through again after ${f.attempts} failed attempt(s) since ${iso(f.since)}` });
}

/** Requests or owed steps waiting: a failing episode is holding capacity back. */
export function hasWork(state: CapacityState): boolean {
  const st = state.carried;
  return st.outNow.units + st.outDeferred.units + st.inNow.units + st.inDeferred.units + (st.unmet?.units ?? 0) > 0 || (st.cleanups?.length ?? 0) > 0;
}
