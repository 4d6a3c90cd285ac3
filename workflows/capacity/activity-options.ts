import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { CapacityActivities } from '../../activities/capacity';
import type { IncidentActivities } from '../../activities/incident';
import type { NotificationActivities } from '../../activities/notifications';
import { NON_RETRYABLE_FAILURE_TYPES } from '../../common/failures';

/** The capacity workflow's activity option sets, stated once. */

const RETRY: ActivityOptions['retry'] = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '20s',
  maximumAttempts: 6,
  nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES,
};

/** Single AWS calls (describe, CreateFleet, ModifySpotFleetRequest, SetDesiredCapacity, terminate). */
export const aws = proxyActivities<CapacityActivities>({ startToCloseTimeout: '60s', retry: RETRY });

/** Polling waits; each returns at its own timeout argument, and heartbeats every poll. */
export const waits = proxyActivities<CapacityActivities>({ startToCloseTimeout: '30m', heartbeatTimeout: '30s', retry: RETRY });

/**
 * Telling people a failing episode persists: a few tries only, since the workflow asks again at its
 * next failed attempt and must not sit on a webhook outage while AWS recovers.
 */
export const { notify } = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '30s',
  retry: { ...RETRY, maximumAttempts: 3 },
});
export const { openIncidentFromAutomation } = proxyActivities<IncidentActivities>({
  startToCloseTimeout: '30s',
  retry: { ...RETRY, maximumAttempts: 3 },
});
