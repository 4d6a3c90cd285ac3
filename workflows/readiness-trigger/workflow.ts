import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { ReadinessCalendarActivities } from '../../activities/readiness-calendar';
import { NON_RETRYABLE_FAILURE_TYPES } from '../../common/failures';
import { FleetopsPhase } from '../../common/search-attributes';
import type { ReadinessTriggerInput } from '../../contracts/readiness-trigger/input';
import type { ReadinessTriggerResult } from '../../contracts/readiness-trigger/messages';

const { runReadinessSchedule } = proxyActivities<ReadinessCalendarActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 8, nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES },
});

/**
 * One run of a recurring readiness window's Schedule (contracts/readiness-trigger/start.ts makes it):
 * a little ahead of an occurrence's raise, it starts the due occurrences' windows
 * `readiness-<cluster>-ics-<key>-<yyyymmdd-hhmm>` (each raises its floor on its own timer) and moves
 * the Schedule's horizon on, all in one activity. FleetopsPhase: `started` when it started a window,
 * `refused` when the config refused the cluster or level, `unchanged` otherwise. The windows are
 * followed under their own ids.
 */
export async function readinessTrigger(input: ReadinessTriggerInput): Promise<ReadinessTriggerResult> {
  const result = await runReadinessSchedule(input);
  const started = result.rows.some((r) => r.kind === 'window' && r.outcome === 'created');
  const refused = result.rows.some((r) => r.outcome === 'refused');
  upsertSearchAttributes([{ key: FleetopsPhase, value: started ? 'started' : refused ? 'refused' : 'unchanged' }]);
  return result;
}
