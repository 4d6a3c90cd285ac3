import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../common/failures';
import { DeployRequestRefused, deployStartFor } from '../../contracts/canary-deploy/request';
import type { DeployTriggerInput, DeployTriggerRefusal, DeployTriggerResult } from '../../contracts/deploy-trigger/input';
import { deployWorkflowId } from '../../common/workflow-ids';
import type { ActivityDeps } from '../deps';
import { createDeployIncidentActivities } from './incidents';
import { readinessFreezeReason } from '../../contracts/readiness/freeze';
import { createReadinessFreezeActivities } from './readiness-freeze';

/**
 * The memo key a deploy started by a trigger carries: the trigger's `<workflow id>/<run id>` (two manual
 * triggers in one second share a workflow id), so a retried start knows its own deploy.
 */
export const SCHEDULED_BY_MEMO = 'scheduledBy';

/**
 * The scheduled deploy's start (workflows/deploy-trigger/): the same start as `fleetops deploy`'s, at the
 * time the Schedule fires.
 */
export function createScheduledDeployActivities(deps: Pick<ActivityDeps, 'config' | 'temporal'>) {
  const incidents = createDeployIncidentActivities(deps);
  const readiness = createReadinessFreezeActivities(deps);

  /**
   * Why deploys to the cluster are frozen now, or undefined: an open sev1/sev2 incident, or a readiness
   * window whose level freezes deploys, each with its own reason (the queries the deploy's own
   * preflight makes). The deploy checks again in its preflight, so a freeze that begins between the
   * two still refuses it.
   */
  async function freezeRefusal(cluster: string): Promise<DeployTriggerRefusal | undefined> {
    const open = await incidents.findBlockingIncidents({ cluster });
    if (open.length > 0) {
      const list = open.map((i) => `${i.workflowId} (${i.severity}${i.phase ? `, ${i.phase}` : ''})`).join(', ');
      return { field: 'freeze', reason: `deploys to ${cluster} are frozen while incidents are open: ${list}` };
    }
    const windows = await readiness.findFreezingWindows({ cluster });
    return windows.length > 0 ? { field: 'freeze', reason: readinessFreezeReason(cluster, windows) } : undefined;
  }

  return {
    /**
     * Starts `deploy-<cluster>-<service>` through deployStartFor (the service and image policy, the
     * approvers from today's config), unless deploys to the cluster are frozen (skipped with `force`,
     * as the deploy skips it) or a deploy of the service is running. A refusal is returned, not thrown:
     * it is the run's outcome. Idempotent: a retry after a start whose answer was lost finds its deploy
     * by the memo and reports it started.
     */
    async startScheduledDeploy(args: { trigger: DeployTriggerInput; triggerRun: string }): Promise<DeployTriggerResult> {
      if (!deps.temporal) {
        throw ApplicationFailure.nonRetryable('this worker has no Temporal client to start scheduled deploys (ActivityDeps.temporal)', FailureType.InvalidRequest);
      }
      const { client } = deps.temporal;
      const { request, requireGate } = args.trigger;
      const deployId = deployWorkflowId(request.cluster, request.service);
      let options: ReturnType<typeof deployStartFor>;
      try {
        options = deployStartFor(deps.config, request, requireGate ? { requireGate: true } : {});
      } catch (err) {
        if (err instanceof DeployRequestRefused) return { refused: { field: err.field, reason: err.message }, deployWorkflowId: deployId };
        throw err;
      }
      if (!request.force) {
        const frozen = await freezeRefusal(request.cluster);
        if (frozen) return { refused: frozen, deployWorkflowId: deployId };
      }
      const { workflowType, ...start } = options;
      try {
        const handle = await client.workflow.start(workflowType, {
          ...start,
          workflowIdConflictPolicy: 'FAIL',
          memo: { [SCHEDULED_BY_MEMO]: args.triggerRun },
        });
        return { started: { workflowId: handle.workflowId, runId: handle.firstExecutionRunId } };
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        const running = await client.workflow.getHandle(start.workflowId).describe();
        const memo = running.memo ?? {};
        if (memo[SCHEDULED_BY_MEMO] === args.triggerRun) return { started: { workflowId: running.workflowId, runId: running.runId } };
        return { refused: { field: 'running', reason: `a deploy of ${request.cluster}/${request.service} is already running: ${start.workflowId}` }, deployWorkflowId: deployId };
      }
    },
  };
}

export type ScheduledDeployActivities = ReturnType<typeof createScheduledDeployActivities>;
