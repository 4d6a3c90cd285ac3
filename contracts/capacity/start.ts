import type { SearchAttributePair, WorkflowIdReusePolicy } from '@temporalio/common';
import { FleetopsCluster, FleetopsKind, placementAttributes } from '../../common/search-attributes';
import { capacityWorkflowId } from '../../common/workflow-ids';
import type { AwsPlacement } from '../shared';
import type { CapacityInput } from './input';
import { WORKFLOWS } from '../registry';

/** The workflow type as registered (contracts/registry.ts). */
export const CAPACITY_WORKFLOW_TYPE = WORKFLOWS.capacity.type;

/**
 * Start options every starter of the `capacity` workflow uses: the router (alarm routes), the drain's
 * replacement request (activities/drain), the bench. One long-running workflow per cluster, so every
 * start is a signal-with-start of `capacityRequest` (contracts/capacity/messages.ts).
 * Spread into `client.workflow.signalWithStart(start.workflowType, { ...start, signal, signalArgs })`.
 */
export function capacityStartOptions(cluster: string, opts: { dryRun?: boolean; placement?: AwsPlacement } = {}) {
  const typedSearchAttributes: SearchAttributePair[] = [
    { key: FleetopsKind, value: WORKFLOWS.capacity.kind },
    { key: FleetopsCluster, value: cluster },
    ...placementAttributes(opts.placement),
  ];
  const input: CapacityInput = { cluster, ...(opts.placement ? { placement: opts.placement } : {}), ...(opts.dryRun ? { dryRun: true } : {}) };
  // A closed (aborted, failed) capacity workflow is replaced by the next request under the same id.
  const workflowIdReusePolicy: WorkflowIdReusePolicy = 'ALLOW_DUPLICATE';
  return {
    workflowType: CAPACITY_WORKFLOW_TYPE,
    workflowId: capacityWorkflowId(cluster),
    taskQueue: WORKFLOWS.capacity.taskQueue,
    args: [input] as [CapacityInput],
    typedSearchAttributes,
    staticSummary: `Capacity of cluster ${cluster}`,
    workflowIdReusePolicy,
  };
}
