/**
 * The arithmetic of readiness floors, shared by the readiness workflow (what floor a level asks for,
 * when to raise and escalate) and the capacity workflow (which floor holds, what it still lacks, how
 * far a scale-in may go). Pure functions: no Temporal, no config loading, safe in the workflow bundle.
 */

/** A level's floor as configured: units, or a factor of the cluster's units when the floor is raised. */
export type FloorSpec = { units: number } | { factor: number };

/** One window's floor as the capacity workflow holds it. `until`: epoch ms after which it no longer holds. */
export interface HeldFloor {
  windowId: string;
  units: number;
  /** On-demand units of it (its share, rounded up). */
  onDemandUnits: number;
  until: number;
  reason: string;
}

/** The floor in force: the highest of every window's that still holds. */
export interface EffectiveFloor {
  units: number;
  onDemandUnits: number;
  /** The windows holding it, highest first. */
  windowIds: string[];
}

export const NO_FLOOR: EffectiveFloor = { units: 0, onDemandUnits: 0, windowIds: [] };

/** Units a floor asks for, given what the cluster runs now (a factor rounds up; never below 1 unit). */
export function floorUnits(spec: FloorSpec, currentUnits: number): number {
  if ('units' in spec) return spec.units;
  return Math.max(1, Math.ceil(spec.factor * Math.max(0, currentUnits) - 1e-9));
}

/** On-demand units of a floor: its share, rounded up. */
export function onDemandUnits(units: number, share: number): number {
  return Math.max(0, Math.min(units, Math.ceil(units * Math.min(1, Math.max(0, share)) - 1e-9)));
}

/** The floors still holding at `now`. */
export function activeFloors(floors: readonly HeldFloor[], now: number): HeldFloor[] {
  return floors.filter((f) => f.until > now);
}

/** Several windows' floors: the highest units win, and the highest on-demand units (each on its own). */
export function effectiveFloor(floors: readonly HeldFloor[], now: number): EffectiveFloor {
  const held = activeFloors(floors, now).sort((a, b) => b.units - a.units || b.onDemandUnits - a.onDemandUnits);
  if (held.length === 0) return NO_FLOOR;
  return {
    units: held[0]!.units,
    onDemandUnits: Math.max(...held.map((f) => f.onDemandUnits)),
    windowIds: held.map((f) => f.windowId),
  };
}

/** Replaces a window's floor (a change) or adds it; `undefined` releases it. */
export function withFloor(floors: readonly HeldFloor[], windowId: string, floor: HeldFloor | undefined): HeldFloor[] {
  const rest = floors.filter((f) => f.windowId !== windowId);
  return floor ? [...rest, floor] : rest;
}

/**
 * What the cluster lacks under a floor: on-demand units first (they count towards the floor too),
 * then any units. `pendingOut`: units already asked for and not yet launched.
 */
export function floorShortfall(
  floor: EffectiveFloor,
  have: { units: number; onDemandUnits: number; pendingOut: number },
): { onDemand: number; any: number } {
  const onDemand = Math.max(0, floor.onDemandUnits - have.onDemandUnits);
  const any = Math.max(0, floor.units - have.units - have.pendingOut - onDemand);
  return { onDemand, any };
}

/** Units a scale-in may remove: never below the cluster's min nor below the floor. */
export function scaleInAllowance(units: number, totalUnits: number, minUnits: number, floor: number): number {
  return Math.min(units, totalUnits - Math.max(minUnits, floor));
}

/** On-demand units a return to spot may move: never below the floor's on-demand units. */
export function movableOnDemand(onDemand: number, floorOnDemand: number): number {
  return Math.max(0, onDemand - floorOnDemand);
}

/** When a window raises its floor, escalates by notification, opens an incident (epoch ms). */
export function readinessTimeline(startMs: number, leadSeconds: number): { raiseAt: number; notifyAt: number; incidentAt: number } {
  const lead = leadSeconds * 1000;
  return { raiseAt: startMs - lead, notifyAt: startMs - lead / 2, incidentAt: startMs - lead / 4 };
}
