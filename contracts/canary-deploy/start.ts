import type { SearchAttributePair, WorkflowIdReusePolicy } from '@temporalio/common';
import { FleetopsCluster, FleetopsKind, FleetopsService, placementAttributes } from '../../common/search-attributes';
import { deployWorkflowId } from '../../common/workflow-ids';
import type { DeployInput } from './input';
import { WORKFLOWS } from '../registry';

/** The canary deploy's workflow type as registered (contracts/registry.ts). */
export const DEPLOY_WORKFLOW_TYPE = WORKFLOWS.canaryDeploy.type;

/**
 * Start options every starter of a canary deploy uses (the router's Deploy Requested route, `fleetops
 * deploy`, tests): id `deploy-<cluster>-<service>` (one deploy per service at a time), the `fleetops`
 * task queue, the search attributes operators filter on, and the summary the Web UI lists. A finished
 * deploy's id may be reused by the next deploy. Spread the rest into `client.workflow.start(workflowType, …)`.
 */
export function deployStartOptions(input: DeployInput, placement?: { account: string; region: string }) {
  const typedSearchAttributes: SearchAttributePair[] = [
    { key: FleetopsKind, value: WORKFLOWS.canaryDeploy.kind },
    { key: FleetopsCluster, value: input.cluster },
    { key: FleetopsService, value: input.service },
    ...placementAttributes(placement),
  ];
  const by = input.requestedBy !== undefined ? ` (by ${input.requestedBy})` : '';
  return {
    workflowType: DEPLOY_WORKFLOW_TYPE,
    workflowId: deployWorkflowId(input.cluster, input.service),
    taskQueue: WORKFLOWS.canaryDeploy.taskQueue,
    args: [input] as [DeployInput],
    typedSearchAttributes,
    staticSummary: `Canary deploy of ${input.cluster}/${input.service} to ${input.image ?? input.taskDefinition}${by}`,
    workflowIdReusePolicy: 'ALLOW_DUPLICATE' as WorkflowIdReusePolicy,
  };
}
