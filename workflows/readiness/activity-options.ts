import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { CapacityActivities } from '../../activities/capacity';
import type { IncidentActivities } from '../../activities/incident';
import type { NotificationActivities } from '../../activities/notifications';
import type { ReadinessActivities } from '../../activities/readiness';
import { NON_RETRYABLE_FAILURE_TYPES } from '../../common/failures';

/** The readiness workflow's activity option sets, stated once. */

const RETRY: ActivityOptions['retry'] = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '20s',
  maximumAttempts: 6,
  nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES,
};

/** Reading the cluster's units (describeCapacity) for a factor floor and the ACTIVE check. */
export const { describeCapacity } = proxyActivities<CapacityActivities>({ startToCloseTimeout: '60s', retry: RETRY });
/** Holding and releasing the floor: retried until it lands, a floor that is never sent prepares nothing. */
export const { sendReadinessFloor } = proxyActivities<ReadinessActivities>({ startToCloseTimeout: '30s', retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '60s', nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES } });
/** Telling people: a few tries only, the window goes on without them. */
export const { notify } = proxyActivities<NotificationActivities>({ startToCloseTimeout: '30s', retry: { ...RETRY, maximumAttempts: 3 } });
export const { openIncidentFromAutomation } = proxyActivities<IncidentActivities>({ startToCloseTimeout: '30s', retry: { ...RETRY, maximumAttempts: 3 } });
