import { proxyActivities } from '@temporalio/workflow';
import { NON_RETRYABLE_FAILURE_TYPES } from '../../common/failures';
import type { DrainActivities } from '../../activities/drain';

/**
 * The coordinator's one activity. Short retries within a minute: a warning's instance has two, and
 * each instance's own drain sets DRAINING too, so a batch that cannot get through is given up and
 * left to them rather than retried past the point where it would help.
 */
export const atOnce = proxyActivities<Pick<DrainActivities, 'setDrainingAtOnce'>>({
  // Ahead of every drain's activity in the task queue's backlog (1 is the highest priority, 3 the
  // default the drains have): the call that sets a whole storm DRAINING must not wait behind them.
  priority: { priorityKey: 1 },
  scheduleToCloseTimeout: '60s',
  startToCloseTimeout: '20s',
  retry: { initialInterval: '250ms', backoffCoefficient: 2, maximumInterval: '2s', nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES },
});
