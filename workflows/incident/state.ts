import type { ChatThread } from '../../common/chat';
import { iso } from '../../common/time';
import type { DryRunCall } from '../../contracts/controls';
import type { ActionItem, IncidentRole, LessonKind, PageRequest, PostmortemField, PreviousIncident, SeverityChange } from '../../common/incident/model';
import type { IncidentPolicy } from '../../config/incident-policy';
import type { IncidentSeverity, IncidentSource, IncidentTimelineEntry, IncidentTimelineKind } from '../../contracts/incident/input';
import type { AlarmTimeline } from './alarm-timeline';
import type { NotificationCounts, ReminderState } from '../../contracts/incident/messages';

/**
 * The incident's long-lived state (roles, append-only timeline, checklist, postmortem content,
 * reminders, outbox) as plain data, and the small helpers every rule uses. Plain data so it crosses
 * continue-as-new as the `carried` input and a plain jest test can build one with initialState().
 * The rules over it are pure functions beside it: validation.ts (may a request be applied),
 * transitions.ts (apply it), reminders.ts (what is owed when), status.ts (what clients read),
 * postmortem.ts (the document). No I/O, no clocks: every function that needs the time takes `now`
 * (workflow time, so replays see the same values); the workflow's handlers are thin calls into them.
 */

export interface CheckRecord {
  by: string;
  at: string;
  note?: string;
  link?: string;
}

export interface Lesson {
  kind: LessonKind;
  text: string;
  by: string;
}

export interface PostmortemContent extends Partial<Record<PostmortemField, string>> {
  lessons: Lesson[];
  actionItems: ActionItem[];
  /** People who wrote postmortem content, in first-contribution order. */
  authors: string[];
}

export interface OutgoingNotification {
  idempotencyKey: string;
  title: string;
  text: string;
  fields?: Record<string, string>;
  /** Only for the incident's chat thread (role changes, checklist progress), not for webhooks. */
  chatOnly?: boolean;
}

/** One reopening: the incident was resolved, then its alarm fired again while the postmortem was open. */
export interface Reopening {
  at: number;
  by: string;
  reason: string;
  /** When it had been resolved before this reopening. */
  resolvedAt: number;
}

export interface ReviewRecord {
  by: string;
  at: string;
  note?: string;
  link?: string;
}

/** Where the PagerDuty alert for this incident stands, and what was sent. */
export interface PagingState {
  alert: 'none' | 'triggered' | 'acknowledged' | 'resolved';
  sent: number;
  /** Actions that failed after all retries, in order. */
  failed: string[];
}

export interface IncidentState {
  /** `<workflowId>/<first run id prefix>`: unique per incident although alarm incidents reuse workflow ids. */
  incidentKey: string;
  workflowId: string;
  title: string;
  severity: IncidentSeverity;
  summary?: string;
  source: IncidentSource;
  dryRun: boolean;
  openedAt: number;
  policy?: IncidentPolicy;
  roles: Partial<Record<IncidentRole, string>>;
  /** Append-only, except an alarm's summary entry, updated in place (alarm-timeline.ts). */
  timeline: IncidentTimelineEntry[];
  /** How much of the timeline alarms use, and their summaries (absent in states carried from 0.2). */
  alarmTimeline?: AlarmTimeline;
  checks: Record<string, CheckRecord>;
  mitigatedAt?: number;
  resolvedAt?: number;
  /** All postmortem items checked; the workflow writes the document and completes. */
  closedAt?: number;
  abortedAt?: number;
  postmortem: PostmortemContent;
  reminders: ReminderState;
  /** Notifications handlers queued; the workflow's main loop sends them (activities run there). */
  outbox: OutgoingNotification[];
  outboxSeq: number;
  /** Alarm event ids and facts keys already recorded (bounded), so redeliveries add nothing. */
  seenKeys: string[];
  alarmEvents: number;
  filingActionItems: boolean;
  /** Delivered notifications, and the keys of those that failed after all retries. */
  notifications: NotificationCounts;
  dryRunCalls: DryRunCall[];
  /** Where the closed postmortem was stored (s3:// URI, or a local path without a bucket). */
  postmortemPath?: string;
  /** Why the postmortem could not be stored (a non-retryable failure: no such bucket, access denied). */
  postmortemStoreError?: string;
  postmortemPullRequest?: string;
  postmortemPullRequestError?: string;
  /** Escalations and de-escalations in order; the first `from` is the severity it opened with. */
  severityChanges: SeverityChange[];
  /** A severity change is loading the new severity's policy; another waits for it. */
  changingSeverity: boolean;
  reopenings: Reopening[];
  /** The closed incident this one is a recurrence of (same workflow id, an earlier run). */
  previousIncident?: PreviousIncident;
  /** The postmortem review (the team's SRE meeting), once marked held. */
  review?: ReviewRecord;
  /** PagerDuty events queued by handlers; the main loop sends them in order after the notifications. */
  pageOutbox: PageRequest[];
  paging: PagingState;
  /** The incident's chat thread, as the last notification returned it (activities/chat/post.ts). */
  chat?: ChatThread;
}

const SEEN_KEYS_LIMIT = 1000;
export const TEXT_LIMIT = 4000;
export const NAME_LIMIT = 255;
const DRY_RUN_CALLS_KEPT = 200;

export function initialState(args: {
  workflowId: string;
  firstRunId: string;
  title: string;
  severity: IncidentSeverity;
  summary?: string;
  source: IncidentSource;
  onCall?: string;
  dryRun?: boolean;
  timeline?: IncidentTimelineEntry[];
  now: number;
}): IncidentState {
  const opener = openerName(args.source);
  return {
    incidentKey: `${args.workflowId}/${args.firstRunId.slice(0, 8)}`,
    workflowId: args.workflowId,
    title: args.title,
    severity: args.severity,
    summary: args.summary,
    source: args.source,
    dryRun: args.dryRun ?? false,
    openedAt: args.now,
    roles: args.onCall ? { onCall: args.onCall } : {},
    timeline: [
      ...(args.timeline ?? []),
      { time: iso(args.now), author: opener, kind: 'opened', text: `${args.severity} incident opened: ${args.title}` },
    ],
    checks: {},
    postmortem: { lessons: [], actionItems: [], authors: [] },
    reminders: { statusReminders: 0, lastStatusAt: args.now, postmortemReminders: 0, escalated: false, reviewReminders: 0 },
    outbox: [],
    outboxSeq: 0,
    seenKeys: [],
    alarmEvents: 0,
    alarmTimeline: { kept: 0, summaries: [] },
    filingActionItems: false,
    notifications: { sent: 0, failed: [] },
    dryRunCalls: [],
    severityChanges: [],
    changingSeverity: false,
    reopenings: [],
    pageOutbox: [],
    paging: { alert: 'none', sent: 0, failed: [] },
  };
}

/**
 * A state carried over continue-as-new from a run of an earlier version may lack what later versions
 * added; fill it in, so such a run goes on instead of failing its workflow task.
 */
export function withCurrentFields(state: IncidentState): IncidentState {
  state.severityChanges ??= [];
  state.changingSeverity ??= false;
  state.reopenings ??= [];
  state.pageOutbox ??= [];
  state.paging ??= { alert: 'none', sent: 0, failed: [] };
  state.reminders.reviewReminders ??= 0;
  return state;
}

export function openerName(source: IncidentSource): string {
  switch (source.kind) {
    case 'alarm':
      return 'router';
    case 'event':
      return source.by ?? 'router';
    case 'cli':
    case 'chat':
      return source.by;
    case 'workflow':
      return source.workflowId;
  }
}

export { iso } from '../../common/time';

export function appendTimeline(state: IncidentState, entry: { time?: string; author: string; kind: IncidentTimelineKind; text: string }, now: number): void {
  state.timeline.push({ time: entry.time ?? iso(now), author: entry.author, kind: entry.kind, text: entry.text.slice(0, TEXT_LIMIT) });
}

/** Records a dedupe key; false when it was seen before. */
export function markSeen(state: IncidentState, key: string): boolean {
  if (state.seenKeys.includes(key)) return false;
  state.seenKeys.push(key);
  if (state.seenKeys.length > SEEN_KEYS_LIMIT) state.seenKeys.splice(0, state.seenKeys.length - SEEN_KEYS_LIMIT);
  return true;
}

export function queueNotification(state: IncidentState, n: Omit<OutgoingNotification, 'idempotencyKey'> & { key: string }): void {
  state.outboxSeq += 1;
  state.outbox.push({ idempotencyKey: `${state.incidentKey}/${n.key}`, title: n.title, text: n.text, fields: n.fields, ...(n.chatOnly ? { chatOnly: true } : {}) });
}

/**
 * Queues a PagerDuty event when the severity pages: trigger opens (or re-opens) the alert,
 * acknowledge and resolve act on an open one only, so nothing is sent for an incident that never paged.
 */
export function queuePage(state: IncidentState, action: PageRequest['action']): void {
  const alert = state.paging.alert;
  if (action === 'trigger') {
    if (!state.policy?.paging || alert === 'triggered' || alert === 'acknowledged') return;
    state.pageOutbox.push({
      action,
      dedupKey: state.workflowId,
      workflowId: state.workflowId,
      summary: `${state.severity} ${state.title}`.slice(0, 1024),
      source: state.source.kind === 'alarm' ? state.source.alarmName : 'fleetops',
      severity: state.severity,
    });
    state.paging.alert = 'triggered';
    return;
  }
  if (action === 'acknowledge' && alert !== 'triggered') return;
  if (action === 'resolve' && alert !== 'triggered' && alert !== 'acknowledged') return;
  state.pageOutbox.push({ action, dedupKey: state.workflowId, workflowId: state.workflowId });
  state.paging.alert = action === 'acknowledge' ? 'acknowledged' : 'resolved';
}

/** Every postmortem item is checked, and the review is held where the severity asks for one. */
export function postmortemComplete(state: IncidentState): boolean {
  const policy = state.policy;
  if (!policy || state.resolvedAt === undefined) return false;
  if (!policy.checklist.postmortem.every((i) => state.checks[i])) return false;
  return policy.reviewReminderEveryHours === undefined || state.review !== undefined;
}

export function isFinished(state: IncidentState): boolean {
  return state.closedAt !== undefined || state.abortedAt !== undefined;
}

/** A side effect a dry run records instead of making (bounded, oldest dropped first). */
export function recordDryRun(state: IncidentState, action: string, params: Record<string, unknown>): void {
  state.dryRunCalls.push({ action, params });
  if (state.dryRunCalls.length > DRY_RUN_CALLS_KEPT) state.dryRunCalls.splice(0, state.dryRunCalls.length - DRY_RUN_CALLS_KEPT);
}
