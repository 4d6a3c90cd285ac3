import { log, proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { NON_RETRYABLE_FAILURE_TYPES } from '../../common/failures';
import { FleetopsPhase } from '../../common/search-attributes';
import type { ScheduledReleaseActivities } from '../../activities/release/scheduled';
import type { NotificationActivities } from '../../activities/notifications';
import type { ReleaseTriggerInput, ReleaseTriggerResult } from '../../contracts/release-trigger/input';

const releases = proxyActivities<ScheduledReleaseActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 8, nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES },
});

const notifications = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '2 seconds', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES },
});

/**
 * One run of a scheduled release (contracts/release-trigger/start.ts makes its Schedule): starts
 * `release-<id>-<yyyymmdd-hhmm>` through the release's own start path and checks, and ends. The minute
 * is the run's start (recorded in history, so a retried activity names the same release). A refusal
 * (the config refuses a service or an image, the id is taken) starts nothing, tells the requester, and
 * ends the run successfully with FleetopsPhase `refused`, so the Schedule's next time is taken as usual.
 * The release is followed, approved and rolled back under its own id.
 */
export async function releaseTrigger(input: ReleaseTriggerInput): Promise<ReleaseTriggerResult> {
  const { workflowId, runId, runStartTime } = workflowInfo();
  const result = await releases.startScheduledRelease({ trigger: input, triggerRun: `${workflowId}/${runId}`, at: runStartTime.toISOString() });
  if ('started' in result) {
    upsertSearchAttributes([{ key: FleetopsPhase, value: 'started' }]);
    return result;
  }
  upsertSearchAttributes([{ key: FleetopsPhase, value: 'refused' }]);
  try {
    await notifications.notify({
      kind: 'release',
      workflowId,
      title: `scheduled release ${input.request.id}: refused`,
      text: `The scheduled release (${input.request.change}) did not start: ${result.refused.reason}`,
      idempotencyKey: `${workflowId}/${runId}/refused`,
      fields: {
        schedule: input.scheduleId,
        ...(input.request.requestedBy !== undefined ? { 'requested by': input.request.requestedBy } : {}),
        'next run': 'unaffected',
      },
    });
  } catch (err) {
    // Telling is best effort: a webhook that stays down must not turn the refusal into a failed run.
    log.warn('scheduled release refusal not delivered', { error: err instanceof Error ? err.message : String(err) });
  }
  return result;
}
