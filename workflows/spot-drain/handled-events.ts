import { patched, upsertMemo } from '@temporalio/workflow';
import { DRAIN_HANDLED_EVENTS_MEMO, DRAIN_INSTANCE_ENDED_MEMO, MAX_HANDLED_EVENT_IDS } from '../../contracts/spot-drain/messages';
import type { DrainState } from './state';

/**
 * The last thing a drain run does: it lists the ids of the events it handled in its memo. The
 * instance may be interrupted again later under the same id (a spot stop or hibernate resumes, a user
 * stops and starts it, a warm-pool instance is stopped into the pool): the router then reads this list
 * off the ended run, answers `duplicate` for an event on it, and starts a new run for any other
 * (router/dispatch.ts). Runs recorded before it keep their commands (patched).
 */
export function recordHandledEvents(state: DrainState): void {
  if (!patched('drain-handled-events-memo')) return;
  upsertMemo({
    [DRAIN_HANDLED_EVENTS_MEMO]: state.events.map((e) => e.eventId).slice(-MAX_HANDLED_EVENT_IDS),
    ...(instanceEnded(state) ? { [DRAIN_INSTANCE_ENDED_MEMO]: true } : {}),
  });
}

/** Whether the run's instance is terminating (DRAIN_INSTANCE_ENDED_MEMO): it will not come back under its id. */
export function instanceEnded(state: DrainState): boolean {
  const stopsOnly = (a: string | undefined) => a === 'stop' || a === 'hibernate';
  const terminating = state.events.some(
    (e) => e.lifecycle !== undefined || ((e.kind === 'interruption-warning' || e.kind === 'instance-stopping' || e.kind === 'instance-gone') && !stopsOnly(e.instanceAction)),
  );
  return terminating || state.steps.some((s) => s.name === 'terminate-instance' && s.status === 'done');
}
