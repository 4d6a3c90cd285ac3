import { ActivityFailure, ApplicationFailure, patched } from '@temporalio/workflow';
import { FailureType } from '../../common/failures';
import type { Cleanup } from './carried';
import { aws } from './activity-options';
import type { CapacityRun } from './run';

/**
 * Steps earlier plans still owe, carried until they go through: a drained scale-in victim to take
 * out of its pool (else it keeps running, DRAINING), a raise to withdraw (else the pool fills it
 * later on top of the next pool). Run in order before any new plan; the first failure stops the run
 * and is thrown (the workflow records it and retries on its timer), so none is lost or done twice.
 * Returns the units removed.
 */
export async function runCleanups(run: CapacityRun): Promise<number> {
  const { state } = run;
  let removed = 0;
  for (const c of [...(state.carried.cleanups ?? [])]) removed += await runCleanup(run, c);
  return removed;
}

/**
 * One owed step; it leaves the list when it went through, or when the pool refuses it for good (an
 * ASG at its min size that config does not let fleetops lower): that scale-in step is refused, with
 * the reason on status, and the instance stays.
 */
export async function runCleanup(run: CapacityRun, c: Cleanup): Promise<number> {
  let units = 0;
  try {
    units = await runOne(run, c);
  } catch (err) {
    const cause = err instanceof ActivityFailure ? err.cause : err;
    if (!(cause instanceof ApplicationFailure && cause.type === FailureType.PoolAtMinimum)) throw err;
    run.state.decide({ action: 'pool-failed', pool: c.pool, units: 0, reason: `scale-in step refused: ${cause.message}` });
    run.state.summary = `scale-in step refused: ${cause.message}`;
  }
  run.state.doneCleanup(c);
  return units;
}

async function runOne(run: CapacityRun, c: Cleanup): Promise<number> {
  const { state, cluster, dryRun } = run;
  if (c.kind === 'remove') {
    const res = await aws.removePoolInstance({ cluster, pool: c.pool, instanceId: c.instanceId, weight: c.weight, dryRun });
    res.dryRunCalls.forEach((call) => state.recordDryRun(call));
    state.decide({ action: 'removed', pool: c.pool, units: c.weight, reason: `${c.instanceId} taken out of ${c.pool}` });
    return c.weight;
  }
  const res = await aws.setPoolTarget({ cluster, pool: c.pool, targetUnits: c.targetUnits, keepInstanceIds: c.keepInstanceIds, dryRun });
  res.dryRunCalls.forEach((call) => state.recordDryRun(call));
  // The pool filled (part of) the raise before the withdrawal went through, on top of what the plan
  // got elsewhere: those units serve, so they leave by a scale-in (drained), not by the pool's choice.
  // Runs recorded before this had no surplus answered; patched() keeps them replaying.
  const surplus = res.surplusUnits ?? 0;
  const scaleIn = surplus > 0 && patched('capacity-withdraw-surplus');
  state.decide({
    action: 'withdrawn',
    pool: c.pool,
    ...(scaleIn ? { units: surplus } : {}),
    reason: `undelivered raise withdrawn: target ${c.targetUnits}${scaleIn ? `; ${surplus} units it filled first serve, and are scaled in` : ''}`,
  });
  if (scaleIn) state.scaleInSurplus(surplus, `${c.pool} filled ${surplus} units of a withdrawn raise the plan had taken elsewhere`);
  return 0;
}
