import { log, proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { NON_RETRYABLE_FAILURE_TYPES } from '../../common/failures';
import { FleetopsPhase } from '../../common/search-attributes';
import type { NotificationActivities } from '../../activities/notifications';

const notifications = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '2 seconds', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES },
});

/** What a refused scheduled start tells its requester. */
export interface RefusalNotice {
  kind: 'deploy' | 'release';
  /** What was scheduled: `deploy demo/web`, `release base-2025`. */
  what: string;
  /** What did not start, before the reason. */
  text: string;
  scheduleId: string;
  requestedBy: string | undefined;
}

/**
 * The end of one run of a Schedule's trigger (scheduled deploys and releases): FleetopsPhase `started`,
 * or `refused` with the requester told. A refusal is the run's result, not its failure, so the
 * Schedule's next time is taken as usual.
 */
export async function finishScheduledStart(result: { started: unknown } | { refused: { reason: string } }, notice: RefusalNotice): Promise<void> {
  if ('started' in result) {
    upsertSearchAttributes([{ key: FleetopsPhase, value: 'started' }]);
    return;
  }
  upsertSearchAttributes([{ key: FleetopsPhase, value: 'refused' }]);
  const { workflowId, runId } = workflowInfo();
  try {
    await notifications.notify({
      kind: notice.kind,
      workflowId,
      title: `scheduled ${notice.what}: refused`,
      text: `${notice.text} did not start: ${result.refused.reason}`,
      idempotencyKey: `${workflowId}/${runId}/refused`,
      fields: { schedule: notice.scheduleId, ...(notice.requestedBy !== undefined ? { 'requested by': notice.requestedBy } : {}), 'next run': 'unaffected' },
    });
  } catch (err) {
    // Telling is best effort: a webhook that stays down must not turn the refusal into a failed run.
    log.warn(`scheduled ${notice.kind} refusal not delivered`, { error: err instanceof Error ? err.message : String(err) });
  }
}
