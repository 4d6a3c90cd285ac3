/**
 * The release trigger takes no signals, queries or updates: it is over in seconds, and what it did is
 * its result (below) and its FleetopsPhase (`started` or `refused`). The release it starts is followed,
 * approved and rolled back under its own id, `release-<id>-<yyyymmdd-hhmm>` (contracts/release/messages.ts).
 */
export type { ReleaseTriggerResult, ReleaseTriggerRefusal } from './input';
