import { allHandlersFinished, condition, continueAsNew, isCancellation, log, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import { NON_RETRYABLE_FAILURE_TYPES } from '../../common/failures';
import type { DrainActivities } from '../../activities/drain';
import type { DrainBudgetInput } from '../../contracts/drain-budget/input';
import { acquireDrainSlotUpdate, releaseDrainSlotSignal, type DrainBudgetWorkflow } from '../../contracts/drain-budget/messages';
import { failureMessage } from '../lib/failure-message';
import { OperatorControls } from '../lib/operator-controls';
import { BudgetState } from './state';

/**
 * A cluster's voluntary-drain budget (`drain-budget-<cluster>`, task queue `fleetops-critical`;
 * contracts/drain-budget/start.ts). Why a workflow: the budget's check-then-set was atomic only inside
 * one worker process, so two workers could each let a drain through and exceed it. A workflow runs
 * its handlers one at a time whichever worker holds it, so the grant is atomic across every worker.
 * Why not the capacity workflow (`capacity-<cluster>`): it can be paused by an operator, is not
 * started for every cluster, and runs long activities on the default queue; the budget must answer
 * drains at once on theirs.
 *
 * A voluntary drain asks for a slot (`acquireDrainSlot`, update-with-start from its activity) before
 * it sets DRAINING and gives it back (`releaseDrainSlot`) when it ends, however it ends. A drain that
 * died holding one (terminated, its run timed out) never gives it back: while a drain waits, holders
 * held longer than `holderCheckAfterSeconds` are looked up, and the slots of closed runs reclaimed.
 * Long-lived: continues as new before its history grows large, carrying holders and waiters.
 */

const MAX_HISTORY_EVENTS = 2_000;
const DEFAULT_HOLDER_CHECK_AFTER_S = 120;

const acts = proxyActivities<Pick<DrainActivities, 'drainSlotHoldersClosed'>>({
  scheduleToCloseTimeout: '60s',
  startToCloseTimeout: '15s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES },
});

export async function drainBudget(input: DrainBudgetInput): Promise<void> {
  const state = new BudgetState(input.cluster, input.carried);
  // Abort ends the run; the next drain's ask starts a new one (the DRAINING instances of the slots it
  // held still count, as others, until they leave).
  const controls = new OperatorControls({ initialPhase: 'holding' });
  controls.install({ status: () => state.status(controls.phase), pausable: false });
  setHandler(acquireDrainSlotUpdate, (req) => state.acquire(req, Date.now()), {
    validator: (req) => {
      if (controls.abortRequest) throw new Error(`aborting: ${controls.abortRequest.reason}`);
      if (!req || typeof req.workflowId !== 'string' || typeof req.runId !== 'string' || !Number.isInteger(req.budget) || req.budget < 1 || !Array.isArray(req.draining)) {
        throw new Error('acquireDrainSlot needs workflowId, runId, a positive budget and the DRAINING list');
      }
    },
    description: 'A voluntary drain asks for a slot before it sets DRAINING: granted, or wait and ask again.',
  });
  setHandler(releaseDrainSlotSignal, (r) => state.release(r), {
    description: 'A drain ended: its slot is free, and it waits for none.',
  });
  const checkAfterMs = (input.holderCheckAfterSeconds ?? DEFAULT_HOLDER_CHECK_AFTER_S) * 1000;
  const historyFull = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > (input.continueAsNewAfterEvents ?? MAX_HISTORY_EVENTS);

  for (;;) {
    const next = state.nextCheckAt(checkAfterMs);
    // Wakes for an abort, a full history, or when the next check moved (a holder or the first waiter
    // came or went); otherwise at the check's time. Grants and releases need no wake: their handlers
    // answer by themselves.
    const wake = () => controls.abortRequest !== undefined || historyFull() || state.nextCheckAt(checkAfterMs) !== next;
    if (next === undefined) await condition(wake);
    else await condition(wake, Math.max(next - Date.now(), 1_000));
    await condition(allHandlersFinished);
    if (controls.abortRequest || historyFull()) break;
    const now = Date.now();
    state.dropGoneWaiters(now);
    const due = state.waiters.length > 0 ? state.dueForCheck(now, checkAfterMs) : [];
    if (due.length === 0) continue;
    try {
      const closed = await acts.drainSlotHoldersClosed({ holders: due.map((h) => ({ workflowId: h.workflowId, runId: h.runId })) });
      state.reclaim(closed);
      state.checked(due.filter((h) => !closed.includes(h.workflowId)), Date.now());
    } catch (err) {
      if (isCancellation(err)) throw err;
      // Checked again at the next wake: a slot stays held rather than freed on a guess.
      log.warn('could not look up the drain budget holders', { error: failureMessage(err) });
      state.checked(due, Date.now());
    }
  }
  await condition(allHandlersFinished);
  if (controls.abortRequest) {
    controls.setPhase('aborted');
    return;
  }
  await continueAsNew<DrainBudgetWorkflow>({ ...input, carried: state.carry() });
}

// Clients type their handles with DrainBudgetWorkflow (its contract's messages.ts): it must stay this function's signature.
drainBudget satisfies DrainBudgetWorkflow;
