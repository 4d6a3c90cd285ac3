import { allHandlersFinished, condition, continueAsNew, isCancellation, log, patched, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import { BootWatch } from './booting';
import { runCleanups } from './cleanups';
import { PLAN_STEP, recovered } from './failure';
import { OperatorControls } from '../lib/operator-controls';
import { capacityRequestSignal, readinessFloorSignal, type CapacityStatus, type CapacityWorkflow } from '../../contracts/capacity/messages';
import { FLOOR_PATCH, floorCheckDue, floorWakeAt, holdFloor, receiveFloor } from './floor';
import { runPlan } from './plan';
import { returnToSpot } from './return-to-spot';
import { refresh, type CapacityRun } from './run';
import type { CapacityWorkflowInput } from './carried';
import { CapacityState, iso } from './state';
import { onStepFailure } from './trouble';

/**
 * `capacity-<cluster>`: the one long-running owner of a cluster's capacity.
 *
 * Requests (alarm routes, drains wanting a replacement, operators) arrive as `capacityRequest`
 * signals and are summed (state.ts), so requests that arrive together become one plan (plan.ts).
 * Scale-out walks the pool ladder (scale-out.ts); scale-in drains its victims through child
 * `spotDrain` workflows before shrinking their pools (scale-in.ts); a durable timer moves on-demand
 * capacity back to spot one step at a time (return-to-spot.ts). History stays bounded by
 * continue-as-new between plans; everything the next run needs is carried.
 *
 * It never fails on an AWS error: every step runs through `attempt`, which records a failure on
 * status and backs off on a durable timer (trouble.ts) while the requests stay pending.
 */

/** Requests arriving within this window of the first one join its plan. */
const COALESCE_MS = 1_000;
/** Continue-as-new between plans once history passes this many events (or the server suggests it). */
// Small on purpose: a continue-as-new that races new signals is retried by replaying the run, so a short run keeps that cheap.
const CONTINUE_AS_NEW_AFTER_EVENTS = 1_000;

export async function capacity(input: CapacityWorkflowInput): Promise<CapacityStatus> {
  const { cluster } = input;
  // Controls and state exist before any handler is registered: a pause, resume, abort or status
  // buffered in the first workflow task runs inside `install` and reads both.
  const controls = new OperatorControls({ initialPhase: 'idle' });
  const state = new CapacityState(cluster, input.dryRun === true, input.carried, {
    onDecision: (d) => log.info('capacity decision', { cluster, ...d }),
  });
  const st = state.carried;
  controls.install({ status: () => state.status(controls.phase) });
  const run: CapacityRun = { cluster, dryRun: state.dryRun, state, controls, boot: new BootWatch(state, cluster), ...(input.placement ? { placement: input.placement } : {}) };

  setHandler(capacityRequestSignal, (req) => void state.receive(req), {
    description: 'Ask for units of capacity out or in; requests that arrive together coalesce into one plan.',
  });
  setHandler(readinessFloorSignal, (msg) => receiveFloor(state, msg), {
    description: "Hold or release a readiness window's capacity floor; the highest floor holding wins.",
  });

  const finishAborted = (): CapacityStatus => {
    const req = controls.abortRequest;
    controls.setPhase('aborted');
    const pools = st.pools.map((p) => `${p.name} ${p.actualUnits}/${p.targetUnits}`).join(', ');
    state.summary = `aborted${req?.by ? ` by ${req.by}` : ''}: ${req?.reason ?? ''}. No capacity request in flight; pools (actual/target) ${pools || 'unknown'}; scale-in drains already started finish on their own.`;
    return state.status(controls.phase);
  };

  /** Runs one step; an AWS failure is recorded and backed off instead of failing the workflow. Returns true on an abort. */
  const attempt = async (step: string, fn: () => Promise<boolean>): Promise<boolean> => {
    try {
      const aborted = await fn();
      recovered(state, step);
      return aborted;
    } catch (err) {
      if (isCancellation(err)) throw err;
      await onStepFailure(run, step, err);
      return false;
    }
  };

  if (!st.settings) await attempt('describing the pools', async () => (await refresh(run), false));
  for (;;) {
    state.scheduleFirstReturnToSpot();
    // Instances a continued run carried over, or whose wait failed a while ago, are watched (again).
    run.boot.start();
    if (controls.abortRequest) return finishAborted();
    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength >= CONTINUE_AS_NEW_AFTER_EVENTS) {
      await condition(allHandlersFinished);
      st.continuedRuns += 1;
      await continueAsNew<typeof capacity>({ cluster, ...(input.placement ? { placement: input.placement } : {}), ...(input.dryRun !== undefined ? { dryRun: input.dryRun } : {}), carried: st });
    }
    const waitingCooldown = state.waitingForCooldown();
    if (state.backingOff()) {
      // Phase and summary stay as the failure set them (trouble.ts).
    } else {
      controls.setPhase(waitingCooldown ? 'cooldown' : 'idle');
      state.summary = waitingCooldown
        ? `waiting for the cooldown until ${iso(state.cooldownUntil())} before ${st.outDeferred.units} out / ${st.inDeferred.units} in units`
        : `idle: ${st.pools.map((p) => `${p.name} ${p.actualUnits}`).join(', ')} units`;
    }
    const wake = Math.min(state.nextWakeAt(), run.boot.wakeAt(), floorWakeAt(state));
    const wakeIn = wake === Infinity ? undefined : Math.max(1, wake - Date.now());
    // Everything that ends the wait, listed once. A new request wakes the loop even when it must wait
    // (cooldown), so phase and summary say so.
    const signalsAtWait = st.signalsReceived;
    const bootSettledAtWait = run.boot.settled;
    const interrupted = () =>
      state.runnable() ||
      state.cleanupsDue() ||
      state.returnToSpotDue() ||
      floorCheckDue(state) ||
      controls.abortRequest !== undefined ||
      st.signalsReceived !== signalsAtWait ||
      run.boot.settled !== bootSettledAtWait;
    if (wakeIn === undefined) await condition(interrupted);
    else await condition(interrupted, wakeIn);

    if (await controls.checkpoint()) return finishAborted();
    if (run.boot.settled !== bootSettledAtWait && st.failure === undefined) {
      // New instances became ACTIVE (or gave up): status shows the pools as they are now.
      await attempt('describing the pools', async () => (await refresh(run), false));
    }
    if (state.backingOff()) continue;
    // A failed attempt needs no settings; one that could not even describe the pools tries that first.
    if (!st.settings) {
      await attempt('describing the pools', async () => (await refresh(run), false));
      continue;
    }
    if (state.cleanupsDue()) {
      // Owed steps of earlier plans first: a new plan must not count a victim still in its pool.
      await attempt('finishing an earlier plan', async () => (await runCleanups(run), false));
      continue;
    }
    // Only runs that held a floor get here (floorCheckAt is unset otherwise): older histories replay as they ran.
    if (floorCheckDue(state) && patched(FLOOR_PATCH)) {
      if (await attempt('holding the readiness floor', () => holdFloor(run))) return finishAborted();
      continue;
    }
    if (state.runnable()) {
      // Let requests sent together (an alarm storm, several drains) land in the same plan.
      await sleep(COALESCE_MS);
      const aborted = await attempt(PLAN_STEP, async () => {
        if (await runPlan(run)) return true;
        // Status shows pools as they are after the plan, not as they were before it.
        await refresh(run);
        return false;
      });
      if (aborted) return finishAborted();
    } else if (state.returnToSpotDue()) {
      state.scheduleNextReturnToSpot();
      const aborted = await attempt('return to spot', async () => {
        if (await returnToSpot(run)) return true;
        await refresh(run);
        return false;
      });
      if (aborted) return finishAborted();
    }
  }
}

// Clients type their handles with CapacityWorkflow (its contract's messages.ts): it must accept what they pass.
capacity satisfies CapacityWorkflow;
