import { shownFeedUrl } from '../common/calendar-feed';
import { ScheduleNotFoundError, type Client, type ScheduleSummary } from '@temporalio/client';
import { DEPLOY_SCHEDULE_PREFIX, type DeployScheduleMemo } from './deploy-trigger/start';
import { readinessFeedInputSchema } from './readiness-feed/input';
import { RELEASE_SCHEDULE_PREFIX, type ReleaseScheduleMemo } from './release-trigger/start';
import { READINESS_FEED_PREFIX } from './readiness-feed/start';
import { readinessTriggerInputSchema } from './readiness-trigger/input';
import { READINESS_SCHEDULE_PREFIX, type ReadinessScheduleMemo } from './readiness-trigger/start';
import { runningWindows } from './readiness/client';
import { windowRows, type WindowRow } from './readiness/window-rows';

/**
 * One row of `fleetops schedules` (and Slack's `/fleetops schedules`), whatever is scheduled: a
 * scheduled deploy or release, a recurring readiness window or a readiness feed (Temporal Schedules, read by
 * SCHEDULE_READERS), or a readiness window not over yet (a workflow on its own timers, read from its
 * status: windowScheduleRow).
 */
export interface ScheduleRow {
  kind: 'deploy' | 'release' | 'readiness' | 'readiness-recurring' | 'readiness-feed';
  scheduleId: string;
  /** What runs: `demo/web -> registry/web:2`. */
  what: string;
  /** `at <ISO time>` or `cron <expr> [<zone>]`. */
  when: string;
  /** The next time it runs (ISO), null when it will not run again (a one-off that ran, a paused schedule). */
  next: string | null;
  /** The last time it ran (ISO), null before its first run. */
  lastRun: string | null;
  paused: boolean;
  requestedBy: string | null;
}

/**
 * A kind of scheduled thing: which Temporal Schedules are its, and the row of one. `action`: the
 * row reads the Schedule's action arguments too (a describe each; a list does not carry them), given
 * to `row` as they are stored.
 */
interface ScheduleReader {
  matches(s: ScheduleSummary): boolean;
  action?: boolean;
  row(s: ScheduleSummary, args?: unknown): ScheduleRow;
}

const iso = (d: Date | undefined): string | null => (d ? d.toISOString() : null);

const scheduledDeploys: ScheduleReader = {
  matches: (s) => s.scheduleId.startsWith(DEPLOY_SCHEDULE_PREFIX),
  row: (s) => {
    const memo = (s.memo ?? {}) as Partial<DeployScheduleMemo>;
    const recent = s.info.recentActions;
    return {
      kind: 'deploy',
      scheduleId: s.scheduleId,
      what: `${memo.cluster ?? '?'}/${memo.service ?? '?'} -> ${memo.target ?? '?'}`,
      when: memo.when ?? '?',
      next: s.state.paused ? null : iso(s.info.nextActionTimes[0]),
      lastRun: iso(recent[recent.length - 1]?.takenAt),
      paused: s.state.paused,
      requestedBy: memo.requestedBy ?? null,
    };
  },
};

const common = (s: ScheduleSummary) => {
  const recent = s.info.recentActions;
  return { scheduleId: s.scheduleId, next: s.state.paused ? null : iso(s.info.nextActionTimes[0]), lastRun: iso(recent[recent.length - 1]?.takenAt), paused: s.state.paused };
};

/** A scheduled release: each run starts `release-<id>-<yyyymmdd-hhmm>`. */
const scheduledReleases: ScheduleReader = {
  matches: (s) => s.scheduleId.startsWith(RELEASE_SCHEDULE_PREFIX),
  row: (s) => {
    const memo = (s.memo ?? {}) as Partial<ReleaseScheduleMemo>;
    return {
      kind: 'release',
      ...common(s),
      what: `release ${memo.release ?? '?'}-<time>: ${memo.change ?? '?'}`,
      when: memo.when ?? '?',
      requestedBy: memo.requestedBy ?? null,
    };
  },
};

/** A recurring readiness window: next is its trigger's next run, a little ahead of an occurrence's raise. */
const recurringWindows: ScheduleReader = {
  matches: (s) => s.scheduleId.startsWith(READINESS_SCHEDULE_PREFIX),
  action: true,
  row: (s, args) => {
    const memo = (s.memo ?? {}) as Partial<ReadinessScheduleMemo>;
    const t = readinessTriggerInputSchema.safeParse(args);
    return {
      kind: 'readiness-recurring',
      ...common(s),
      what: t.success ? `${t.data.cluster} level ${t.data.level}: ${t.data.summary}` : `${memo.cluster ?? '?'}: ?`,
      when: t.success ? `${t.data.rule ?? 'recurring'}${t.data.timeZone !== undefined ? ` ${t.data.timeZone}` : ''}${memo.icsFeed !== undefined ? ` (feed ${memo.icsFeed})` : ''}` : '?',
      requestedBy: (t.success ? t.data.defaults.requestedBy : undefined) ?? null,
    };
  },
};

const feeds: ScheduleReader = {
  matches: (s) => s.scheduleId.startsWith(READINESS_FEED_PREFIX),
  action: true,
  row: (s, args) => {
    const f = readinessFeedInputSchema.safeParse(args);
    return {
      kind: 'readiness-feed',
      ...common(s),
      what: f.success ? `${shownFeedUrl(f.data.url)} -> ${f.data.defaults.clusters.join(', ') || '(clusters of the events)'} level ${f.data.defaults.level}` : '?',
      when: f.success ? `every ${f.data.everyMinutes} min` : '?',
      requestedBy: (f.success ? f.data.defaults.requestedBy : undefined) ?? null,
    };
  },
};

/** Readers of Temporal Schedules, in the order their sections print. */
export const SCHEDULE_READERS: readonly ScheduleReader[] = [scheduledDeploys, scheduledReleases, recurringWindows, feeds];

/**
 * A readiness window as a row: next is its floor's raise while that is ahead, then its start, then its
 * end (while it holds); `schedules cancel` does not take it (`fleetops readiness cancel` does).
 */
export function windowScheduleRow(w: WindowRow, now: Date): ScheduleRow {
  const ahead = [w.raiseAt, w.start, w.end].find((t) => Date.parse(t) > now.getTime());
  return {
    kind: 'readiness',
    scheduleId: w.workflowId,
    what: `${w.cluster} level ${w.level}${w.freezesDeploys ? ' (deploys frozen)' : ''}: ${w.reason}`,
    when: `${w.start} → ${w.end}`,
    next: ahead ?? null,
    lastRun: null,
    paused: false,
    requestedBy: null,
  };
}

/** Whether the Schedule's row needs its action's arguments (`rowOf`'s second argument). */
export const needsAction = (s: ScheduleSummary): boolean => SCHEDULE_READERS.find((r) => r.matches(s))?.action === true;

export function rowOf(s: ScheduleSummary, args?: unknown): ScheduleRow | undefined {
  const reader = SCHEDULE_READERS.find((r) => r.matches(s));
  return reader?.row(s, args);
}

/** The Schedule's action arguments, or undefined when it is gone (listing is eventually consistent). */
async function actionArgs(client: Client, scheduleId: string): Promise<unknown> {
  try {
    const d = await client.schedule.getHandle(scheduleId).describe();
    return d.action.type === 'startWorkflow' ? d.action.args?.[0] : undefined;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return undefined;
    throw err;
  }
}

/**
 * Everything scheduled, soonest first: fleetops' Temporal Schedules (other applications may keep
 * schedules in the namespace: only those a reader knows are listed) and the running readiness windows.
 */
export async function scheduledRows(client: Client, withDeadline: <T>(fn: () => Promise<T>) => Promise<T>, now = new Date()): Promise<ScheduleRow[]> {
  const rows: ScheduleRow[] = [];
  for await (const s of client.schedule.list()) {
    const row = rowOf(s, needsAction(s) ? await actionArgs(client, s.scheduleId) : undefined);
    if (row) rows.push(row);
  }
  for (const w of windowRows(await runningWindows(client, withDeadline))) rows.push(windowScheduleRow(w, now));
  return sortRows(rows);
}

/** Soonest first; those that will not run again last. */
export function sortRows(rows: ScheduleRow[]): ScheduleRow[] {
  const byNext = (a: ScheduleRow, b: ScheduleRow): number => (a.next === b.next ? 0 : a.next === null ? 1 : b.next === null ? -1 : a.next < b.next ? -1 : 1);
  return [...rows].sort((a, b) => byNext(a, b) || (a.scheduleId < b.scheduleId ? -1 : a.scheduleId > b.scheduleId ? 1 : 0));
}

const COLUMNS: { title: string; cell: (r: ScheduleRow) => string }[] = [
  { title: 'ID', cell: (r) => r.scheduleId },
  { title: 'KIND', cell: (r) => r.kind },
  { title: 'WHAT', cell: (r) => r.what },
  { title: 'WHEN', cell: (r) => r.when },
  { title: 'NEXT', cell: (r) => (r.paused ? 'paused' : (r.next ?? 'done')) },
  { title: 'LAST RUN', cell: (r) => r.lastRun ?? '-' },
  { title: 'BY', cell: (r) => r.requestedBy ?? '-' },
];

/** A plain text table, columns as wide as their widest cell. */
export function scheduleTable(rows: ScheduleRow[]): string[] {
  if (rows.length === 0) return ['nothing scheduled'];
  const cells = [COLUMNS.map((c) => c.title), ...rows.map((r) => COLUMNS.map((c) => c.cell(r)))];
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)));
  return cells.map((line) => line.map((cell, i) => (i === line.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd());
}
