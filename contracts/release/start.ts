import type { SearchAttributePair, WorkflowIdReusePolicy } from '@temporalio/common';
import { FleetopsKind } from '../../common/search-attributes';
import { releaseWorkflowId } from '../../common/workflow-ids';
import type { ReleaseInput } from './input';
import { WORKFLOWS } from '../registry';

/** The release's workflow type as registered (contracts/registry.ts). */
export const RELEASE_WORKFLOW_TYPE = WORKFLOWS.release.type;

/**
 * Start options every starter of a release uses (`fleetops release start`, the router's Release
 * Requested route, tests): id `release-<id>`, the `fleetops` task queue (its deploys run as its children
 * there), `FleetopsKind = release`. An id names one change: a finished release's id is not reused, so a
 * redelivered request cannot run a release twice.
 */
export function releaseStartOptions(input: ReleaseInput) {
  const typedSearchAttributes: SearchAttributePair[] = [{ key: FleetopsKind, value: WORKFLOWS.release.kind }];
  const by = input.requestedBy !== undefined ? ` (by ${input.requestedBy})` : '';
  const n = input.targets.length;
  return {
    workflowType: RELEASE_WORKFLOW_TYPE,
    workflowId: releaseWorkflowId(input.id),
    taskQueue: WORKFLOWS.release.taskQueue,
    args: [input] as [ReleaseInput],
    typedSearchAttributes,
    staticSummary: `Release ${input.id}: ${input.change} to ${n} service${n === 1 ? '' : 's'}${by}`.slice(0, 200),
    workflowIdReusePolicy: 'REJECT_DUPLICATE' as WorkflowIdReusePolicy,
  };
}
