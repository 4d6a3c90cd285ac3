/**
 * The deploy trigger takes no signals, queries or updates: it is over in seconds, and what it did is
 * its result (below) and its FleetopsPhase (`started` or `refused`). The deploy it starts is followed,
 * approved and aborted under its own id, `deploy-<cluster>-<service>` (contracts/canary-deploy/messages.ts).
 */
export type { DeployTriggerResult, DeployTriggerRefusal } from './input';
