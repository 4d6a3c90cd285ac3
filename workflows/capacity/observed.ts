import type { CapacitySnapshot, PoolInstance } from '../../activities/capacity/types';
import type { FallbackStatus, OfferingStatus, PoolStatus } from '../../contracts/capacity/messages';
import { effectiveFloor, movableOnDemand } from '../../common/readiness-floor';
import type { CapacityCarriedState } from './carried';
import { iso } from './rules';

/**
 * What the last read of the pools showed, kept for `status` and for the clients that report on the
 * fleet (the worker's fleet metrics, `fleetops fleet`): each pool's units, and what it runs by
 * instance type and zone, with the spot price describeCapacity read. No AWS call of its own: the
 * workflow reads its pools anyway (after every plan, and at least every returnToSpotEverySeconds).
 */

/** A pool's instances grouped by instance type and zone, in a stable order. */
export function offeringsOf(instances: readonly PoolInstance[]): OfferingStatus[] {
  const byKey = new Map<string, OfferingStatus>();
  for (const i of instances) {
    const key = `${i.instanceType}/${i.availabilityZone ?? ''}`;
    const o = byKey.get(key) ?? {
      instanceType: i.instanceType,
      ...(i.availabilityZone ? { availabilityZone: i.availabilityZone } : {}),
      instances: 0,
      units: 0,
      activeInstances: 0,
      activeUnits: 0,
    };
    o.instances += 1;
    o.units += i.weight;
    if (i.containerStatus === 'ACTIVE') {
      o.activeInstances += 1;
      o.activeUnits += i.weight;
    }
    if (i.market === 'spot' && i.hourlyPrice !== undefined) o.spotPrice = i.hourlyPrice;
    byKey.set(key, o);
  }
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, o]) => o);
}

/** Takes a describeCapacity snapshot into the carried pools; notes when on-demand fallback began or ended. */
export function observePools(st: CapacityCarriedState, snap: CapacitySnapshot, now: number): void {
  st.pools = snap.state.map((p) => ({
    name: p.name,
    kind: p.kind,
    market: p.market,
    targetUnits: p.targetUnits,
    actualUnits: p.actualUnits,
    activeUnits: p.activeUnits,
    offerings: offeringsOf(p.instances),
  }));
  st.poolsAt = now;
  const onFallback = fallbackUnits(st.pools, st, now).movableUnits > 0;
  st.fallbackSince = onFallback ? (st.fallbackSince ?? now) : undefined;
}

function fallbackUnits(pools: readonly PoolStatus[], st: CapacityCarriedState, now: number): Omit<FallbackStatus, 'since'> {
  const onDemandUnits = pools.filter((p) => p.market === 'on-demand').reduce((s, p) => s + p.actualUnits, 0);
  const floor = effectiveFloor(st.floors ?? [], now).onDemandUnits;
  const movableUnits = movableOnDemand(onDemandUnits, floor);
  return { onDemandUnits, floorUnits: onDemandUnits - movableUnits, movableUnits };
}

/** The fallback `status` shows: while on-demand units run that a return to spot would move. */
export function fallbackStatus(st: CapacityCarriedState, now: number): FallbackStatus | undefined {
  const units = fallbackUnits(st.pools, st, now);
  if (units.movableUnits <= 0 || st.fallbackSince === undefined) return undefined;
  return { ...units, since: iso(st.fallbackSince) };
}
