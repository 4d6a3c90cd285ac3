import { ScheduleAlreadyRunning, ScheduleNotFoundError, WorkflowExecutionAlreadyStartedError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { FleetopsPhase } from '../../common/search-attributes';
import { statusQuery } from '../controls';
import type { ReadinessTriggerInput } from '../readiness-trigger/input';
import { READINESS_SCHEDULE_PREFIX, readinessScheduleOptions, type ReadinessScheduleMemo } from '../readiness-trigger/start';
import { TRIGGER_AHEAD_MS, type ImportPlan, type ImportRow, type PlannedSchedule, type PlannedWindow } from './ical-plan';
import type { ReadinessChange } from './input';
import { cancelUpdate, changeUpdate, type ReadinessStatus } from './messages';
import { readinessStartOptions } from './start';

/**
 * An import's plan (ical-plan.ts) made so on Temporal, idempotently: a window already started is
 * `unchanged`, or `changed` through its own `change` update; a recurring window's Schedule is created
 * or rewritten (its horizon rolled on); what the calendar no longer has is cancelled (windows not
 * started yet) or deleted (Schedules). Shared by `fleetops readiness import`, the feed's polls and the
 * recurring windows' triggers, each with its own client.
 */

/** Memo keys of an imported window: its event's key, and the feed that keeps it. */
export const ICS_KEY_MEMO = 'icsKey';
export const ICS_FEED_MEMO = 'icsFeed';

/** What an import may cancel: anything of its feed, or, for a file, what belongs to the events the file has. */
export type ImportScope = { feed: string } | { keys: readonly string[] };

export interface ApplyOptions {
  now: Date;
  /** Who changes and cancels, as the windows record it. */
  by: string;
  /** How long a window has to answer its status query. */
  queryTimeoutMs?: number;
  /** The triggers' task queue (tests: a queue of their own). */
  taskQueue?: string;
}

const inScope = (scope: ImportScope, key: unknown, feed: unknown): boolean => ('feed' in scope ? feed === scope.feed : typeof key === 'string' && scope.keys.includes(key));

/** JSON with sorted keys: equal values, equal text, whatever order their fields were written in. */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1))) : x));

/** A window that did not answer in time (no worker polling its queue): reported, not compared. */
class NoAnswer extends Error {}

async function within<T>(ms: number, what: string, fn: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([fn(), new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new NoAnswer(`${what} did not answer within ${ms / 1000} s (is a worker running?)`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

const windowRow = (w: PlannedWindow, outcome: ImportRow['outcome'], note?: string): ImportRow => ({
  kind: 'window',
  id: readinessStartOptions(w.input).workflowId,
  cluster: w.input.cluster,
  outcome,
  start: w.input.start,
  end: w.input.end,
  level: w.input.level.level,
  summary: w.input.reason,
  ...(note !== undefined ? { note } : {}),
});

/** What the window must change to be as the calendar says, or undefined when it is. */
function changeOf(s: ReadinessStatus, w: PlannedWindow): ReadinessChange | undefined {
  const c: ReadinessChange = {
    ...(Date.parse(s.start) !== Date.parse(w.input.start) ? { start: w.input.start } : {}),
    ...(Date.parse(s.end) !== Date.parse(w.input.end) ? { end: w.input.end } : {}),
    ...(s.reason !== w.input.reason ? { reason: w.input.reason } : {}),
    ...(canonical(s.level) !== canonical(w.input.level) ? { level: w.input.level } : {}),
  };
  return Object.keys(c).length > 0 ? c : undefined;
}

/**
 * Starts the window, or brings the running one in line through its `change` update. A window that
 * ended or was cancelled keeps its id (reuse policy REJECT_DUPLICATE): an import does not bring back
 * a window someone cancelled.
 */
export async function upsertWindow(client: Client, w: PlannedWindow, opts: ApplyOptions): Promise<ImportRow> {
  const { workflowType, ...options } = readinessStartOptions(w.input);
  const memo = { [ICS_KEY_MEMO]: w.key, ...(w.feed !== undefined ? { [ICS_FEED_MEMO]: w.feed } : {}) };
  try {
    await client.workflow.start(workflowType, { ...options, memo, workflowIdConflictPolicy: 'FAIL', workflowIdReusePolicy: 'REJECT_DUPLICATE' });
    return windowRow(w, 'created');
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  const handle = client.workflow.getHandle(options.workflowId);
  const described = await handle.describe();
  if (described.status.name !== 'RUNNING') return windowRow(w, 'unchanged', `the window is ${described.typedSearchAttributes.get(FleetopsPhase) ?? described.status.name.toLowerCase()}`);
  let status: ReadinessStatus;
  try {
    status = (await within(opts.queryTimeoutMs ?? 10_000, options.workflowId, () => handle.query(statusQuery))) as ReadinessStatus;
  } catch (err) {
    if (err instanceof NoAnswer) return windowRow(w, 'unchanged', `not compared: ${err.message}`);
    throw err;
  }
  const change = changeOf(status, w);
  if (!change) return windowRow(w, 'unchanged');
  try {
    await within(opts.queryTimeoutMs ?? 10_000, options.workflowId, () => handle.executeUpdate(changeUpdate, { args: [{ ...change, by: opts.by }] }));
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) return windowRow(w, 'refused', `the window refused the change: ${err.cause?.message ?? err.message}`);
    if (err instanceof NoAnswer) return windowRow(w, 'unchanged', `not changed: ${err.message}`);
    throw err;
  }
  return windowRow(w, 'changed', Object.keys(change).join(', '));
}

const scheduleRow = (s: PlannedSchedule, outcome: ImportRow['outcome']): ImportRow => {
  const last = s.trigger.raiseAt[s.trigger.raiseAt.length - 1];
  return {
    kind: 'recurring',
    id: s.scheduleId,
    cluster: s.trigger.cluster,
    outcome,
    start: s.next.start,
    end: s.next.end,
    level: s.trigger.level,
    summary: s.trigger.summary,
    note: `${s.trigger.raiseAt.length} occurrence${s.trigger.raiseAt.length === 1 ? '' : 's'} ahead, raises ${s.trigger.raiseAt[0]}${last !== s.trigger.raiseAt[0] ? ` … ${last}` : ''}`,
  };
};

/** Creates the recurring window's Schedule, or rewrites its spec and action: `changed` when the event changed, `unchanged` when only its horizon moved on. */
export async function upsertSchedule(client: Client, s: PlannedSchedule, opts: ApplyOptions): Promise<ImportRow> {
  const options = readinessScheduleOptions(s.trigger, TRIGGER_AHEAD_MS, opts.taskQueue !== undefined ? { taskQueue: opts.taskQueue } : {});
  try {
    await client.schedule.create(options);
    return scheduleRow(s, 'created');
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  const handle = client.schedule.getHandle(s.scheduleId);
  const described = await handle.describe();
  const previous = (described.action.type === 'startWorkflow' ? described.action.args?.[0] : undefined) as ReadinessTriggerInput | undefined;
  const withoutTimes = (t: ReadinessTriggerInput | undefined) => canonical(t ? { ...t, raiseAt: [] } : null);
  if (canonical(previous) === canonical(s.trigger)) return scheduleRow(s, 'unchanged');
  await handle.update((prev) => ({ ...prev, spec: options.spec, action: options.action, state: { ...prev.state, note: options.state?.note } }));
  return scheduleRow(s, withoutTimes(previous) === withoutTimes(s.trigger) ? 'unchanged' : 'changed');
}

/** Deletes a recurring window's Schedule (gone already is fine). */
export async function deleteSchedule(client: Client, scheduleId: string): Promise<void> {
  try {
    await client.schedule.getHandle(scheduleId).delete();
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
  }
}

/** Running imported windows in scope, by id, with their event's key (visibility: one just started may be missing, and is found next time). */
async function runningWindows(client: Client, scope: ImportScope): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for await (const wf of client.workflow.list({ query: `WorkflowType = 'readiness' AND ExecutionStatus = 'Running'`, pageSize: 500 })) {
    const key = wf.memo?.[ICS_KEY_MEMO];
    if (typeof key === 'string' && inScope(scope, key, wf.memo?.[ICS_FEED_MEMO])) found.set(wf.workflowId, key);
  }
  return found;
}

const gone = (id: string, cluster: string | null, outcome: ImportRow['outcome'], note: string, s?: ReadinessStatus): ImportRow => ({
  kind: id.startsWith(READINESS_SCHEDULE_PREFIX) ? 'recurring' : 'window',
  id,
  cluster,
  outcome,
  start: s?.start ?? null,
  end: s?.end ?? null,
  level: s?.level.level ?? null,
  summary: s?.reason ?? '',
  note,
});

/** A running window the calendar no longer has: cancelled if it has not started, left to its end if it has (cancel it by hand to end it). */
async function retire(client: Client, workflowId: string, opts: ApplyOptions): Promise<ImportRow> {
  const handle = client.workflow.getHandle(workflowId);
  let s: ReadinessStatus;
  try {
    s = (await within(opts.queryTimeoutMs ?? 10_000, workflowId, () => handle.query(statusQuery))) as ReadinessStatus;
  } catch (err) {
    if (err instanceof NoAnswer) return gone(workflowId, null, 'unchanged', `no longer in the calendar, not cancelled: ${err.message}`);
    throw err;
  }
  if (Date.parse(s.start) <= opts.now.getTime()) return gone(workflowId, s.cluster, 'unchanged', 'no longer in the calendar, but under way: it runs to its end (fleetops readiness cancel ends it)', s);
  try {
    await within(opts.queryTimeoutMs ?? 10_000, workflowId, () => handle.executeUpdate(cancelUpdate, { args: [{ by: opts.by, reason: 'no longer in the calendar' }] }));
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError || err instanceof NoAnswer) return gone(workflowId, s.cluster, 'unchanged', `not cancelled: ${err instanceof WorkflowUpdateFailedError ? (err.cause?.message ?? err.message) : err.message}`, s);
    throw err;
  }
  return gone(workflowId, s.cluster, 'cancelled', 'no longer in the calendar', s);
}

/**
 * The plan made so: due windows started (or changed), running ones changed, Schedules written, and
 * in scope, windows and Schedules the calendar no longer has retired.
 */
export async function applyImport(client: Client, plan: ImportPlan, scope: ImportScope, opts: ApplyOptions): Promise<ImportRow[]> {
  const running = await runningWindows(client, scope);
  const rows = [...plan.rows];
  const wanted = new Set<string>();
  for (const w of plan.windows) {
    const id = readinessStartOptions(w.input).workflowId;
    wanted.add(id);
    if (w.due || running.has(id)) rows.push(await upsertWindow(client, w, opts));
  }
  for (const s of plan.schedules) rows.push(await upsertSchedule(client, s, opts));
  // An event that could not be read, or was refused on a cluster, is not removed: its windows stay as
  // they are. A calendar with no event at all is more likely a fault of its server than a calendar
  // emptied: nothing is retired.
  if (plan.keys.length === 0 && plan.heldKeys.length === 0) {
    rows.push({ kind: 'event', id: '', cluster: null, outcome: 'skipped', start: null, end: null, level: null, summary: '', note: 'the calendar has no events: nothing cancelled' });
    return rows;
  }
  const held = new Set(plan.heldKeys);
  for (const [id, key] of running) if (!wanted.has(id) && !held.has(key)) rows.push(await retire(client, id, opts));
  const schedules = new Set(plan.schedules.map((s) => s.scheduleId));
  for await (const s of client.schedule.list()) {
    if (!s.scheduleId.startsWith(READINESS_SCHEDULE_PREFIX) || schedules.has(s.scheduleId)) continue;
    const memo = (s.memo ?? {}) as Partial<ReadinessScheduleMemo>;
    if (!inScope(scope, memo.icsKey, memo.icsFeed) || held.has(memo.icsKey ?? '')) continue;
    await deleteSchedule(client, s.scheduleId);
    rows.push(gone(s.scheduleId, memo.cluster ?? null, 'deleted', 'no occurrence of the calendar left to start'));
  }
  return rows;
}
