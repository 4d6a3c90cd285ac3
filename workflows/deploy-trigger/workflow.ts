import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import { NON_RETRYABLE_FAILURE_TYPES } from '../../common/failures';
import type { ScheduledDeployActivities } from '../../activities/deploy/scheduled';
import type { DeployTriggerInput, DeployTriggerResult } from '../../contracts/deploy-trigger/input';
import { finishScheduledStart } from '../lib/scheduled-start';

const deploys = proxyActivities<ScheduledDeployActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 8, nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES },
});

/**
 * One run of a scheduled deploy (contracts/deploy-trigger/start.ts makes its Schedule): starts
 * `deploy-<cluster>-<service>` through the deploy's own start path and checks, and ends. A refusal (the
 * freeze, the image policy, a deploy already running) starts nothing, tells the requester, and ends the
 * run successfully with the refusal as its result and FleetopsPhase `refused`, so the Schedule's next
 * time is taken as usual. The deploy itself is followed under its own id, not here: it may wait hours at
 * a gate.
 */
export async function deployTrigger(input: DeployTriggerInput): Promise<DeployTriggerResult> {
  const { workflowId, runId } = workflowInfo();
  const result = await deploys.startScheduledDeploy({ trigger: input, triggerRun: `${workflowId}/${runId}` });
  const { cluster, service, image, taskDefinition, requestedBy } = input.request;
  await finishScheduledStart(result, {
    kind: 'deploy',
    what: `deploy ${cluster}/${service}`,
    text: `The scheduled deploy of ${image ?? taskDefinition ?? '?'}`,
    scheduleId: input.scheduleId,
    requestedBy,
  });
  return result;
}
