import type { SearchAttributePair } from '@temporalio/common';
import { FleetopsCluster, FleetopsKind, placementAttributes } from '../../common/search-attributes';
import { readinessWorkflowId } from '../../common/workflow-ids';
import type { ReadinessInput } from './input';
import { WORKFLOWS } from '../registry';

/** The workflow type as registered (contracts/registry.ts). */
export const READINESS_WORKFLOW_TYPE = WORKFLOWS.readiness.type;

/**
 * Start options of one window on one cluster (`fleetops readiness add`, tests). The id is unique per
 * window: a second add of the same id is refused by the server (conflict policy FAIL), not merged.
 */
export function readinessStartOptions(input: ReadinessInput) {
  const typedSearchAttributes: SearchAttributePair[] = [
    { key: FleetopsKind, value: WORKFLOWS.readiness.kind },
    { key: FleetopsCluster, value: input.cluster },
    ...placementAttributes(input.placement),
  ];
  return {
    workflowType: READINESS_WORKFLOW_TYPE,
    workflowId: readinessWorkflowId(input.cluster, input.id),
    taskQueue: WORKFLOWS.readiness.taskQueue,
    args: [input] as [ReadinessInput],
    typedSearchAttributes,
    staticSummary: `Readiness level ${input.level.level} on ${input.cluster} ${input.start} → ${input.end}: ${input.reason}`.slice(0, 200),
  };
}
