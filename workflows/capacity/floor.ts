import type { CapacitySnapshot } from '../../activities/capacity/types';
import type { ReadinessFloor } from '../../contracts/capacity/input';
import { activeFloors, effectiveFloor, floorShortfall, withFloor, type EffectiveFloor } from '../../common/readiness-floor';
import { refresh, type CapacityRun } from './run';
import { scaleOut } from './scale-out';
import type { CapacityState } from './state';

/**
 * Readiness floors (a window's `readinessFloor` signal, workflows/readiness/): while one holds, the
 * loop checks on a timer that the cluster has the floor's units (on-demand ones first) and scales out
 * what it lacks through the usual pool ladder; scale-in (scale-in.ts) and return to spot
 * (return-to-spot.ts) stay above it. A released or expired floor is dropped: capacity then scales in
 * as demand says, a step at a time, as ever.
 */

/** How often a held floor is checked (a spot reclaim's replacement is asked by its drain at once). */
export const FLOOR_CHECK_MS = 60_000;
/** Runs recorded before floors existed never reach the floor step; new ones mark it. */
export const FLOOR_PATCH = 'capacity-readiness-floor';

/** The `readinessFloor` handler: the window's floor replaces its earlier one, and a check is due now. */
export function receiveFloor(state: CapacityState, msg: ReadinessFloor): void {
  const st = state.carried;
  const floors = st.floors ?? [];
  if (msg.action === 'hold') {
    st.floors = withFloor(floors, msg.windowId, { windowId: msg.windowId, units: msg.units, onDemandUnits: Math.min(msg.units, msg.onDemandUnits), until: Date.parse(msg.until), reason: msg.reason });
    state.decide({ action: 'floor', units: msg.units, reason: `${msg.windowId} holds ${msg.units} units (${msg.onDemandUnits} on-demand) until ${msg.until}: ${msg.reason}` });
  } else {
    st.floors = withFloor(floors, msg.windowId, undefined);
    state.decide({ action: 'floor', units: 0, reason: `${msg.windowId} released its floor: ${msg.reason}` });
  }
  st.floorCheckAt = state.now();
}

/** The floor in force now (none: 0 units). */
export function currentFloor(state: CapacityState): EffectiveFloor {
  return effectiveFloor(state.carried.floors ?? [], state.now());
}

export function floorCheckDue(state: CapacityState): boolean {
  const at = state.carried.floorCheckAt;
  return at !== undefined && state.now() >= at && !state.backingOff();
}

/** When the next floor check is due without a new message (Infinity: no floor held). */
export function floorWakeAt(state: CapacityState): number {
  return state.carried.floorCheckAt ?? Infinity;
}

/** On-demand units in the cluster, not counting instances being replaced for drains. */
function onDemandUnitsOf(state: CapacityState, snap: CapacitySnapshot): number {
  const replacing = state.carried.replacing;
  return snap.state.flatMap((p) => p.instances).filter((i) => i.market === 'on-demand' && !replacing.includes(i.instanceId)).reduce((s, i) => s + i.weight, 0);
}

/**
 * One floor check: drops floors that ended, and scales out what the floor in force lacks (units already
 * asked for count). Shortfalls no pool delivers are retried at the next check. Returns true on an abort.
 */
export async function holdFloor(run: CapacityRun): Promise<boolean> {
  const { state } = run;
  const st = state.carried;
  const now = state.now();
  const floors = st.floors ?? [];
  const held = activeFloors(floors, now);
  for (const f of floors.filter((x) => !held.includes(x))) state.decide({ action: 'floor', units: 0, reason: `${f.windowId}'s floor ended` });
  st.floors = held;
  const floor = effectiveFloor(held, now);
  if (floor.windowIds.length === 0) {
    st.floorCheckAt = undefined;
    return false;
  }
  // The next check, or the moment the first floor ends, whichever comes first.
  st.floorCheckAt = Math.min(now + FLOOR_CHECK_MS, ...held.map((f) => f.until));
  const snap = await refresh(run);
  const pendingOut = st.outNow.units + st.outDeferred.units + (st.unmet?.units ?? 0);
  const short = floorShortfall(floor, { units: state.totalUnits(snap), onDemandUnits: onDemandUnitsOf(state, snap), pendingOut });
  const why = `readiness floor ${floor.units} units (${floor.onDemandUnits} on-demand) of ${floor.windowIds.join(', ')}`;
  if (short.onDemand > 0) {
    const r = await scaleOut(run, short.onDemand, `${why}: ${short.onDemand} on-demand units short`, { market: 'on-demand' });
    if (r.aborted) return true;
  }
  if (short.any > 0) {
    const r = await scaleOut(run, short.any, `${why}: ${short.any} units short`);
    if (r.aborted) return true;
  }
  if (short.onDemand > 0 || short.any > 0) await refresh(run);
  return false;
}
