import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import { NON_RETRYABLE_FAILURE_TYPES } from '../../common/failures';
import type { ScheduledReleaseActivities } from '../../activities/release/scheduled';
import type { ReleaseTriggerInput, ReleaseTriggerResult } from '../../contracts/release-trigger/input';
import { finishScheduledStart } from '../lib/scheduled-start';

const releases = proxyActivities<ScheduledReleaseActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 8, nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES },
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
  await finishScheduledStart(result, {
    kind: 'release',
    what: `release ${input.request.id}`,
    text: `The scheduled release (${input.request.change})`,
    scheduleId: input.scheduleId,
    requestedBy: input.request.requestedBy,
  });
  return result;
}
