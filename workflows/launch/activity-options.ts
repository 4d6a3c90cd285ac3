import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE_FAILURE_TYPES } from '../../common/failures';
import type { LaunchActivities } from '../../activities/launch';

/**
 * How the launch runs its activities. One wait covers at most WAIT_SLICE_MS, so status shows what the
 * cluster says of the instance and an abort is never far; the lifecycle calls retry for a minute.
 */
export const WAIT_SLICE_MS = 60_000;

const RETRY: ActivityOptions['retry'] = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '10s',
  nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES,
};

/** The wait heartbeats on every poll; a dead worker is noticed after 20 s and the wait goes on elsewhere. */
export function waitSlice(sliceMs: number): LaunchActivities {
  return proxyActivities<LaunchActivities>({
    // Retries of a failing poll end with the slice; the next slice starts over, until the deadline.
    scheduleToCloseTimeout: sliceMs + 30_000,
    startToCloseTimeout: sliceMs + 30_000,
    heartbeatTimeout: 20_000,
    retry: RETRY,
  });
}

export const lifecycleCalls = proxyActivities<LaunchActivities>({
  scheduleToCloseTimeout: 60_000,
  startToCloseTimeout: 15_000,
  retry: RETRY,
});
