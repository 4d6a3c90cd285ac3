import { iso } from './state';
import { type CapacityRun } from './run';
import { scaleIn, type ScaleInProgress } from './scale-in';
import { scaleOut, type ScaleOutProgress } from './scale-out';

/**
 * One plan from whatever is pending: out and in requests net out, so an alarm storm in both
 * directions becomes one action. A shortfall no pool could deliver is kept and retried when the
 * first unavailable mark expires. A failed AWS step puts back what the plan had not done yet and
 * rethrows (the workflow backs off and retries). Returns true when an abort ended it.
 */
export async function runPlan(run: CapacityRun): Promise<boolean> {
  const { state } = run;
  const pending = state.takePending();
  const net = pending.out - pending.in;
  if (net > 0) {
    const progress: ScaleOutProgress = { remaining: net };
    try {
      const r = await scaleOut(run, net, pending.why, {}, progress);
      if (r.unmet > 0 && !r.aborted) {
        const retryAt = state.deferUnmet(r.unmet);
        state.decide({ action: 'ignored', units: r.unmet, reason: `no pool could deliver ${r.unmet} units; retrying at ${iso(retryAt)}` });
      } else state.unmetSettled();
      return r.aborted;
    } catch (err) {
      state.restorePending('out', progress.remaining, pending.why);
      throw err;
    }
  }
  if (net < 0) {
    const progress: ScaleInProgress = { remaining: -net };
    state.unmetSettled();
    try {
      return (await scaleIn(run, -net, pending.why, { force: pending.force }, progress)).aborted;
    } catch (err) {
      state.restorePending('in', progress.remaining, pending.why, pending.force);
      throw err;
    }
  }
  state.decide({ action: 'ignored', units: 0, reason: `out ${pending.out} and in ${pending.in} cancel out: ${pending.why}` });
  state.unmetSettled();
  return false;
}
