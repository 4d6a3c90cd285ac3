import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE_FAILURE_TYPES } from '../../common/failures';
import type { DeployActivities } from '../../activities/deploy';
import type { NotificationActivities } from '../../activities/notifications';

/** The deploy's activity option sets, stated once. */

const AWS_RETRY: ActivityOptions['retry'] = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '30 seconds',
  maximumAttempts: 8,
  nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES,
};

/** The forward path's AWS calls. */
export const aws = proxyActivities<DeployActivities>({ startToCloseTimeout: '1 minute', retry: AWS_RETRY });

/** Compensations get more patience: a rollback that gives up asks for an incident. */
export const compensations = proxyActivities<DeployActivities>({
  startToCloseTimeout: '1 minute',
  retry: { ...AWS_RETRY, maximumAttempts: 12, maximumInterval: '1 minute' },
});

export const notifications = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '2 seconds', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES },
});
