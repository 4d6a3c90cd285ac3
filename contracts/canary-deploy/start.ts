import type { SearchAttributePair, WorkflowIdReusePolicy } from '@temporalio/common';
import { FleetopsCluster, FleetopsKind, FleetopsService, placementAttributes } from '../../common/search-attributes';
import { TASK_QUEUE_DEFAULT } from '../../common/task-queues';
import { deployWorkflowId } from '../../common/workflow-ids';
import type { DeployInput } from './input';

/** The canary deploy's workflow type: the exported function name in workflows/canary-deploy/workflow.ts. */
export const DEPLOY_WORKFLOW_TYPE = 'canaryDeploy' as const;

/**
 * Start options every starter of a canary deploy uses (the router's Deploy Requested route, `fleetops
 * deploy`, tests): id `deploy-<cluster>-<service>` (one deploy per service at a time), the `fleetops`
 * task queue, the search attributes operators filter on, and the summary the Web UI lists. A finished
 * deploy's id may be reused by the next deploy. Spread the rest into `client.workflow.start(workflowType, …)`.
 */
export function deployStartOptions(input: DeployInput, placement?: { account: string; region: string }) {
  const typedSearchAttributes: SearchAttributePair[] = [
    { key: FleetopsKind, value: 'deploy' },
    { key: FleetopsCluster, value: input.cluster },
    { key: FleetopsService, value: input.service },
    ...placementAttributes(placement),
  ];
  const by = input.requestedBy !== undefined ? ` (by ${input.requestedBy})` : '';
  return {
    workflowType: DEPLOY_WORKFLOW_TYPE,
    workflowId: deployWorkflowId(input.cluster, input.service),
    taskQueue: TASK_QUEUE_DEFAULT,
    args: [input] as [DeployInput],
    typedSearchAttributes,
    staticSummary: `Canary deploy of ${input.cluster}/${input.service} to ${input.image ?? input.taskDefinition}${by}`,
    workflowIdReusePolicy: 'ALLOW_DUPLICATE' as WorkflowIdReusePolicy,
  };
}
