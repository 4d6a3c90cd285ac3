import { CancellationScope, condition, getExternalWorkflowHandle, isCancellation, log, patched, workflowInfo } from '@temporalio/workflow';
import { drainBudgetWorkflowId } from '../../common/workflow-ids';
import { releaseDrainSlotSignal } from '../../contracts/drain-budget/messages';
import { failureMessage } from '../lib/failure-message';
import { MIN_ACTIVITY_BUDGET_MS, shortSteps } from './activity-options';
import type { DrainStep } from '../../contracts/spot-drain/messages';
import type { DrainTarget } from './state';
import { aborted, isTimeout, type DrainContext } from './steps';

/**
 * The disruption budget (Karpenter's disruption budgets are the model,
 * https://karpenter.sh/docs/concepts/disruption/#disruption-budgets): a voluntary drain (rebalance,
 * scale-in, scheduled change) sets DRAINING only once its cluster's budget workflow
 * (`drain-budget-<cluster>`, workflows/drain-budget/) grants it one of `drain.voluntaryDrainBudget`
 * slots, so a wave of rebalance recommendations cannot empty a pool while the replacements hit
 * capacity errors, however many workers run the drains. It asks again until its deadline (every
 * BUDGET_NEXT_RETRY_MS when it is among the next to be granted, else every BUDGET_RETRY_MS), and
 * gives the slot back when it ends (releaseSlot). A warning (the two-minute deadline)
 * is never held back: it ends the wait at once.
 */

export const DEFAULT_VOLUNTARY_DRAIN_BUDGET = 2;
const BUDGET_RETRY_MS = 15_000;
/**
 * A drain among the next `budget` in line asks again sooner: its turn comes when a holder's instance
 * leaves DRAINING (terminated and deregistered, or set ACTIVE), which only a fresh sweep sees; the
 * budget is told of no such thing, so it cannot wake the drain.
 */
const BUDGET_NEXT_RETRY_MS = 5_000;
const BUDGET_CALL_MS = 15_000;
/**
 * An ask that timed out is asked again. Runs recorded before ended the drain there (deadline-missed)
 * though the deadline was minutes away.
 */
const BUDGET_ASK_AGAIN_PATCH = 'budget-ask-again-after-timeout';

export type BudgetOutcome = 'draining' | 'not-voluntary' | 'held' | 'failed';

interface Asked {
  granted: boolean;
  detail: string;
  /** When to ask again if told to wait. */
  retryMs: number;
}

export async function drainWithinBudget(ctx: DrainContext, t: DrainTarget): Promise<BudgetOutcome> {
  const { state, controls } = ctx;
  const budget = state.drain.voluntaryDrainBudget ?? DEFAULT_VOLUNTARY_DRAIN_BUDGET;
  // Runs recorded before asked the worker-local check (setDrainingWithinBudget): they replay as they ran.
  const slotted = patched('drain-budget-workflow');
  const ask = async (budgetMs: number): Promise<Asked> => {
    const input = { cluster: t.cluster, containerInstanceArn: t.containerInstanceArn, budget, dryRun: state.dryRun };
    if (!slotted) {
      const r = await shortSteps(budgetMs).setDrainingWithinBudget(input);
      state.record(r);
      return { granted: r.granted, detail: `${r.draining} other(s) DRAINING, budget ${budget}`, retryMs: BUDGET_RETRY_MS };
    }
    // Set before the call: the budget may grant the slot and the activity still fail after (DRAINING
    // refused), and that slot must be given back too. A dry run takes none.
    if (!state.dryRun) state.budgetSlotOf = t.cluster;
    const r = await shortSteps(budgetMs).setDrainingWithSlot({ ...input, instanceId: state.instanceId });
    state.record(r);
    const ahead = r.ahead ? `, ${r.ahead} drain(s) waiting ahead` : '';
    const retryMs = (r.ahead ?? 0) < r.budget ? BUDGET_NEXT_RETRY_MS : BUDGET_RETRY_MS;
    return { granted: r.granted, detail: `${r.holders} slot(s) held, ${r.others} other(s) DRAINING${ahead}, budget ${r.budget}`, retryMs };
  };
  let waited: DrainStep | undefined;
  for (;;) {
    if (!state.voluntary() || aborted(ctx)) {
      if (waited) state.end(waited, 'skipped', aborted(ctx) ? 'aborted' : `${state.mode()}: not held back by the budget`);
      return 'not-voluntary';
    }
    const left = state.timeLeftMs();
    if (left < MIN_ACTIVITY_BUDGET_MS) {
      const why = `held back by the disruption budget (${budget} DRAINING at once in ${t.cluster}) until the deadline`;
      if (waited) state.end(waited, 'failed', why);
      state.failure = why;
      return 'held';
    }
    let r: Asked;
    try {
      r = await ask(Math.min(left, BUDGET_CALL_MS));
    } catch (err) {
      if (isCancellation(err)) throw err;
      // A timeout is no answer, not a refusal: the attempt's worker was lost (the call has no time for a
      // second attempt), or the budget workflow did not answer in time (its task was on a worker that
      // was lost). Both pass; the deadline is what bounds the asking.
      if (isTimeout(err) && patched(BUDGET_ASK_AGAIN_PATCH)) {
        if (!waited) {
          controls.setPhase('waiting-for-budget');
          waited = state.begin('wait-for-budget');
        }
        waited.detail = `${t.cluster}: the budget did not answer within ${BUDGET_CALL_MS / 1000} s; asking again`;
        continue;
      }
      state.failure = `could not set DRAINING: ${failureMessage(err)}`;
      if (waited) state.end(waited, 'failed', state.failure);
      return 'failed';
    }
    if (r.granted) {
      if (waited) state.end(waited, 'done', `its turn came (${r.detail})`);
      state.end(state.begin('set-draining'), 'done', `DRAINING within the disruption budget (${r.detail})`);
      return 'draining';
    }
    if (!waited) {
      controls.setPhase('waiting-for-budget');
      waited = state.begin('wait-for-budget');
    }
    waited.detail = `${t.cluster}: ${r.detail}`;
    const version = state.deadlineVersion;
    await condition(() => !state.voluntary() || aborted(ctx) || state.deadlineVersion !== version, Math.min(r.retryMs, Math.max(left - MIN_ACTIVITY_BUDGET_MS, 0)));
  }
}

/**
 * The drain ended (drained, missed, aborted, failed or cancelled): its budget slot is free, and it no
 * longer waits for one. Not cancellable, so a cancelled drain still gives it back. A slot that cannot
 * be given back (the budget workflow is gone or closing) is reclaimed by the budget once it finds
 * this run closed.
 */
export async function releaseSlot(ctx: DrainContext): Promise<void> {
  const cluster = ctx.state.budgetSlotOf;
  if (cluster === undefined) return;
  ctx.state.budgetSlotOf = undefined;
  await CancellationScope.nonCancellable(async () => {
    try {
      await getExternalWorkflowHandle(drainBudgetWorkflowId(cluster)).signal(releaseDrainSlotSignal, { workflowId: ctx.workflowId, runId: workflowInfo().runId });
    } catch (err) {
      log.warn('could not give the drain budget slot back; the budget reclaims it once this run has closed', { cluster, error: failureMessage(err) });
    }
  });
}
