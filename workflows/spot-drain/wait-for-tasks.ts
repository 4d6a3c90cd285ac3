import { CancellationScope, condition } from '@temporalio/workflow';
import { MIN_ACTIVITY_BUDGET_MS, WAIT_SLICE_MS, waitStep } from './activity-options';
import type { DrainTarget } from './state';
import { failureMessage } from '../lib/failure-message';
import { aborted, isTimeout, type DrainContext } from './steps';
import type { CarriedWait } from './move-off';

/**
 * What ends the pause between two wait slices early: an abort, or an event that moved the deadline
 * (`version` is the deadline version the slice was cut to).
 */
function interrupted(ctx: DrainContext, version: number): boolean {
  return aborted(ctx) || ctx.state.deadlineVersion !== version;
}

/**
 * Waits until the instance runs no tasks, the deadline passes or an abort arrives, in slices of at
 * most WAIT_SLICE_MS so `tasksLeft` in status stays fresh and a moved deadline cuts the next slice.
 * `carried`: moveWorkOff (move-off.ts) ran the first slice; the wait goes on from there, if tasks are left.
 */
export async function waitForTasks(ctx: DrainContext, t: DrainTarget, carried?: CarriedWait): Promise<void> {
  const { state, controls } = ctx;
  const s = carried?.step ?? state.begin('wait-for-tasks');
  const empty = carried?.counted === true && state.tasksLeft === 0;
  if (!empty) controls.setPhase('waiting-for-tasks');
  // The carried slice answered before its stop time with tasks left: the rest of it is a pause, as below.
  const rest = carried?.counted ? carried.until - Date.now() : 0;
  if (!empty && rest >= MIN_ACTIVITY_BUDGET_MS && !aborted(ctx)) {
    const version = state.deadlineVersion;
    await condition(() => interrupted(ctx, version), rest);
  }
  while (!empty && !aborted(ctx)) {
    const left = state.timeLeftMs();
    if (left < MIN_ACTIVITY_BUDGET_MS) break;
    const version = state.deadlineVersion;
    const slice = Math.min(left, WAIT_SLICE_MS);
    const stopAt = Date.now() + slice;
    const scope = new CancellationScope();
    const waiting = scope.run(() =>
      waitStep(left, slice).waitForInstanceTasks({ cluster: t.cluster, containerInstanceArn: t.containerInstanceArn, stopAtEpochMs: stopAt }),
    );
    // Only an abort cancels a running wait. An escalation lets it run out its slice (at most
    // WAIT_SLICE_MS) and the next one is cut to the new deadline: cancelling an activity that may be
    // completing at the same moment is a race the history should not carry.
    // The abort watcher lives for this slice only: left pending, each slice would add a condition
    // that is checked on every activation until the drain ends (a drain waits up to 15 minutes).
    const abortWatch = new CancellationScope();
    const abortArrived = abortWatch.run(() => condition(() => aborted(ctx))).then(
      () => undefined,
      () => undefined, // cancelled when the slice ends
    );
    let result: Awaited<typeof waiting> | undefined;
    try {
      result = await Promise.race([waiting, abortArrived]);
    } catch (err) {
      if (isTimeout(err)) break; // the deadline arrived during the wait
      state.end(s, 'failed', failureMessage(err));
      state.failure = `waiting for tasks failed: ${failureMessage(err)}`;
      return;
    } finally {
      abortWatch.cancel();
    }
    if (result === undefined) {
      scope.cancel();
      await waiting.catch(() => undefined);
      break;
    }
    state.tasksLeft = result.tasksLeft;
    if (state.tasksLeft === 0) break;
    // A wait that returned before its stop time (e.g. a poller shutting down) must not spin.
    const pause = stopAt - Date.now();
    if (pause >= MIN_ACTIVITY_BUDGET_MS) await condition(() => interrupted(ctx, version), pause);
  }
  const remaining = state.tasksLeft;
  if (aborted(ctx)) state.end(s, 'skipped', `aborted with ${remaining} task(s) left`);
  else if (remaining === 0) state.end(s, 'done', 'no tasks left');
  else state.end(s, 'failed', `${remaining} task(s) left at the deadline`);
}
