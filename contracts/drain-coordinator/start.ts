import type { SearchAttributePair } from '@temporalio/common';
import { FleetopsKind, placementAttributes } from '../../common/search-attributes';
import { drainCoordinatorWorkflowId } from '../../common/workflow-ids';
import type { AwsPlacement } from '../shared';
import type { DrainCoordinatorInput } from './input';
import { WORKFLOWS } from '../registry';

/** The workflow type as registered (contracts/registry.ts). */
export const DRAIN_COORDINATOR_WORKFLOW_TYPE = WORKFLOWS.drainCoordinator.type;

/**
 * Start options of the drain coordinator, for the router (signal-with-start of `interruptionNotices`
 * with every warning of an event batch) and tests. Long-lived, one per account and region; a run
 * that ended (aborted, failed) is replaced by the next signal-with-start.
 */
export function drainCoordinatorStartOptions(placement?: AwsPlacement) {
  const where = placement ? { account: placement.account, region: placement.region } : undefined;
  const typedSearchAttributes: SearchAttributePair[] = [{ key: FleetopsKind, value: WORKFLOWS.drainCoordinator.kind }, ...placementAttributes(where)];
  const input: DrainCoordinatorInput = where ? { placement: { ...where, ...(placement?.member ? { member: true } : {}) } } : {};
  return {
    workflowType: DRAIN_COORDINATOR_WORKFLOW_TYPE,
    workflowId: drainCoordinatorWorkflowId(where),
    taskQueue: WORKFLOWS.drainCoordinator.taskQueue,
    args: [input] as [DrainCoordinatorInput],
    typedSearchAttributes,
    staticSummary: `Drain coordinator${where ? ` for ${where.account} ${where.region}` : ''}: sets DRAINING at once for interruption warnings, ahead of each instance's drain`,
    workflowIdReusePolicy: 'ALLOW_DUPLICATE' as const,
    // Its workflow tasks (and so its activity, which inherits it) go first in any backlog: 1 is the
    // highest priority, the default 3. A run started on the drains' queue by an earlier version
    // stays there, ahead of their backlog, until it is aborted.
    priority: { priorityKey: 1 },
  };
}
