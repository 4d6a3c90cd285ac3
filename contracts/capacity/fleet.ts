import type { Market } from '../../common/capacity';
import { hourlyCost, type CostGroup, type HourlyCost } from '../../common/pricing/cost';
import type { CapacityStatus, FallbackStatus } from './messages';

/**
 * A cluster's fleet as the capacity workflow last read it (its `status`: pools, what each runs by
 * instance type and zone, unmet units, on-demand fallback), in the shape both reports use: the
 * worker's fleet gauges (workers/fleet-metrics.ts) and `fleetops fleet`. Pure: prices come in as a
 * function, so both price the same way (common/pricing/).
 */

export interface FleetOffering {
  pool: string;
  market: Market;
  instanceType: string;
  /** `unknown` when the pool did not say. */
  zone: string;
  instances: number;
  units: number;
  activeInstances: number;
  activeUnits: number;
  spotPrice?: number;
}

export interface FleetPool {
  name: string;
  kind: string;
  market: Market;
  instanceTypes: string[];
  zones: string[];
  /** The pool's target. */
  wantedUnits: number;
  /** Pending or running. */
  liveUnits: number;
  /** ACTIVE container instances. */
  activeUnits: number;
  activeInstances: number;
  /** Of the cluster's ACTIVE units (0..1); undefined while it has none. */
  shareOfActive: number | undefined;
}

export interface FleetView {
  cluster: string;
  /** When the capacity workflow last read its pools. */
  poolsAt?: string;
  pools: FleetPool[];
  offerings: FleetOffering[];
  units: { wanted: number; active: number; activeSpot: number };
  /** ACTIVE spot units / ACTIVE units; undefined while there are none. */
  spotShare: number | undefined;
  unmet: { units: number; since?: string };
  fallback?: FallbackStatus;
  floor?: { units: number; onDemandUnits: number; windows: string[] };
}

const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort();
const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 1e4) / 1e4 : undefined);

export function fleetView(status: CapacityStatus): FleetView {
  const offerings: FleetOffering[] = status.pools.flatMap((p) =>
    (p.offerings ?? []).map((o) => ({
      pool: p.name,
      market: p.market,
      instanceType: o.instanceType,
      zone: o.availabilityZone ?? 'unknown',
      instances: o.instances,
      units: o.units,
      activeInstances: o.activeInstances,
      activeUnits: o.activeUnits,
      ...(o.spotPrice !== undefined ? { spotPrice: o.spotPrice } : {}),
    })),
  );
  const active = status.pools.reduce((s, p) => s + p.activeUnits, 0);
  const activeSpot = status.pools.filter((p) => p.market === 'spot').reduce((s, p) => s + p.activeUnits, 0);
  const pools: FleetPool[] = status.pools.map((p) => {
    const mine = offerings.filter((o) => o.pool === p.name);
    return {
      name: p.name,
      kind: p.kind,
      market: p.market,
      instanceTypes: sorted(mine.map((o) => o.instanceType)),
      zones: sorted(mine.map((o) => o.zone)),
      wantedUnits: p.targetUnits,
      liveUnits: p.actualUnits,
      activeUnits: p.activeUnits,
      activeInstances: mine.reduce((s, o) => s + o.activeInstances, 0),
      shareOfActive: ratio(p.activeUnits, active),
    };
  });
  return {
    cluster: status.cluster,
    ...(status.poolsAt ? { poolsAt: status.poolsAt } : {}),
    pools,
    offerings,
    units: { wanted: status.pools.reduce((s, p) => s + p.targetUnits, 0), active, activeSpot },
    spotShare: ratio(activeSpot, active),
    unmet: { units: status.pending.unmet, ...(status.pending.unmetSince ? { since: status.pending.unmetSince } : {}) },
    ...(status.fallback ? { fallback: status.fallback } : {}),
    ...(status.floor ? { floor: status.floor } : {}),
  };
}

/** Instance types the cost needs an on-demand price for: every type that runs. */
export const fleetInstanceTypes = (view: FleetView): string[] => sorted(view.offerings.filter((o) => o.instances > 0).map((o) => o.instanceType));

/** What the fleet's live instances (pending or running: what is billed) cost an hour, and on demand. */
export function fleetCost(view: FleetView, onDemandPrice: (instanceType: string) => number | undefined): HourlyCost {
  const groups: CostGroup[] = view.offerings.map((o) => ({
    market: o.market,
    instanceType: o.instanceType,
    instances: o.instances,
    ...(o.spotPrice !== undefined ? { spotPrice: o.spotPrice } : {}),
  }));
  return hourlyCost(groups, onDemandPrice);
}
