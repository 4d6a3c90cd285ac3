import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { NotificationActivities } from '../../activities/notifications';
import type { ReleaseActivities } from '../../activities/release';
import { NON_RETRYABLE_FAILURE_TYPES } from '../../common/failures';

/** The release's activity option sets, stated once. */

const RETRY: ActivityOptions['retry'] = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '30 seconds',
  maximumAttempts: 6,
  nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES,
};

/** Freezes and the deploys it follows by polling: a failed look is retried at the next poll, so a few tries each. */
export const { findFrozenClusters, deployRuns } = proxyActivities<ReleaseActivities>({ startToCloseTimeout: '1 minute', retry: RETRY });

/** Telling people: a few tries only, the release goes on without them. */
export const { notify } = proxyActivities<NotificationActivities>({ startToCloseTimeout: '15 seconds', retry: { ...RETRY, maximumAttempts: 3 } });
