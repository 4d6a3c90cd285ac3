import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { fetchCalendarFeed, FeedReadError } from '../common/calendar-feed';
import { FailureType } from '../common/failures';
import { CalendarInvalid } from '../contracts/readiness/ical';
import type { ImportRow } from '../contracts/readiness/ical-plan';
import { importFeedCalendar, runRecurringWindow } from '../contracts/readiness/ical-run';
import { readinessFeedInputSchema, type ReadinessFeedInput } from '../contracts/readiness-feed/input';
import type { ReadinessFeedResult } from '../contracts/readiness-feed/messages';
import { readinessTriggerInputSchema, type ReadinessTriggerInput } from '../contracts/readiness-trigger/input';
import type { ReadinessTriggerResult } from '../contracts/readiness-trigger/messages';
import type { ActivityDeps } from './deps';

/** Rows a feed's result keeps: what was done or refused, not every unchanged window. */
const KEEP_ROWS = 100;

/** Input from a Schedule's action, written by an earlier version perhaps: checked as any edge's. */
function checked<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: Error } }, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw ApplicationFailure.nonRetryable(`${what}: ${r.error.message}`, FailureType.InvalidRequest);
  return r.data;
}

/**
 * The runs that keep imported readiness windows in line (workflows/readiness-trigger/ and
 * workflows/readiness-feed/): the same import as `fleetops readiness import`
 * (contracts/readiness/ical-*.ts), with the worker's config and the activity's Temporal client.
 */
export function createReadinessCalendarActivities(deps: Pick<ActivityDeps, 'config' | 'fetch' | 'temporal'>) {
  const client = () => deps.temporal?.client ?? Context.current().client;
  return {
    /** A recurring window's Schedule fired: start its due occurrences, roll its horizon on. */
    async runReadinessSchedule(raw: ReadinessTriggerInput): Promise<ReadinessTriggerResult> {
      const input = checked(readinessTriggerInputSchema, raw, 'readiness trigger input');
      try {
        return { rows: await runRecurringWindow(client(), input, deps.config, { now: new Date(), by: input.scheduleId }) };
      } catch (err) {
        if (err instanceof CalendarInvalid) throw ApplicationFailure.nonRetryable(err.message, FailureType.InvalidRequest);
        throw err;
      }
    },

    /** A feed's poll: read it (bounded in time and size) and import it; what it no longer has is retired. */
    async importReadinessFeed(raw: ReadinessFeedInput): Promise<ReadinessFeedResult> {
      const input = checked(readinessFeedInputSchema, raw, 'readiness feed input');
      let rows: ImportRow[];
      try {
        const ics = await fetchCalendarFeed(input.url, deps.fetch ? { fetch: deps.fetch } : {});
        rows = await importFeedCalendar(client(), ics, input, deps.config, { now: new Date(), by: `feed:${input.feed}` });
      } catch (err) {
        // A 404, a calendar too large or not a calendar stays so on a retry: the next poll tries again.
        if ((err instanceof FeedReadError && !err.transient) || err instanceof CalendarInvalid) throw ApplicationFailure.nonRetryable(err.message, FailureType.InvalidRequest);
        throw err;
      }
      const counts: ReadinessFeedResult['counts'] = {};
      for (const r of rows) counts[r.outcome] = (counts[r.outcome] ?? 0) + 1;
      return { counts, rows: rows.filter((r) => r.outcome !== 'unchanged').slice(0, KEEP_ROWS) };
    },
  };
}

export type ReadinessCalendarActivities = ReturnType<typeof createReadinessCalendarActivities>;
