import type { ImportOutcome, ImportRow } from '../readiness/ical-plan';

/**
 * The readiness feed takes no signals, queries or updates: a run is over in seconds, and what it did
 * is its result (below) and its FleetopsPhase (`imported`). The windows and Schedules it keeps are
 * followed under their own ids (contracts/readiness/messages.ts, contracts/readiness-trigger/).
 */

/** A run's result: how many of each outcome, and the rows that did something or were refused (at most 100). */
export interface ReadinessFeedResult {
  counts: Partial<Record<ImportOutcome, number>>;
  rows: ImportRow[];
}
