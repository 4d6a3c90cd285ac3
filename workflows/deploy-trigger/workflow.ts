import { log, proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { NON_RETRYABLE_FAILURE_TYPES } from '../../common/failures';
import { FleetopsPhase } from '../../common/search-attributes';
import type { ScheduledDeployActivities } from '../../activities/deploy/scheduled';
import type { NotificationActivities } from '../../activities/notifications';
import type { DeployTriggerInput, DeployTriggerResult } from '../../contracts/deploy-trigger/input';

const deploys = proxyActivities<ScheduledDeployActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 8, nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES },
});

const notifications = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '2 seconds', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES },
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
  const { cluster, service } = input.request;
  if ('started' in result) {
    upsertSearchAttributes([{ key: FleetopsPhase, value: 'started' }]);
    return result;
  }
  upsertSearchAttributes([{ key: FleetopsPhase, value: 'refused' }]);
  try {
    await notifications.notify({
      kind: 'deploy',
      workflowId,
      title: `scheduled deploy ${cluster}/${service}: refused`,
      text: `The scheduled deploy of ${input.request.image ?? input.request.taskDefinition ?? '?'} did not start: ${result.refused.reason}`,
      idempotencyKey: `${workflowId}/${runId}/refused`,
      fields: {
        schedule: input.scheduleId,
        ...(input.request.requestedBy !== undefined ? { 'requested by': input.request.requestedBy } : {}),
        'next run': 'unaffected',
      },
    });
  } catch (err) {
    // Telling is best effort: a webhook that stays down must not turn the refusal into a failed run.
    log.warn('scheduled deploy refusal not delivered', { error: err instanceof Error ? err.message : String(err) });
  }
  return result;
}
