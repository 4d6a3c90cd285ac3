import { createHash } from 'node:crypto';
import ICAL from 'ical.js';
import { z } from 'zod';
import { clusterNameSchema } from '../../common/operator-input';
import { instantOf, isIanaZone } from '../../common/time-zones';
import { isoTimestamp } from '../shared';

/**
 * An iCalendar document (RFC 5545) as readiness windows read it: each VEVENT with its occurrences,
 * parsed and expanded by ical.js (VTIMEZONE, RRULE, RDATE, EXDATE, RECURRENCE-ID overrides). Pure: no
 * I/O, the time is given. What a window takes from an event: SUMMARY (its reason), DTSTART and DTEND or
 * DURATION (its times, in the event's TZID), and the fleetops properties X-FLEETOPS-CLUSTERS (a comma
 * list) and X-FLEETOPS-LEVEL, which override the importer's clusters and level for the event.
 */

/** How far ahead a recurring event's occurrences are expanded (a Schedule holds exact times), and at most how many. */
export const ICS_HORIZON_DAYS = 60;
export const ICS_MAX_OCCURRENCES = 100;
/** Recurrence steps walked per event before giving up: a rule that started long ago, or a FREQ=SECONDLY one. */
const MAX_STEPS = 50_000;
/** A recurring event's own text (kept by its Schedule to expand again) is at most this long. */
export const ICS_MAX_EVENT_SOURCE = 64_000;

const summarySchema = z.string().min(1).max(1000);

export const calendarOccurrenceSchema = z
  .object({
    /** The occurrence as the rule placed it (its RECURRENCE-ID), UTC yyyymmdd-hhmm: it names the window and stays when the occurrence is moved. */
    recurrence: z.string().regex(/^\d{8}-\d{4}$/),
    start: isoTimestamp,
    end: isoTimestamp,
    summary: summarySchema,
    clusters: z.array(clusterNameSchema).min(1).max(50).optional(),
    level: z.number().int().min(1).max(99).optional(),
  })
  .strict();

export const calendarEventSchema = z
  .object({
    uid: z.string().min(1).max(2000),
    /** 8 hex of sha256(UID): the stable part of the event's window ids (`ics-<key>`). */
    key: z.string().regex(/^[0-9a-f]{8}$/),
    recurring: z.boolean(),
    summary: summarySchema,
    /** The RRULE as written, for people reading the Schedule back. */
    rule: z.string().max(1000).optional(),
    /** The DTSTART's TZID (for people; times are absolute). */
    timeZone: z.string().min(1).max(64).optional(),
    /** STATUS:CANCELLED: the event has no window. */
    cancelled: z.boolean(),
    /** Occurrences not over at `now`: a one-off's only one; a recurring event's within the horizon (at least its next one). */
    occurrences: z.array(calendarOccurrenceSchema).max(ICS_MAX_OCCURRENCES),
    /** A recurring event's own VCALENDAR (the event, its overrides and the time zones), which its Schedule expands again. */
    source: z.string().max(ICS_MAX_EVENT_SOURCE).optional(),
  })
  .strict();

export type CalendarOccurrence = z.infer<typeof calendarOccurrenceSchema>;
export type CalendarEvent = z.infer<typeof calendarEventSchema>;

/** An event that cannot become a window, and why (a floating time, a bad X-FLEETOPS-LEVEL, …). */
export interface CalendarProblem {
  uid: string;
  summary: string;
  reason: string;
}

export interface ParsedCalendar {
  events: CalendarEvent[];
  problems: CalendarProblem[];
}

export interface ExpandOptions {
  now: Date;
  horizonDays?: number;
  maxOccurrences?: number;
  /** The zone of floating times and all-day dates (which carry none); without it such an event is a problem. */
  floatingZone?: string;
}

/** The document is not iCalendar at all. */
export class CalendarInvalid extends Error {
  override readonly name = 'CalendarInvalid';
}

/** A reason an event is refused, carried to its problem. */
class EventProblem extends Error {}

export const icsKey = (uid: string): string => createHash('sha256').update(uid).digest('hex').slice(0, 8);

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
/** UTC yyyymmdd-hhmm, as window ids end. */
export const idTime = (ms: number): string => {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}-${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}`;
};

/** The instant of an ical.js time: its own zone (VTIMEZONE or UTC), else the TZID by the runtime's zone database, else the floating zone given. */
function instant(t: ICAL.Time, tzid: string | undefined, floatingZone: string | undefined): number {
  if (!t.isDate && t.zone && t.zone !== ICAL.Timezone.localTimezone) return t.toUnixTime() * 1000;
  const zone = !t.isDate && tzid !== undefined && isIanaZone(tzid) ? tzid : floatingZone;
  if (zone === undefined) {
    throw new EventProblem(
      t.isDate ? 'an all-day event has no time zone: give --timezone' : tzid !== undefined ? `TZID ${tzid} is neither defined by a VTIMEZONE nor an IANA zone` : 'a floating time (no TZID, no Z): give --timezone',
    );
  }
  return instantOf({ year: t.year, month: t.month, day: t.day, hour: t.hour, minute: t.minute, second: t.second }, zone);
}

const tzidOf = (c: ICAL.Component, prop: string): string | undefined => {
  const v = c.getFirstProperty(prop)?.getParameter('tzid');
  return typeof v === 'string' ? v : undefined;
};

const text = (c: ICAL.Component, prop: string): string | undefined => {
  const v = c.getFirstPropertyValue(prop);
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
};

/** X-FLEETOPS-CLUSTERS and X-FLEETOPS-LEVEL of a VEVENT, checked. */
function overrides(c: ICAL.Component): { clusters?: string[]; level?: number } {
  const out: { clusters?: string[]; level?: number } = {};
  const clusters = text(c, 'x-fleetops-clusters');
  if (clusters !== undefined) {
    const list = clusters.split(',').map((s) => s.trim()).filter((s) => s !== '');
    const bad = list.filter((s) => !clusterNameSchema.safeParse(s).success);
    if (list.length === 0 || list.length > 50 || bad.length > 0) throw new EventProblem(`X-FLEETOPS-CLUSTERS "${clusters}" is not a comma list of cluster names`);
    out.clusters = [...new Set(list)];
  }
  const level = text(c, 'x-fleetops-level');
  if (level !== undefined) {
    if (!/^[1-9][0-9]?$/.test(level)) throw new EventProblem(`X-FLEETOPS-LEVEL "${level}" is not a level number, 1 to 99`);
    out.level = Number(level);
  }
  return out;
}

const summaryOf = (c: ICAL.Component): string => (text(c, 'summary') ?? '(no title)').slice(0, 1000);
const cancelled = (c: ICAL.Component): boolean => text(c, 'status')?.toUpperCase() === 'CANCELLED';

/** One occurrence: the item (the series or its override) at its times, with its overrides, the series' for what the override does not say. */
function occurrence(master: ICAL.Component, item: ICAL.Component, recurrenceMs: number, start: ICAL.Time, end: ICAL.Time, floatingZone: string | undefined): CalendarOccurrence {
  const s = instant(start, tzidOf(item, 'dtstart'), floatingZone);
  const e = instant(end, tzidOf(item, item.hasProperty('dtend') ? 'dtend' : 'dtstart'), floatingZone);
  if (!(e > s)) throw new EventProblem('it ends before it starts (an event needs DTEND or DURATION after DTSTART)');
  const own = { ...overrides(master), ...(item === master ? {} : overrides(item)) };
  return { recurrence: idTime(recurrenceMs), start: new Date(s).toISOString(), end: new Date(e).toISOString(), summary: summaryOf(item), ...own };
}

/** A recurring event's occurrences not over at `now`: those starting within the horizon, or the next one if none does. */
function expand(event: ICAL.Event, opts: Required<Omit<ExpandOptions, 'floatingZone'>> & { floatingZone: string | undefined }): CalendarOccurrence[] {
  const master = event.component;
  const tzid = tzidOf(master, 'dtstart');
  const now = opts.now.getTime();
  const horizonEnd = now + opts.horizonDays * 86_400_000;
  const out: CalendarOccurrence[] = [];
  const it = event.iterator();
  for (let steps = 0, next = it.next(); next; steps += 1, next = it.next()) {
    if (steps >= MAX_STEPS) break;
    const recurrenceMs = instant(next, tzid, opts.floatingZone);
    if (recurrenceMs > horizonEnd && out.length > 0) break;
    const d = event.getOccurrenceDetails(next);
    if (cancelled(d.item.component)) continue;
    const o = occurrence(master, d.item.component, recurrenceMs, d.startDate, d.endDate, opts.floatingZone);
    if (Date.parse(o.end) <= now) continue;
    out.push(o);
    if (out.length >= opts.maxOccurrences || Date.parse(o.start) > horizonEnd) break;
  }
  return out;
}

/** A recurring event's own VCALENDAR: its time zones, the series and its overrides, as the calendar wrote them. */
function sourceOf(zones: ICAL.Component[], parts: ICAL.Component[]): string {
  const body = [...zones, ...parts].map((c) => c.toString()).join('\r\n');
  const doc = `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//fleetops//readiness windows//EN\r\n${body}\r\nEND:VCALENDAR\r\n`;
  if (doc.length > ICS_MAX_EVENT_SOURCE) throw new EventProblem(`the event is over ${ICS_MAX_EVENT_SOURCE} characters of iCalendar`);
  return doc;
}

/**
 * The calendar's events, each with its occurrences not over at `now` (a recurring one's within the
 * horizon). An event that cannot be read as a window is a problem, not an error: the others are
 * imported. Throws CalendarInvalid when the text is no iCalendar document.
 */
export function parseReadinessCalendar(ics: string, opts: ExpandOptions): ParsedCalendar {
  let root: ICAL.Component;
  try {
    const jcal = ICAL.parse(ics);
    // Several VCALENDARs in one document parse to a list of them.
    if (Array.isArray(jcal[0])) throw new Error('more than one VCALENDAR');
    root = new ICAL.Component(jcal);
  } catch (err) {
    throw new CalendarInvalid(`not an iCalendar document: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (root.name !== 'vcalendar') throw new CalendarInvalid(`not an iCalendar document: it is a ${root.name.toUpperCase()}`);
  const o = { now: opts.now, horizonDays: opts.horizonDays ?? ICS_HORIZON_DAYS, maxOccurrences: opts.maxOccurrences ?? ICS_MAX_OCCURRENCES, floatingZone: opts.floatingZone };
  const zones = root.getAllSubcomponents('vtimezone');
  const byUid = new Map<string, ICAL.Component[]>();
  const problems: CalendarProblem[] = [];
  for (const v of root.getAllSubcomponents('vevent')) {
    const uid = text(v, 'uid');
    if (uid === undefined) problems.push({ uid: '', summary: summaryOf(v), reason: 'no UID: a window is named after its event UID' });
    else byUid.set(uid, [...(byUid.get(uid) ?? []), v]);
  }
  const events: CalendarEvent[] = [];
  for (const [uid, parts] of byUid) {
    const masters = parts.filter((p) => !p.hasProperty('recurrence-id'));
    const summary = summaryOf(masters[0] ?? parts[0]!);
    try {
      if (masters.length !== 1) throw new EventProblem(masters.length === 0 ? 'only overrides of a recurring event, without the event' : 'more than one event with this UID');
      const master = masters[0]!;
      if (!master.hasProperty('dtstart')) throw new EventProblem('no DTSTART');
      const event = new ICAL.Event(master, { exceptions: parts.filter((p) => p !== master) });
      const recurring = event.isRecurring();
      const isCancelled = cancelled(master);
      const occurrences = isCancelled
        ? []
        : recurring
          ? expand(event, o)
          : [occurrence(master, master, instant(event.startDate, tzidOf(master, 'dtstart'), o.floatingZone), event.startDate, event.endDate, o.floatingZone)].filter((x) => Date.parse(x.end) > o.now.getTime());
      const rule = master.getFirstPropertyValue('rrule');
      const tz = tzidOf(master, 'dtstart');
      events.push(
        calendarEventSchema.parse({
          uid,
          key: icsKey(uid),
          recurring,
          summary,
          ...(rule ? { rule: String(rule).slice(0, 1000) } : {}),
          ...(tz !== undefined && tz.length <= 64 ? { timeZone: tz } : o.floatingZone !== undefined && (event.startDate.isDate || event.startDate.zone === ICAL.Timezone.localTimezone) ? { timeZone: o.floatingZone } : {}),
          cancelled: isCancelled,
          occurrences,
          ...(recurring ? { source: sourceOf(zones, parts) } : {}),
        }),
      );
    } catch (err) {
      if (err instanceof EventProblem || err instanceof z.ZodError) problems.push({ uid, summary, reason: err instanceof z.ZodError ? z.prettifyError(err) : err.message });
      else problems.push({ uid, summary, reason: `unreadable: ${err instanceof Error ? err.message : String(err)}` });
    }
  }
  return { events, problems };
}
