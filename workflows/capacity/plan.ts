import { iso } from './state';
import { type CapacityRun } from './run';
import { scaleIn } from './scale-in';
import { scaleOut } from './scale-out';

/**
 * One plan from whatever is pending: out and in requests net out, so an alarm storm in both
 * directions becomes one action. A shortfall no pool could deliver is kept and retried when the
 * first unavailable mark expires. Returns true when an abort ended it.
 */
export async function runPlan(run: CapacityRun): Promise<boolean> {
  const { state } = run;
  const pending = state.takePending();
  const net = pending.out - pending.in;
  if (net > 0) {
    const r = await scaleOut(run, net, pending.why);
    if (r.unmet > 0 && !r.aborted) {
      const retryAt = state.deferUnmet(r.unmet);
      state.decide({ action: 'ignored', units: r.unmet, reason: `no pool could deliver ${r.unmet} units; retrying at ${iso(retryAt)}` });
    }
    return r.aborted;
  }
  if (net < 0) return (await scaleIn(run, -net, pending.why, { force: pending.force })).aborted;
  state.decide({ action: 'ignored', units: 0, reason: `out ${pending.out} and in ${pending.in} cancel out: ${pending.why}` });
  return false;
}
