import { condition, isCancellation } from '@temporalio/workflow';
import { failureMessage } from '../lib/failure-message';
import { MIN_ACTIVITY_BUDGET_MS, shortSteps } from './activity-options';
import type { DrainStep } from '../../contracts/spot-drain/messages';
import type { DrainTarget } from './state';
import { aborted, type DrainContext } from './steps';

/**
 * The disruption budget (Karpenter's disruption budgets are the model,
 * https://karpenter.sh/docs/concepts/disruption/#disruption-budgets): a voluntary drain (rebalance,
 * scale-in, scheduled change) sets DRAINING only while fewer than `drain.voluntaryDrainBudget` other
 * container instances of its cluster are DRAINING, so a wave of rebalance recommendations cannot
 * empty a pool while the replacements hit capacity errors. It asks again every BUDGET_RETRY_MS until
 * its deadline. A warning (the two-minute deadline) is never held back: it ends the wait at once.
 */

export const DEFAULT_VOLUNTARY_DRAIN_BUDGET = 2;
const BUDGET_RETRY_MS = 15_000;
const BUDGET_CALL_MS = 15_000;

export type BudgetOutcome = 'draining' | 'not-voluntary' | 'held' | 'failed';

export async function drainWithinBudget(ctx: DrainContext, t: DrainTarget): Promise<BudgetOutcome> {
  const { state, controls } = ctx;
  const budget = state.drain.voluntaryDrainBudget ?? DEFAULT_VOLUNTARY_DRAIN_BUDGET;
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
    let r;
    try {
      r = await shortSteps(Math.min(left, BUDGET_CALL_MS)).setDrainingWithinBudget({ cluster: t.cluster, containerInstanceArn: t.containerInstanceArn, budget, dryRun: state.dryRun });
    } catch (err) {
      if (isCancellation(err)) throw err;
      state.failure = `could not set DRAINING: ${failureMessage(err)}`;
      if (waited) state.end(waited, 'failed', state.failure);
      return 'failed';
    }
    state.record(r);
    if (r.granted) {
      if (waited) state.end(waited, 'done', `its turn came (${r.draining} other(s) DRAINING, budget ${budget})`);
      state.end(state.begin('set-draining'), 'done', `DRAINING within the disruption budget (${r.draining} other(s) DRAINING, budget ${budget})`);
      return 'draining';
    }
    if (!waited) {
      controls.setPhase('waiting-for-budget');
      waited = state.begin('wait-for-budget');
    }
    waited.detail = `${r.draining} instance(s) of ${t.cluster} DRAINING, budget ${budget}`;
    const version = state.deadlineVersion;
    await condition(() => !state.voluntary() || aborted(ctx) || state.deadlineVersion !== version, Math.min(BUDGET_RETRY_MS, Math.max(left - MIN_ACTIVITY_BUDGET_MS, 0)));
  }
}
