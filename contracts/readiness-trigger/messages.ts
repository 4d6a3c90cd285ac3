import type { ImportRow } from '../readiness/ical-plan';

/**
 * The readiness trigger takes no signals, queries or updates: it is over in seconds, and what it did
 * is its result (below) and its FleetopsPhase (`started`, `unchanged` or `refused`). The windows it
 * starts are followed under their own ids (contracts/readiness/messages.ts).
 */

/** A run's result: a row per occurrence window it started or found, and its Schedule's (moved on, or deleted when no occurrence is left). */
export interface ReadinessTriggerResult {
  rows: ImportRow[];
}
