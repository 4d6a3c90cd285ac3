import { proxyActivities } from '@temporalio/workflow';
import { NON_RETRYABLE_FAILURE_TYPES } from '../../common/failures';
import type { IncidentActivities } from '../../activities/incident';
import type { NotificationActivities } from '../../activities/notifications';

/** The incident's activities, each with its options stated once. */

export const { incidentPolicy, writePostmortem } = proxyActivities<IncidentActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES },
});

/** An update waits on this, so it gives up after a few minutes and the caller can check again. */
export const { fileActionItems } = proxyActivities<IncidentActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES },
});

/** Reading the previous run of the same incident id: a few tries, then the incident opens without the link. */
export const { previousIncident } = proxyActivities<IncidentActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES },
});

/**
 * The postmortem pull request: a few GitHub writes spaced out by the client's throttling. About half an
 * hour of retries; after that the incident closes with the stored copy and says why the PR is missing.
 */
export const { openPostmortemPullRequest } = proxyActivities<IncidentActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', maximumInterval: '5 minutes', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES },
});

/** A page is as urgent as a notification and retried the same way; dedup_key makes a repeat harmless. */
export const { sendPage } = proxyActivities<IncidentActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '5 seconds', maximumInterval: '5 minutes', maximumAttempts: 15, nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES },
});

/** About an hour of retries; a webhook down longer costs that notification (counted in status), not the reminders after it. */
export const { notify } = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '5 seconds', maximumInterval: '5 minutes', maximumAttempts: 15, nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES },
});
