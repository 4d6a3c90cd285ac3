import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { ReadinessCalendarActivities } from '../../activities/readiness-calendar';
import { NON_RETRYABLE_FAILURE_TYPES } from '../../common/failures';
import { FleetopsPhase } from '../../common/search-attributes';
import type { ReadinessFeedInput } from '../../contracts/readiness-feed/input';
import type { ReadinessFeedResult } from '../../contracts/readiness-feed/messages';

/** A few tries: the Schedule polls again in minutes anyway. */
const { importReadinessFeed } = proxyActivities<ReadinessCalendarActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES },
});

/**
 * One poll of a readiness feed (contracts/readiness-feed/start.ts makes its Schedule,
 * `readiness-feed-<name>`): reads the feed and imports it as `fleetops readiness import` did, in one
 * activity. A feed that cannot be read or parsed fails the run (visible in the Schedule's recent
 * actions); its windows stay as they are until a poll reads it again. FleetopsPhase `imported`.
 */
export async function readinessFeed(input: ReadinessFeedInput): Promise<ReadinessFeedResult> {
  const result = await importReadinessFeed(input);
  upsertSearchAttributes([{ key: FleetopsPhase, value: 'imported' }]);
  return result;
}
