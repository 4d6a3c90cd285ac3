import { allHandlersFinished, condition, continueAsNew, log, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import { installOperatorControls, type OperatorControls } from '../lib/operator-controls';
import { capacityRequestSignal, type CapacityStatus, type CapacityWorkflow } from './messages';
import { runPlan } from './plan';
import { returnToSpot } from './return-to-spot';
import { refresh, type CapacityRun } from './run';
import type { CapacityWorkflowInput } from './carried';
import { CapacityState, iso } from './state';

/**
 * `capacity-<cluster>`: the one long-running owner of a cluster's capacity (issue 5).
 *
 * Requests (alarm routes, drains wanting a replacement, operators) arrive as `capacityRequest`
 * signals and are summed (state.ts), so requests that arrive together become one plan (plan.ts).
 * Scale-out walks the pool ladder (scale-out.ts); scale-in drains its victims through child
 * `spotDrain` workflows before shrinking their pools (scale-in.ts); a durable timer moves on-demand
 * capacity back to spot one step at a time (return-to-spot.ts). History stays bounded by
 * continue-as-new between plans; everything the next run needs is carried.
 */

/** Requests arriving within this window of the first one join its plan. */
const COALESCE_MS = 1_000;
/** Continue-as-new between plans once history passes this many events (or the server suggests it). */
// Small on purpose: a continue-as-new that races new signals is retried by replaying the run, so a short run keeps that cheap.
const CONTINUE_AS_NEW_AFTER_EVENTS = 1_000;

export async function capacity(input: CapacityWorkflowInput): Promise<CapacityStatus> {
  const { cluster } = input;
  const state = new CapacityState(cluster, input.dryRun === true, input.carried, {
    onDecision: (d) => log.info('capacity decision', { cluster, ...d }),
  });
  const st = state.carried;
  const controls: OperatorControls = installOperatorControls({ initialPhase: 'idle', status: () => state.status(controls?.phase ?? 'starting') });
  const run: CapacityRun = { cluster, dryRun: state.dryRun, state, controls, ...(input.placement ? { placement: input.placement } : {}) };

  setHandler(capacityRequestSignal, (req) => void state.receive(req), {
    description: 'Ask for units of capacity out or in; requests that arrive together coalesce into one plan.',
  });

  const finishAborted = (): CapacityStatus => {
    const req = controls.abortRequest;
    controls.setPhase('aborted');
    const pools = st.pools.map((p) => `${p.name} ${p.actualUnits}/${p.targetUnits}`).join(', ');
    state.summary = `aborted${req?.by ? ` by ${req.by}` : ''}: ${req?.reason ?? ''}. No capacity request in flight; pools (actual/target) ${pools || 'unknown'}; scale-in drains already started finish on their own.`;
    return state.status(controls.phase);
  };

  if (!st.settings) await refresh(run);
  state.scheduleFirstReturnToSpot();
  for (;;) {
    if (controls.abortRequest) return finishAborted();
    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength >= CONTINUE_AS_NEW_AFTER_EVENTS) {
      await condition(allHandlersFinished);
      st.continuedRuns += 1;
      await continueAsNew<typeof capacity>({ cluster, ...(input.placement ? { placement: input.placement } : {}), ...(input.dryRun !== undefined ? { dryRun: input.dryRun } : {}), carried: st });
    }
    const waitingCooldown = state.waitingForCooldown();
    controls.setPhase(waitingCooldown ? 'cooldown' : 'idle');
    state.summary = waitingCooldown
      ? `waiting for the cooldown until ${iso(state.cooldownUntil())} before ${st.outDeferred.units} out / ${st.inDeferred.units} in units`
      : `idle: ${st.pools.map((p) => `${p.name} ${p.actualUnits}`).join(', ')} units`;
    const wake = state.nextWakeAt();
    const wakeIn = wake === Infinity ? undefined : Math.max(1, wake - Date.now());
    // Everything that ends the wait, listed once. A new request wakes the loop even when it must wait
    // (cooldown), so phase and summary say so.
    const signalsAtWait = st.signalsReceived;
    const interrupted = () => state.runnable() || state.returnToSpotDue() || controls.abortRequest !== undefined || st.signalsReceived !== signalsAtWait;
    if (wakeIn === undefined) await condition(interrupted);
    else await condition(interrupted, wakeIn);

    if (await controls.checkpoint()) return finishAborted();
    if (state.runnable()) {
      // Let requests sent together (an alarm storm, several drains) land in the same plan.
      await sleep(COALESCE_MS);
      if (await runPlan(run)) return finishAborted();
      // Status shows pools as they are after the plan, not as they were before it.
      await refresh(run);
    } else if (state.returnToSpotDue()) {
      state.scheduleNextReturnToSpot();
      if (await returnToSpot(run)) return finishAborted();
      await refresh(run);
    }
  }
}

// Clients type their handles with CapacityWorkflow (messages.ts): it must accept what they pass.
capacity satisfies CapacityWorkflow;
