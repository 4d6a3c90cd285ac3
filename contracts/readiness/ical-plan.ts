import { clusterWorkflowPlacement } from '../../config/placement';
import type { FleetopsConfig } from '../../config/schema';
import type { CalendarDefaults, ReadinessTriggerInput } from '../readiness-trigger/input';
import { readinessScheduleId } from '../readiness-trigger/start';
import { icsKey, type CalendarEvent, type CalendarOccurrence, type ParsedCalendar } from './ical';
import { readinessInputSchema, type ReadinessInput } from './input';
import { checkReadinessAuthority, ReadinessRefused, readinessLevelFrom } from './level-from-config';

/**
 * What importing a calendar should leave running, from its parsed events (contracts/readiness/ical.ts)
 * and the config: the windows (a one-off event's, a recurring event's occurrences) and one Schedule per
 * recurring event and cluster. Pure: contracts/readiness/ical-apply.ts makes it so on Temporal.
 */

/** How long before an occurrence's raise its window is started: the window itself raises on its own timer, so early is harmless and late is not. */
export const TRIGGER_AHEAD_MS = 30_000;

/** `ics-<key>` for a one-off event, `ics-<key>-<yyyymmdd-hhmm>` for an occurrence of a recurring one (its RECURRENCE-ID, UTC). */
export const icsWindowId = (key: string, recurrence?: string): string => (recurrence === undefined ? `ics-${key}` : `ics-${key}-${recurrence}`);

export type ImportOutcome = 'created' | 'changed' | 'unchanged' | 'cancelled' | 'deleted' | 'skipped' | 'refused';

/** One line of an import's report: a window, a recurring window's Schedule, the feed's Schedule, or an event that is none of them. */
export interface ImportRow {
  kind: 'window' | 'recurring' | 'feed' | 'event';
  /** The workflow id, the Schedule id, or the event's UID. */
  id: string;
  cluster: string | null;
  outcome: ImportOutcome;
  /** A window's times; a Schedule's next occurrence. */
  start: string | null;
  end: string | null;
  level: number | null;
  summary: string;
  note?: string;
}

/** A window the calendar wants: `due` ones are started now, the others only changed if already running. */
export interface PlannedWindow {
  input: ReadinessInput;
  /** The event's key and the feed that keeps it: the window's memo, how a later import finds it. */
  key: string;
  feed?: string;
  due: boolean;
  occurrence: CalendarOccurrence;
}

export interface PlannedSchedule {
  scheduleId: string;
  trigger: ReadinessTriggerInput;
  /** The next occurrence, for the report. */
  next: CalendarOccurrence;
}

export interface ImportPlan {
  windows: PlannedWindow[];
  schedules: PlannedSchedule[];
  /** Events that are skipped (over, cancelled, unreadable) and clusters refused. */
  rows: ImportRow[];
  /** The keys of every event read: what an import of a file may cancel (a feed's import may cancel anything of the feed). */
  keys: string[];
  /** Keys of events that could not be read or were refused on a cluster: their windows and Schedules are left as they are. */
  heldKeys: string[];
  /** Every cluster an event names: the authority the importer needs. */
  clusters: string[];
}

const eventRow = (e: { uid: string; summary: string }, outcome: ImportOutcome, note: string): ImportRow => ({
  kind: 'event',
  id: e.uid,
  cluster: null,
  outcome,
  start: null,
  end: null,
  level: null,
  summary: e.summary,
  note,
});

/** The level of `cluster` (the authority checked first), or the refusal's message. */
function levelOf(config: FleetopsConfig, cluster: string, level: number): ReturnType<typeof readinessLevelFrom> | string {
  try {
    checkReadinessAuthority(config, [cluster]);
    return readinessLevelFrom(config, cluster, level);
  } catch (err) {
    if (err instanceof ReadinessRefused) return err.message;
    throw err;
  }
}

/** The event's windows on every cluster its occurrences name, and the refusals (once per cluster and level). */
/** A feed's event naming a cluster its set-up was not checked for: refused, as the command would. */
function notAuthorised(cluster: string, d: CalendarDefaults): string {
  return `${cluster} is not among the clusters feed ${d.feed ?? ''} was set up for (${(d.authorisedClusters ?? []).join(', ') || 'none'}): import it again with that cluster to allow it`;
}

function windowsOf(event: CalendarEvent, d: CalendarDefaults, config: FleetopsConfig, now: number, rows: ImportRow[]): PlannedWindow[] {
  const out: PlannedWindow[] = [];
  const refused = new Set<string>();
  for (const o of event.occurrences) {
    const level = o.level ?? d.level;
    for (const cluster of o.clusters ?? d.clusters) {
      const resolved = d.authorisedClusters !== undefined && !d.authorisedClusters.includes(cluster) ? notAuthorised(cluster, d) : levelOf(config, cluster, level);
      if (typeof resolved === 'string') {
        if (!refused.has(`${cluster}/${level}`)) rows.push({ ...eventRow(event, 'refused', resolved), cluster, level });
        refused.add(`${cluster}/${level}`);
        continue;
      }
      const placement = clusterWorkflowPlacement(config, cluster);
      const input = readinessInputSchema.parse({
        cluster,
        id: icsWindowId(event.key, event.recurring ? o.recurrence : undefined),
        start: o.start,
        end: o.end,
        ...(event.timeZone !== undefined ? { timeZone: event.timeZone } : {}),
        reason: o.summary,
        level: resolved,
        ...(d.requestedBy !== undefined ? { requestedBy: d.requestedBy } : {}),
        ...(placement ? { placement } : {}),
      });
      const raiseAt = Date.parse(o.start) - resolved.leadSeconds * 1000;
      out.push({ input, key: event.key, ...(d.feed !== undefined ? { feed: d.feed } : {}), due: !event.recurring || raiseAt - TRIGGER_AHEAD_MS <= now, occurrence: o });
    }
  }
  return out;
}

/** A recurring event's Schedule on each cluster that has occurrences still to start. */
function schedulesOf(event: CalendarEvent, windows: PlannedWindow[], d: CalendarDefaults): PlannedSchedule[] {
  if (!event.recurring || event.source === undefined) return [];
  const clusters = [...new Set(windows.map((w) => w.input.cluster))];
  return clusters.flatMap((cluster) => {
    const ahead = windows.filter((w) => w.input.cluster === cluster && !w.due);
    if (ahead.length === 0) return [];
    const first = ahead[0]!;
    const scheduleId = readinessScheduleId(cluster, icsWindowId(event.key));
    const trigger: ReadinessTriggerInput = {
      scheduleId,
      cluster,
      key: event.key,
      calendar: event.source!,
      defaults: d,
      summary: event.summary,
      ...(event.rule !== undefined ? { rule: event.rule } : {}),
      ...(event.timeZone !== undefined ? { timeZone: event.timeZone } : {}),
      level: first.input.level.level,
      raiseAt: ahead.map((w) => new Date(Date.parse(w.input.start) - w.input.level.leadSeconds * 1000).toISOString()),
    };
    return [{ scheduleId, trigger, next: first.occurrence }];
  });
}

/** The import's plan at `now`: every event read, with the defaults for what it does not say. */
export function planImport(calendar: ParsedCalendar, d: CalendarDefaults, config: FleetopsConfig, now: Date): ImportPlan {
  const plan: ImportPlan = { windows: [], schedules: [], rows: [], keys: [], heldKeys: [], clusters: [...d.clusters] };
  for (const p of calendar.problems) {
    plan.rows.push(eventRow(p, 'skipped', p.reason));
    if (p.uid !== '') plan.heldKeys.push(icsKey(p.uid));
  }
  for (const event of calendar.events) {
    plan.keys.push(event.key);
    for (const o of event.occurrences) plan.clusters.push(...(o.clusters ?? []));
    if (event.cancelled) {
      plan.rows.push(eventRow(event, 'skipped', 'cancelled in the calendar'));
      continue;
    }
    if (event.occurrences.length === 0) {
      plan.rows.push(eventRow(event, 'skipped', event.recurring ? 'no occurrence ahead' : 'over'));
      continue;
    }
    if (event.occurrences.every((o) => (o.clusters ?? d.clusters).length === 0)) {
      plan.rows.push(eventRow(event, 'skipped', 'no cluster: give clusters to the command or X-FLEETOPS-CLUSTERS to the event'));
      continue;
    }
    const refusals = plan.rows.length;
    const windows = windowsOf(event, d, config, now.getTime(), plan.rows);
    if (plan.rows.length > refusals) plan.heldKeys.push(event.key);
    plan.windows.push(...windows);
    plan.schedules.push(...schedulesOf(event, windows, d));
  }
  plan.clusters = [...new Set(plan.clusters)];
  return plan;
}
