import type { Client } from '@temporalio/client';
import type { FleetopsConfig } from '../../config/schema';
import type { ReadinessTriggerInput } from '../readiness-trigger/input';
import { parseReadinessCalendar } from './ical';
import { applyImport, deleteSchedule, upsertSchedule, upsertWindow, type ApplyOptions } from './ical-apply';
import { planImport, type ImportRow } from './ical-plan';

/**
 * The two runs that keep imported windows in line after the command: a feed's poll (the whole
 * calendar again) and a recurring window's trigger (its one event again, at the Schedule's time).
 */

/** A feed's calendar imported as the command imported it; windows of the feed it no longer has are retired. Throws CalendarInvalid. */
export async function importFeedCalendar(
  client: Client,
  ics: string,
  feed: { feed: string; defaults: ReadinessTriggerInput['defaults'] },
  config: FleetopsConfig,
  opts: ApplyOptions,
): Promise<ImportRow[]> {
  const calendar = parseReadinessCalendar(ics, { now: opts.now, ...(feed.defaults.floatingZone !== undefined ? { floatingZone: feed.defaults.floatingZone } : {}) });
  return applyImport(client, planImport(calendar, feed.defaults, config, opts.now), { feed: feed.feed }, opts);
}

/**
 * One run of a recurring window's Schedule: its event expanded again at `now`, the occurrences on its
 * cluster whose raise is due started (an occurrence already started is left as it is), and its
 * Schedule rewritten with the occurrences ahead, or deleted when none is left. The config of today
 * decides the level and the authority, as it would for an import now.
 */
export async function runRecurringWindow(client: Client, input: ReadinessTriggerInput, config: FleetopsConfig, opts: ApplyOptions): Promise<ImportRow[]> {
  const calendar = parseReadinessCalendar(input.calendar, { now: opts.now, ...(input.defaults.floatingZone !== undefined ? { floatingZone: input.defaults.floatingZone } : {}) });
  const plan = planImport(calendar, input.defaults, config, opts.now);
  const rows = plan.rows.filter((r) => r.cluster === null || r.cluster === input.cluster);
  for (const w of plan.windows) if (w.input.cluster === input.cluster && w.due) rows.push(await upsertWindow(client, w, opts));
  const mine = plan.schedules.find((s) => s.scheduleId === input.scheduleId);
  // Refused on this cluster (its authority or level gone from the config), or unreadable: the Schedule
  // stays as it is until the config or the calendar says otherwise.
  if (rows.some((r) => r.outcome === 'refused') || calendar.problems.length > 0) return rows;
  if (mine) rows.push(await upsertSchedule(client, mine, opts));
  else {
    await deleteSchedule(client, input.scheduleId);
    rows.push({ kind: 'recurring', id: input.scheduleId, cluster: input.cluster, outcome: 'deleted', start: null, end: null, level: input.level, summary: input.summary, note: 'no occurrence left to start' });
  }
  return rows;
}
