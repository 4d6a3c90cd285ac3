import type { ActivityDeps } from '../deps';
import { createDrainContext, type DrainActivityOptions } from './context';
import { createDrainingActivities } from './draining';
import { createDrainIncidentActivities } from './incidents';
import { createLifecycleActivities } from './lifecycle';
import { moveWorkOffFrom } from './move-off';
import { createReplacementActivities } from './replacement';
import { createSlotActivities } from './slots';
import { createTargetActivities } from './targets';
import { createTaskActivities } from './tasks';

/**
 * Drain activities (workflows/spot-drain/ and workflows/drain-coordinator/), one file per concern.
 * They share one context (context.ts), so every drain a worker runs shares its batches, sweeps and
 * pollers (shared-calls.ts). Mutating calls go through `mutatingAwsCall`; in dryRun they are returned
 * instead of made.
 */

export type { DrainActivityOptions, SignalWithStartArgs } from './context';
export { moveWorkOffFrom, type MoveOffParts } from './move-off';

export function createDrainActivities(deps: ActivityDeps, opts: DrainActivityOptions = {}) {
  const ctx = createDrainContext(deps, opts);
  const activities = {
    ...createDrainingActivities(ctx),
    ...createTargetActivities(ctx),
    ...createTaskActivities(ctx),
    ...createReplacementActivities(ctx),
    ...createLifecycleActivities(ctx),
    ...createDrainIncidentActivities(ctx),
    ...createSlotActivities((cluster) => ctx.callsFor(cluster), opts),
  };
  return { ...activities, moveWorkOff: moveWorkOffFrom(activities) };
}

export type DrainActivities = ReturnType<typeof createDrainActivities>;
