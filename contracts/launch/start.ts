import type { SearchAttributePair, WorkflowIdReusePolicy } from '@temporalio/common';
import { FleetopsCluster, FleetopsInstanceId, FleetopsKind, placementAttributes } from '../../common/search-attributes';
import { launchWorkflowId, memberAccountOf } from '../../common/workflow-ids';
import type { AwsPlacement } from '../shared';
import type { LaunchInput } from './input';
import { WORKFLOWS } from '../registry';

/** The workflow type as registered (contracts/registry.ts). */
export const LAUNCH_WORKFLOW_TYPE = WORKFLOWS.launch.type;

/**
 * Start options of the launch workflow (`launch-<instance-id>`), for the router (an ASG launch
 * lifecycle action) and tests. A plain start: one lifecycle action per instance launch, so a
 * redelivered event finds the workflow running (`duplicate`) or finished (refused, `duplicate`).
 */
export function launchStartOptions(input: LaunchInput, placement?: AwsPlacement) {
  const typedSearchAttributes: SearchAttributePair[] = [
    { key: FleetopsKind, value: WORKFLOWS.launch.kind },
    { key: FleetopsCluster, value: input.cluster },
    { key: FleetopsInstanceId, value: input.instanceId },
    ...placementAttributes(placement),
  ];
  // An instance launches once; a second lifecycle action for it is a redelivery.
  const workflowIdReusePolicy: WorkflowIdReusePolicy = 'REJECT_DUPLICATE';
  return {
    workflowType: LAUNCH_WORKFLOW_TYPE,
    workflowId: launchWorkflowId(input.instanceId, memberAccountOf(placement)),
    taskQueue: WORKFLOWS.launch.taskQueue,
    args: [input] as [LaunchInput],
    typedSearchAttributes,
    staticSummary: `Launch of ${input.instanceId} into ${input.cluster} (${input.lifecycle.asgName}, hook ${input.lifecycle.hookName})`,
    workflowIdReusePolicy,
  };
}
