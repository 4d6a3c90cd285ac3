import { CancellationScope, condition, isCancellation, workflowInfo } from '@temporalio/workflow';
import type { MoveWorkOffInput, MoveWorkOffResult, PartOutcome } from '../../activities/drain/types';
import type { DrainStep } from '../../contracts/spot-drain/messages';
import { failureMessage } from '../lib/failure-message';
import { moveOffStep, WAIT_SLICE_MS } from './activity-options';
import { describeDeregistered, describeMoved } from './move-work';
import type { DrainTarget } from './state';
import { aborted, type DrainContext } from './steps';

/**
 * The way from DRAINING to an empty instance on the two-minute deadline, in one activity
 * (activities/drain/move-off.ts, moveWorkOff): targets out, standalone tasks moved, a replacement
 * asked for, and the first wait slice. The same steps as move-work.ts and the first slice of
 * wait-for-tasks.ts, which ran them as four or five activities: each cost three history events and a
 * workflow task, and in a storm of thousands of drains those were what a drain cost. Each step is still
 * its own entry in the status, with its own outcome; they end together, when the activity answers.
 * An abort cancels the activity: what it did is still recorded, and the drain ends aborted.
 */

/** The wait step moveWorkOff began, for wait-for-tasks.ts to go on with: its slice ran until `until`; `counted`: it read the task count. */
export interface CarriedWait {
  step: DrainStep;
  until: number;
  counted: boolean;
}

/** Runs moveWorkOff; its result, or why it gave no result (it failed as a whole, or was cancelled before it answered). */
async function run(ctx: DrainContext, input: MoveWorkOffInput, budgetMs: number): Promise<MoveWorkOffResult | string> {
  const scope = new CancellationScope();
  const running = scope.run(() => moveOffStep(budgetMs).moveWorkOff(input));
  const watch = new CancellationScope();
  const abortArrived = watch.run(() => condition(() => aborted(ctx))).then(
    () => undefined,
    () => undefined, // cancelled when the activity answers
  );
  try {
    const first = await Promise.race([running, abortArrived]);
    if (first !== undefined) return first;
    scope.cancel();
    // The activity answers what it did, its wait cut short (WAIT_CANCELLATION_COMPLETED, the default).
    return await running;
  } catch (err) {
    if (isCancellation(err) && !aborted(ctx)) throw err;
    return aborted(ctx) ? 'aborted' : failureMessage(err);
  } finally {
    watch.cancel();
  }
}

function end<T>(ctx: DrainContext, s: DrainStep, outcome: PartOutcome<T> | undefined, describe: (v: T) => string): T | undefined {
  if (outcome?.ok) {
    ctx.state.end(s, 'done', describe(outcome.value));
    return outcome.value;
  }
  ctx.state.end(s, 'failed', outcome?.error ?? 'no answer');
  return undefined;
}

export async function moveOff(ctx: DrainContext, t: DrainTarget): Promise<CarriedWait | undefined> {
  const { state, controls, workflowId } = ctx;
  const { instanceId, dryRun, drain } = state;
  controls.setPhase('moving-work');
  // On the deadline the targets go out ahead of ECS, now (move-work.ts says why).
  state.deregistering = true;
  state.notNeeded.delete('deregister-targets');
  const targets = state.begin('deregister-targets');
  const moved = state.begin('move-standalone-tasks');
  const noNeed = state.noReplacement();
  if (noNeed) state.skip('request-capacity', noNeed);
  const capacity = noNeed ? undefined : state.begin('request-capacity');
  const wait = dryRun ? undefined : state.begin('wait-for-tasks');
  const left = state.timeLeftMs();
  const until = Date.now() + Math.min(left, WAIT_SLICE_MS);
  const notBefore = state.events[0]?.eventTime;
  const r = await run(
    ctx,
    {
      cluster: t.cluster,
      containerInstanceArn: t.containerInstanceArn,
      instanceId,
      deregister: true,
      standalone: { rerun: drain.rerunStandaloneTasks, reason: `fleetops: ${state.mode()} for ${instanceId}`, idempotencyKey: `${workflowId}/${workflowInfo().runId}` },
      ...(noNeed ? {} : { capacity: { units: t.capacityUnits, reason: `${state.mode()} for ${instanceId}`, source: workflowId, ...(notBefore ? { notBefore } : {}) } }),
      ...(wait ? { waitUntilEpochMs: until } : {}),
      deadlineEpochMs: Date.now() + left,
      dryRun,
    },
    left,
  );
  if (typeof r === 'string') {
    for (const s of [targets, moved, capacity]) if (s?.status === 'running') state.end(s, aborted(ctx) ? 'skipped' : 'failed', r);
  } else {
    state.record(end(ctx, targets, r.deregister, describeDeregistered));
    const v = end(ctx, moved, r.standalone, describeMoved);
    state.record(v);
    if (v) state.rerunFailed.push(...v.rerunFailed);
    if (capacity) {
      state.pool = r.capacity?.pool ?? { found: false };
      const request = r.capacity?.request;
      const asked = request ? end(ctx, capacity, request, (a) => `${t.capacityUnits} unit(s) asked of ${a.workflowId}`) : undefined;
      if (!request) state.end(capacity, 'skipped', state.noReplacement() ?? 'the pool replaces the instance itself');
      if (asked) {
        state.capacityRequested = true;
        state.capacityRequestedAt = Date.now();
        state.record(asked);
      }
    }
    if (r.tasks?.ok) state.tasksLeft = r.tasks.value.tasksLeft;
  }
  if (!wait) return undefined;
  if (aborted(ctx)) {
    state.end(wait, 'skipped', `aborted with ${state.tasksLeft} task(s) left`);
    return undefined;
  }
  return { step: wait, until, counted: typeof r !== 'string' && r.tasks?.ok === true };
}
