import { ApplicationFailure, condition, patched, setHandler, workflowInfo } from '@temporalio/workflow';
import { FailureType } from '../../common/failures';
import type { SpotDrainInput } from '../../contracts/spot-drain/input';
import { OperatorControls } from '../lib/operator-controls';
import { finish, finishAborted, missed, reportFailedReruns } from './endings';
import { drainWithinBudget, releaseSlot } from './budget';
import { awaitReturn } from './come-back';
import { completeLifecycleActions, lifecycleHeartbeatLoop } from './lifecycle';
import { drainEventSignal, type SpotDrainResult, type SpotDrainWorkflow } from '../../contracts/spot-drain/messages';
import { MIN_ACTIVITY_BUDGET_MS } from './activity-options';
import { moveOff, type CarriedWait } from './move-off';
import { deregisterOnDeadline, moveWork, requestCapacity } from './move-work';
import { terminateThroughPool, waitForReplacement } from './replace-first';
import { recordHandledEvents } from './handled-events';
import { DrainState } from './state';
import { aborted, type DrainContext } from './steps';
import { resolve, setDraining } from './to-draining';
import { waitForTasks } from './wait-for-tasks';

/**
 * Spot interruption drain, one workflow per instance (`drain-<instance-id>`, task queue
 * `fleetops-critical`; contracts/spot-drain/start.ts). Started by the router with signal-with-start of
 * `drainEvent`; later events for the same instance join this run: a repeated event id is ignored, an
 * interruption warning after a rebalance recommendation pulls the deadline in to two minutes
 * (state.ts). Every step is budgeted against the deadline (activity-options.ts).
 *
 * The phases, in order: resolve and set DRAINING (to-draining.ts), move the work off (move-work.ts),
 * wait for the tasks to leave (wait-for-tasks.ts), complete the lifecycle action (lifecycle.ts); a
 * missed deadline asks for an incident (endings.ts). On the two-minute deadline, moving the work off
 * and the first wait are one activity (move-off.ts): a storm's thousands of drains each keep a short
 * history (steps.ts, LEAN_HISTORY_PATCH).
 */

/** How long a run started without its signal waits for one (signal-with-start delivers it at once). */
const FIRST_EVENT_WAIT_MS = 60_000;

export async function spotDrain(input: SpotDrainInput): Promise<SpotDrainResult> {
  const state = new DrainState(input.instanceId, input.dryRun === true);
  const controls = new OperatorControls({
    initialPhase: 'waiting-for-event',
    // The way from the event to DRAINING is one workflow task (local activities), so FleetopsPhase
    // goes from unset to moving-work. (A scale-in child is signalled its event right after its start:
    // unset for that moment too.)
    transientPhases: ['waiting-for-event', 'resolving', 'setting-draining'],
  });
  controls.install({
    status: () => state.status(controls.phase),
    // A drain cannot wait on a human: the instance dies at the deadline whether or not we are paused.
    pausable: false,
    rejectAbort: () => (state.outcome ? `drain already ended: ${state.outcome}` : undefined),
  });
  setHandler(drainEventSignal, (e) => void state.addEvent(e), {
    description: 'An interruption warning, rebalance recommendation or lifecycle action for this instance.',
  });
  const placement = input.placement ? { account: input.placement.account, region: input.placement.region } : undefined;
  const ctx: DrainContext = { state, controls, workflowId: workflowInfo().workflowId, ...(placement ? { placement } : {}) };

  if (!(await condition(() => state.events.length > 0, FIRST_EVENT_WAIT_MS))) {
    throw ApplicationFailure.nonRetryable(`no drainEvent arrived within ${FIRST_EVENT_WAIT_MS / 1000} s of the start`, FailureType.InvalidRequest);
  }
  let result: SpotDrainResult;
  try {
    result = await drainInstance(ctx);
  } finally {
    // However the drain ended (a failure or cancellation too): only a drain that asked its cluster's
    // budget has a slot to give back, so runs recorded before replay without this.
    await releaseSlot(ctx);
  }
  recordHandledEvents(state);
  return result;
}

/** The drain itself, from the first event to the result (every way it ends returns here). */
async function drainInstance(ctx: DrainContext): Promise<SpotDrainResult> {
  const { state } = ctx;

  const resolved = await resolve(ctx);
  if ('ended' in resolved) {
    // Nothing to drain, but a lifecycle action still holds the instance: complete it (CONTINUE) first.
    if (resolved.ended === 'not-in-cluster') {
      await completeLifecycleActions(ctx, 'the instance is in no managed cluster');
      return closeOut(ctx, finish(ctx, 'not-in-cluster'));
    }
    await completeLifecycleActions(ctx, 'the instance could not be resolved');
    return closeOut(ctx, await missed(ctx));
  }
  const t = resolved.target;
  const heartbeats = lifecycleHeartbeatLoop(ctx);
  // A cancelled drain leaves drainInstance before awaiting these: their cancellation must not be an
  // unhandled rejection (a failed workflow task, the run stuck), so the release in spotDrain runs.
  void heartbeats.catch(() => undefined);

  if (state.alreadyDrained()) {
    // A lifecycle action for an instance a drain (this one's predecessor, or the capacity workflow's
    // scale-in) already emptied: complete it at once.
    for (const name of ['set-draining', 'deregister-targets', 'move-standalone-tasks', 'wait-for-tasks'] as const) {
      state.notNeeded.add(name);
      state.skip(name, 'already DRAINING with no tasks');
    }
    state.tasksLeft = 0;
    state.drainFinished = true;
    await heartbeats;
    await completeLifecycleActions(ctx);
    return closeOut(ctx, finish(ctx, 'drained'));
  }

  if (state.replaceFirst()) {
    await requestCapacity(ctx, t, true);
    await waitForReplacement(ctx, t);
  }
  if (aborted(ctx)) return finishAborted(ctx);

  const budgeted = state.voluntary() ? await drainWithinBudget(ctx, t) : 'not-voluntary';
  if (budgeted === 'held' || budgeted === 'failed') return closeOut(ctx, await missed(ctx));
  if (aborted(ctx)) return finishAborted(ctx);
  if (budgeted !== 'draining' && !(await setDraining(ctx, t))) {
    // The lifecycle action is completed on this end too: left open it holds the instance in
    // Terminating:Wait for the hook's HeartbeatTimeout. Runs recorded before ended without it.
    const result = await missed(ctx);
    if (!patched('close-out-when-draining-fails')) return result;
    // A stopped or hibernated instance comes back, and the drain coordinator may have set it DRAINING
    // ahead of this drain: wait for it to run again and set it ACTIVE, as a drain that drained does.
    // Runs recorded before ended here.
    if (patched('return-when-draining-fails')) {
      await completeLifecycleActions(ctx);
      await awaitReturn(ctx, t);
    }
    return closeOut(ctx, result);
  }
  if (aborted(ctx)) return finishAborted(ctx);

  // On the two-minute deadline the work after DRAINING and the first wait are one activity.
  const lean = ctx.lean === true && state.onDeadline() && state.timeLeftMs() >= MIN_ACTIVITY_BUDGET_MS;
  let carried: CarriedWait | undefined;
  if (lean) carried = await moveOff(ctx, t);
  else await moveWork(ctx, t);
  state.movedWork = true;
  const escalation = deregisterOnDeadline(ctx);
  void escalation.catch(() => undefined);
  if (aborted(ctx)) return finishAborted(ctx);

  if (state.dryRun) {
    state.skip('wait-for-tasks', 'dry run: nothing was set DRAINING, so no task will leave');
  } else {
    await waitForTasks(ctx, t, carried);
    if (aborted(ctx)) return finishAborted(ctx);
  }

  state.drainFinished = true;
  await heartbeats;
  await escalation;
  const succeeded = state.dryRun || state.tasksLeft === 0;
  await completeLifecycleActions(ctx);
  if (succeeded && state.terminateAfterDrain()) await terminateThroughPool(ctx, t);
  const result = succeeded ? finish(ctx, 'drained') : await missed(ctx);
  await reportFailedReruns(ctx, result);
  await awaitReturn(ctx, t);
  return closeOut(ctx, result);
}

/** The last thing before returning: a lifecycle action that arrived while the drain ended is completed too. */
async function closeOut(ctx: DrainContext, result: SpotDrainResult): Promise<SpotDrainResult> {
  await completeLifecycleActions(ctx);
  return result;
}

// Clients type their handles with SpotDrainWorkflow (its contract's messages.ts): it must stay this function's signature.
spotDrain satisfies SpotDrainWorkflow;
