import type { SearchAttributePair } from '@temporalio/common';
import { FleetopsKind, placementAttributes } from '../../common/search-attributes';
import { TASK_QUEUE_CRITICAL } from '../../common/task-queues';
import { drainCoordinatorWorkflowId } from '../../common/workflow-ids';
import type { AwsPlacement } from '../shared';
import type { DrainCoordinatorInput } from './input';

/** The workflow type: the exported function name in workflows/drain-coordinator/workflow.ts. */
export const DRAIN_COORDINATOR_WORKFLOW_TYPE = 'drainCoordinator' as const;

/**
 * Start options of the drain coordinator, for the router (signal-with-start of `interruptionNotices`
 * with every warning of an event batch) and tests. Long-lived, one per account and region; a run
 * that ended (aborted, failed) is replaced by the next signal-with-start.
 */
export function drainCoordinatorStartOptions(placement?: AwsPlacement) {
  const where = placement ? { account: placement.account, region: placement.region } : undefined;
  const typedSearchAttributes: SearchAttributePair[] = [{ key: FleetopsKind, value: 'drain' }, ...placementAttributes(where)];
  const input: DrainCoordinatorInput = where ? { placement: { ...where, ...(placement?.member ? { member: true } : {}) } } : {};
  return {
    workflowType: DRAIN_COORDINATOR_WORKFLOW_TYPE,
    workflowId: drainCoordinatorWorkflowId(where),
    // Drain work: the same queue as the drains, so nothing but drains can hold it up.
    taskQueue: TASK_QUEUE_CRITICAL,
    args: [input] as [DrainCoordinatorInput],
    typedSearchAttributes,
    staticSummary: `Drain coordinator${where ? ` for ${where.account} ${where.region}` : ''}: sets DRAINING at once for interruption warnings, ahead of each instance's drain`,
    workflowIdReusePolicy: 'ALLOW_DUPLICATE' as const,
  };
}
