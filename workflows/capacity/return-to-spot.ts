import { movableOnDemand } from '../../common/readiness-floor';
import { currentFloor } from './floor';
import { refresh, type CapacityRun } from './run';
import { scaleIn } from './scale-in';
import { scaleOut } from './scale-out';

/**
 * Return to spot, one step per timer: while on-demand units run and a spot pool is usable, bring up
 * a step of spot units (over max if need be), then scale in as many on-demand units as arrived.
 * Returns true when an abort ended it.
 */
export async function returnToSpot(run: CapacityRun): Promise<boolean> {
  const { state, controls } = run;
  const snap = await refresh(run);
  const settings = snap.settings;
  const onDemand = snap.state.filter((p) => p.market === 'on-demand').reduce((s, p) => s + p.actualUnits, 0);
  if (onDemand <= 0) return false;
  // A readiness floor's on-demand units stay on-demand while it holds (no floor: all may move).
  const floor = currentFloor(state);
  const movable = movableOnDemand(onDemand, floor.onDemandUnits);
  if (movable <= 0) {
    state.decide({ action: 'return-to-spot', units: 0, reason: `${onDemand} on-demand units kept for the readiness floor of ${floor.windowIds.join(', ')}` });
    return false;
  }
  const spotPools = snap.pools.filter((p) => p.market === 'spot');
  if (spotPools.every((p) => state.blockedBy(p))) {
    state.decide({ action: 'return-to-spot', units: 0, reason: `${onDemand} on-demand units running; every spot pool still unavailable` });
    return false;
  }
  const step = Math.min(movable, settings.stepUnits);
  controls.setPhase('returning-to-spot');
  const out = await scaleOut(run, step, `return to spot: ${onDemand} on-demand units running`, { market: 'spot', exceedMaxBy: step, awaitActive: true });
  if (out.aborted) return true;
  if (out.delivered <= 0) return false;
  const back = await scaleIn(run, Math.min(out.delivered, movable), `return to spot: ${out.delivered} spot units now ACTIVE`, {
    force: false,
    market: 'on-demand',
    ignoreMin: true,
  });
  state.decide({ action: 'return-to-spot', units: back.removed, reason: `moved ${back.removed} units from on-demand to spot` });
  return back.aborted;
}
