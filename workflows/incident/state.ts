import type { DryRunCall } from '../../common/controls';
import type {
  IncidentAlarmEvent,
  IncidentFacts,
  IncidentSeverity,
  IncidentSource,
  IncidentTimelineEntry,
  IncidentTimelineKind,
} from '../../common/workflow-inputs';
import type { SeverityConfig } from '../../config/schema';

/**
 * The incident's state and the rules over it, as pure functions: the workflow (workflows/incident.ts)
 * applies them in its handlers, tests call them directly. No I/O, no clocks: every function that
 * needs the time takes `now` (workflow time, so replays see the same values).
 */

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** Severity config (config/schema.ts `incidents.severities.<sev>`) plus what the worker knows about GitHub. */
export type IncidentPolicy = SeverityConfig & {
  severity: IncidentSeverity;
  /** `incidents.github` is configured and its token env var is set: action items are filed as issues. */
  githubFiling: boolean;
};

export type IncidentRole = 'onCall' | 'commander' | 'scribe';
export const INCIDENT_ROLES: readonly IncidentRole[] = ['onCall', 'commander', 'scribe'];

export type LessonKind = 'went-well' | 'went-wrong' | 'lucky';
export const LESSON_KINDS: readonly LessonKind[] = ['went-well', 'went-wrong', 'lucky'];

export type ActionItemType = 'mitigate' | 'prevent' | 'process';
export const ACTION_ITEM_TYPES: readonly ActionItemType[] = ['mitigate', 'prevent', 'process'];

// ---- update payloads (the updates are defined in workflows/incident.ts) ----

export interface AssignRequest {
  role: IncidentRole;
  person: string;
  by: string;
}

export interface NoteRequest {
  text: string;
  by: string;
  /** `status-update` also restarts the status-update reminder cadence. */
  kind?: 'note' | 'status-update';
}

export interface CheckRequest {
  item: string;
  by: string;
  /** Free text; required by items that record what happened (mitigated, resolved, stakeholders-informed). */
  note?: string;
  /** URL or channel name; required by channel-opened and status-page-updated. */
  link?: string;
}

export interface ResolveRequest {
  by: string;
  /** How the incident was resolved; becomes the postmortem's Resolution unless one is written. */
  text: string;
}

export interface PostmortemFieldsRequest {
  by: string;
  summary?: string;
  impact?: string;
  rootCause?: string;
  trigger?: string;
  resolution?: string;
  detection?: string;
}
export const POSTMORTEM_FIELDS = ['summary', 'impact', 'rootCause', 'trigger', 'resolution', 'detection'] as const;
export type PostmortemField = (typeof POSTMORTEM_FIELDS)[number];

export interface LessonRequest {
  by: string;
  kind: LessonKind;
  text: string;
}

export interface ActionItemRequest {
  by: string;
  type: ActionItemType;
  text: string;
  owner: string;
  /** Issue URL; filled in by GitHub filing when `incidents.github` is configured. */
  trackingLink?: string;
}

export interface LinkActionItemRequest {
  by: string;
  /** `AI-<n>` as addActionItem returned it. */
  id: string;
  trackingLink: string;
}

// ---- state ----

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

export interface ActionItem {
  /** `AI-<n>`, stable for the incident's life; part of the GitHub idempotency marker. */
  id: string;
  type: ActionItemType;
  text: string;
  owner: string;
  trackingLink?: string;
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
}

export interface ReminderState {
  statusReminders: number;
  /** Last status update posted or status reminder sent (ms): the next reminder is one cadence later. */
  lastStatusAt: number;
  /** Postmortem reminders sent after the due date (nudges and the escalation). */
  postmortemReminders: number;
  lastPostmortemReminderAt?: number;
  escalated: boolean;
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
  /** Append-only. */
  timeline: IncidentTimelineEntry[];
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
  notifications: { sent: number; failed: string[] };
  dryRunCalls: DryRunCall[];
  postmortemPath?: string;
}

const SEEN_KEYS_LIMIT = 1000;
const TEXT_LIMIT = 4000;
const NAME_LIMIT = 255;

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
    reminders: { statusReminders: 0, lastStatusAt: args.now, postmortemReminders: 0, escalated: false },
    outbox: [],
    outboxSeq: 0,
    seenKeys: [],
    alarmEvents: 0,
    filingActionItems: false,
    notifications: { sent: 0, failed: [] },
    dryRunCalls: [],
  };
}

export function openerName(source: IncidentSource): string {
  switch (source.kind) {
    case 'alarm':
      return 'router';
    case 'event':
      return source.by ?? 'router';
    case 'cli':
      return source.by;
    case 'workflow':
      return source.workflowId;
  }
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

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
  state.outbox.push({ idempotencyKey: `${state.incidentKey}/${n.key}`, title: n.title, text: n.text, fields: n.fields });
}

export function isFinished(state: IncidentState): boolean {
  return state.closedAt !== undefined || state.abortedAt !== undefined;
}

// ---- validation: each returns the rejection message, or undefined when the request is acceptable ----

function textProblem(value: unknown, field: string, limit = TEXT_LIMIT): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') return `${field} is required`;
  if (value.length > limit) return `${field} is longer than ${limit} characters`;
  return undefined;
}

function optionalTextProblem(value: unknown, field: string, limit = TEXT_LIMIT): string | undefined {
  return value === undefined ? undefined : textProblem(value, field, limit);
}

function openProblem(state: IncidentState): string | undefined {
  if (state.abortedAt !== undefined) return 'the incident was closed without a postmortem';
  if (state.closedAt !== undefined) return 'the incident is closed';
  if (!state.policy) return 'the incident is still loading its severity config; retry in a moment';
  return undefined;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): string | undefined {
  return allowed.includes(value as T) ? undefined : `${field} must be one of ${allowed.join(', ')} (got ${JSON.stringify(value)})`;
}

export function assignProblem(state: IncidentState, req: AssignRequest | undefined): string | undefined {
  if (!req) return 'assign needs { role, person, by }';
  return openProblem(state) ?? oneOf(req.role, INCIDENT_ROLES, 'role') ?? textProblem(req.person, 'person', NAME_LIMIT) ?? textProblem(req.by, 'by', NAME_LIMIT);
}

export function noteProblem(state: IncidentState, req: NoteRequest | undefined): string | undefined {
  if (!req) return 'note needs { text, by }';
  return (
    openProblem(state) ??
    textProblem(req.text, 'text') ??
    textProblem(req.by, 'by', NAME_LIMIT) ??
    (req.kind === undefined ? undefined : oneOf(req.kind, ['note', 'status-update'], 'kind'))
  );
}

/** Which list an item is on, and its position. */
function locateItem(policy: IncidentPolicy, item: string): { list: 'response' | 'postmortem'; index: number } | undefined {
  const r = policy.checklist.response.indexOf(item);
  if (r >= 0) return { list: 'response', index: r };
  const p = policy.checklist.postmortem.indexOf(item);
  if (p >= 0) return { list: 'postmortem', index: p };
  return undefined;
}

function commanderProblem(state: IncidentState, policy: IncidentPolicy, what: string): string | undefined {
  if (policy.requireCommanderToMitigate && !state.roles.commander) {
    return `${state.severity} cannot be ${what} without an incident commander: assign one first (update "assign" with role "commander")`;
  }
  return undefined;
}

function rootCauseProblem(state: IncidentState, policy: IncidentPolicy): string | undefined {
  if (policy.requireRootCause && !state.postmortem.rootCause) {
    return `${state.severity} needs a root cause before the postmortem closes (update "editPostmortem" with rootCause)`;
  }
  return undefined;
}

function lessonProblem(state: IncidentState, kind: LessonKind, item: string): string | undefined {
  return state.postmortem.lessons.some((l) => l.kind === kind)
    ? undefined
    : `"${item}" needs at least one "${kind}" lesson first (update "addLesson" with kind "${kind}")`;
}

/** Field and state requirements of the items fleetops knows; items a config adds have only the order rule. */
function itemRequirementProblem(state: IncidentState, policy: IncidentPolicy, req: CheckRequest): string | undefined {
  switch (req.item) {
    case 'commander-assigned':
      return state.roles.commander ? undefined : '"commander-assigned" needs a commander: assign one first (update "assign" with role "commander")';
    case 'channel-opened':
    case 'status-page-updated':
      return req.link ? undefined : `"${req.item}" needs link (the channel or status page)`;
    case 'stakeholders-informed':
      return req.note ? undefined : '"stakeholders-informed" needs note (who was informed, and how)';
    case 'mitigated':
      return commanderProblem(state, policy, 'marked mitigated') ?? (req.note ? undefined : '"mitigated" needs note (what mitigated the impact)');
    case 'resolved':
      return resolveRequirementProblem(state, policy, req.note);
    case 'what-went-well':
      return lessonProblem(state, 'went-well', req.item);
    case 'what-went-wrong':
      return lessonProblem(state, 'went-wrong', req.item);
    case 'where-we-got-lucky':
      return lessonProblem(state, 'lucky', req.item);
    case 'root-cause':
      return state.postmortem.rootCause ? undefined : '"root-cause" needs a root cause (update "editPostmortem" with rootCause)';
    case 'action-items-filed':
      return actionItemsProblem(state, policy);
    default:
      return undefined;
  }
}

function resolveRequirementProblem(state: IncidentState, policy: IncidentPolicy, text: string | undefined): string | undefined {
  return commanderProblem(state, policy, 'resolved') ?? (text ? undefined : 'resolving needs text (how the incident was resolved)');
}

function actionItemsProblem(state: IncidentState, policy: IncidentPolicy): string | undefined {
  const items = state.postmortem.actionItems;
  if (items.length === 0) return '"action-items-filed" needs at least one action item (update "addActionItem")';
  if (state.filingActionItems) return 'action items are being filed; retry when that finishes';
  if (!policy.githubFiling) {
    const unlinked = items.filter((i) => !i.trackingLink).map((i) => i.id);
    if (unlinked.length > 0) {
      return `action items ${unlinked.join(', ')} have no tracking link and GitHub filing is not configured (incidents.github): add trackingLink`;
    }
  }
  return undefined;
}

export function checkProblem(state: IncidentState, req: CheckRequest | undefined): string | undefined {
  if (!req) return 'check needs { item, by }';
  const basic =
    openProblem(state) ??
    textProblem(req.item, 'item', NAME_LIMIT) ??
    textProblem(req.by, 'by', NAME_LIMIT) ??
    optionalTextProblem(req.note, 'note') ??
    optionalTextProblem(req.link, 'link', 2000);
  if (basic) return basic;
  const policy = state.policy as IncidentPolicy;
  const where = locateItem(policy, req.item);
  if (!where) {
    const all = [...policy.checklist.response, ...policy.checklist.postmortem];
    return `unknown checklist item "${req.item}" for ${state.severity}; items are: ${all.join(', ')}`;
  }
  const done = state.checks[req.item];
  if (done) return `"${req.item}" is already checked (by ${done.by} at ${done.at})`;
  if (where.list === 'postmortem' && state.resolvedAt === undefined) {
    return `"${req.item}" is a postmortem item: resolve the incident first`;
  }
  const list = policy.checklist[where.list];
  const missing = list.slice(0, where.index).filter((i) => !state.checks[i]);
  if (missing.length > 0) {
    return `"${req.item}" comes after ${missing.map((m) => `"${m}"`).join(', ')}, not checked yet`;
  }
  const requirement = itemRequirementProblem(state, policy, req);
  if (requirement) return requirement;
  const closesPostmortem = where.list === 'postmortem' && where.index === list.length - 1;
  return closesPostmortem ? rootCauseProblem(state, policy) : undefined;
}

export function resolveProblem(state: IncidentState, req: ResolveRequest | undefined): string | undefined {
  if (!req) return 'resolve needs { by, text }';
  const basic = openProblem(state) ?? textProblem(req.by, 'by', NAME_LIMIT) ?? textProblem(req.text, 'text');
  if (basic) return basic;
  if (state.resolvedAt !== undefined) return 'the incident is already resolved';
  const policy = state.policy as IncidentPolicy;
  const pending = policy.checklist.response.filter((i) => i !== 'resolved' && !state.checks[i]);
  if (pending.length > 0) return `cannot resolve before ${pending.map((p) => `"${p}"`).join(', ')} are checked`;
  return resolveRequirementProblem(state, policy, req.text);
}

export function postmortemFieldsProblem(state: IncidentState, req: PostmortemFieldsRequest | undefined): string | undefined {
  if (!req) return 'editPostmortem needs { by, ...fields }';
  const basic = openProblem(state) ?? textProblem(req.by, 'by', NAME_LIMIT);
  if (basic) return basic;
  const given = POSTMORTEM_FIELDS.filter((f) => req[f] !== undefined);
  if (given.length === 0) return `editPostmortem needs at least one of ${POSTMORTEM_FIELDS.join(', ')}`;
  for (const f of given) {
    const p = textProblem(req[f], f, 20_000);
    if (p) return p;
  }
  return undefined;
}

export function lessonRequestProblem(state: IncidentState, req: LessonRequest | undefined): string | undefined {
  if (!req) return 'addLesson needs { by, kind, text }';
  return openProblem(state) ?? textProblem(req.by, 'by', NAME_LIMIT) ?? oneOf(req.kind, LESSON_KINDS, 'kind') ?? textProblem(req.text, 'text');
}

export function actionItemProblem(state: IncidentState, req: ActionItemRequest | undefined): string | undefined {
  if (!req) return 'addActionItem needs { by, type, text, owner }';
  const basic =
    openProblem(state) ??
    textProblem(req.by, 'by', NAME_LIMIT) ??
    oneOf(req.type, ACTION_ITEM_TYPES, 'type') ??
    textProblem(req.text, 'text') ??
    textProblem(req.owner, 'owner', NAME_LIMIT);
  if (basic) return basic;
  if (req.trackingLink !== undefined && !/^https?:\/\/\S+$/.test(req.trackingLink)) return 'trackingLink must be an http(s) URL';
  if (state.checks['action-items-filed']) return 'action items were already filed; add follow-ups in the tracker';
  return undefined;
}

export function linkActionItemProblem(state: IncidentState, req: LinkActionItemRequest | undefined): string | undefined {
  if (!req) return 'linkActionItem needs { by, id, trackingLink }';
  const basic = openProblem(state) ?? textProblem(req.by, 'by', NAME_LIMIT) ?? textProblem(req.id, 'id', NAME_LIMIT);
  if (basic) return basic;
  if (!state.postmortem.actionItems.some((i) => i.id === req.id)) {
    return `unknown action item "${req.id}"; items are: ${state.postmortem.actionItems.map((i) => i.id).join(', ') || 'none'}`;
  }
  if (typeof req.trackingLink !== 'string' || !/^https?:\/\/\S+$/.test(req.trackingLink)) return 'trackingLink must be an http(s) URL';
  return undefined;
}

// ---- mutations (called after the matching validation passed) ----

const ROLE_NAMES: Record<IncidentRole, string> = { onCall: 'on-call', commander: 'incident commander', scribe: 'scribe' };

export function applyAssign(state: IncidentState, req: AssignRequest, now: number): void {
  const before = state.roles[req.role];
  state.roles[req.role] = req.person;
  const text = before ? `${ROLE_NAMES[req.role]} changed from ${before} to ${req.person}` : `${ROLE_NAMES[req.role]}: ${req.person}`;
  appendTimeline(state, { author: req.by, kind: 'role', text }, now);
}

export function applyNote(state: IncidentState, req: NoteRequest, now: number): void {
  const kind = req.kind ?? 'note';
  appendTimeline(state, { author: req.by, kind, text: req.text }, now);
  if (kind === 'status-update' && state.resolvedAt === undefined) state.reminders.lastStatusAt = now;
}

function markResolved(state: IncidentState, by: string, text: string, now: number): void {
  state.resolvedAt = now;
  const dueAt = postmortemDueAt(state) as number;
  queueNotification(state, {
    key: 'resolved',
    title: `${state.severity} resolved: ${state.title}`,
    text: `Resolved by ${by}: ${text}\nThe postmortem is due ${iso(dueAt)}.`,
    fields: { severity: state.severity, 'postmortem due': iso(dueAt) },
  });
}

export function applyCheck(state: IncidentState, req: CheckRequest, now: number): void {
  state.checks[req.item] = { by: req.by, at: iso(now), ...(req.note ? { note: req.note } : {}), ...(req.link ? { link: req.link } : {}) };
  const detail = [req.note, req.link].filter(Boolean).join(' — ');
  appendTimeline(state, { author: req.by, kind: 'checklist', text: `checked "${req.item}"${detail ? `: ${detail}` : ''}` }, now);
  if (req.item === 'mitigated') state.mitigatedAt = now;
  if (req.item === 'resolved') markResolved(state, req.by, req.note ?? '', now);
  const policy = state.policy as IncidentPolicy;
  if (state.resolvedAt !== undefined && policy.checklist.postmortem.every((i) => state.checks[i])) {
    state.closedAt = now;
    appendTimeline(state, { author: req.by, kind: 'postmortem', text: 'postmortem complete' }, now);
  }
}

export function applyResolve(state: IncidentState, req: ResolveRequest, now: number): void {
  const policy = state.policy as IncidentPolicy;
  if (policy.checklist.response.includes('resolved')) {
    applyCheck(state, { item: 'resolved', by: req.by, note: req.text }, now);
    return;
  }
  appendTimeline(state, { author: req.by, kind: 'checklist', text: `resolved: ${req.text}` }, now);
  markResolved(state, req.by, req.text, now);
}

function addAuthor(state: IncidentState, by: string): void {
  if (!state.postmortem.authors.includes(by)) state.postmortem.authors.push(by);
}

export function applyPostmortemFields(state: IncidentState, req: PostmortemFieldsRequest, now: number): void {
  const changed = POSTMORTEM_FIELDS.filter((f) => req[f] !== undefined);
  for (const f of changed) state.postmortem[f] = req[f];
  addAuthor(state, req.by);
  appendTimeline(state, { author: req.by, kind: 'postmortem', text: `postmortem edited: ${changed.join(', ')}` }, now);
}

export function applyLesson(state: IncidentState, req: LessonRequest, now: number): void {
  state.postmortem.lessons.push({ kind: req.kind, text: req.text, by: req.by });
  addAuthor(state, req.by);
  appendTimeline(state, { author: req.by, kind: 'postmortem', text: `lesson added (${req.kind})` }, now);
}

export function applyActionItem(state: IncidentState, req: ActionItemRequest, now: number): ActionItem {
  const item: ActionItem = {
    id: `AI-${state.postmortem.actionItems.length + 1}`,
    type: req.type,
    text: req.text,
    owner: req.owner,
    ...(req.trackingLink ? { trackingLink: req.trackingLink } : {}),
  };
  state.postmortem.actionItems.push(item);
  addAuthor(state, req.by);
  appendTimeline(state, { author: req.by, kind: 'postmortem', text: `action item ${item.id} (${item.type}, owner ${item.owner}): ${item.text}` }, now);
  return item;
}

/** An alarm state change routed to this incident: ALARMs (first and repeated) and recoveries go on the timeline. */
export function applyAlarmEvent(state: IncidentState, ev: IncidentAlarmEvent, now: number): boolean {
  if (!markSeen(state, `alarm:${ev.eventId}`)) return false;
  const reason = ev.reason ? `: ${ev.reason}` : '';
  let text: string;
  if (ev.state === 'ALARM') {
    state.alarmEvents += 1;
    text = state.alarmEvents === 1 ? `alarm ${ev.alarmName} in ALARM${reason}` : `alarm ${ev.alarmName} in ALARM again (${state.alarmEvents} times so far)${reason}`;
    if (state.resolvedAt !== undefined && !isFinished(state)) {
      queueNotification(state, {
        key: `alarm-after-resolution/${ev.eventId}`,
        title: `${state.severity} ${state.title}: alarm fired again after resolution`,
        text: `alarm ${ev.alarmName} is in ALARM again${reason}. Consider opening a new incident or reopening the investigation.`,
        fields: { severity: state.severity, alarm: ev.alarmName },
      });
    }
  } else if (ev.state === 'OK') {
    text = `alarm recovered: ${ev.alarmName} is OK${reason}`;
  } else {
    text = `alarm ${ev.alarmName} has insufficient data${reason}`;
  }
  appendTimeline(state, { time: ev.time, author: 'cloudwatch', kind: 'alarm', text }, now);
  return true;
}

/** Facts another workflow reported (a missed drain deadline, a failed rollback), recorded once per key. */
export function applyFacts(state: IncidentState, facts: IncidentFacts, now: number): boolean {
  if (!markSeen(state, `facts:${facts.key}`)) return false;
  for (const e of facts.entries) appendTimeline(state, e, now);
  return true;
}

export function applyLinkActionItem(state: IncidentState, req: LinkActionItemRequest, now: number): ActionItem {
  const item = state.postmortem.actionItems.find((i) => i.id === req.id) as ActionItem;
  item.trackingLink = req.trackingLink;
  appendTimeline(state, { author: req.by, kind: 'postmortem', text: `action item ${item.id} tracked at ${req.trackingLink}` }, now);
  return item;
}

// ---- reminders ----

/** `n` business days (Mon-Fri, UTC) after `ms`, same time of day. Resolution on a weekend counts from Monday. */
export function addBusinessDays(ms: number, n: number): number {
  let at = ms;
  let added = 0;
  while (added < n) {
    at += DAY_MS;
    const day = new Date(at).getUTCDay();
    if (day !== 0 && day !== 6) added += 1;
  }
  return at;
}

export function postmortemDueAt(state: IncidentState): number | undefined {
  if (state.resolvedAt === undefined || !state.policy) return undefined;
  return addBusinessDays(state.resolvedAt, state.policy.postmortemDueBusinessDays);
}

export type ReminderKind = 'status-update' | 'postmortem-nudge' | 'postmortem-escalation';

export interface DueReminder {
  kind: ReminderKind;
  at: number;
  /** 1-based count within its kind's series; part of the idempotency key. */
  n: number;
}

/**
 * The next reminder this incident owes, or none. While open: a status-update reminder one cadence
 * after the last status update or reminder. After resolution: nothing until the postmortem is due,
 * then a nudge every `nudgeEveryHours`; the reminder after `escalateAfterNudges` nudges is the
 * escalation, and nudges go on until the postmortem closes. Reminders held by a pause go out as one
 * on resume, and the cadence restarts from then (see `anchor`).
 */
export function nextReminder(state: IncidentState): DueReminder | undefined {
  const policy = state.policy;
  if (!policy || isFinished(state)) return undefined;
  const r = state.reminders;
  if (state.resolvedAt === undefined) {
    return { kind: 'status-update', at: r.lastStatusAt + policy.statusUpdateEveryMinutes * MINUTE_MS, n: r.statusReminders + 1 };
  }
  const dueAt = postmortemDueAt(state) as number;
  const at = r.lastPostmortemReminderAt === undefined ? dueAt : r.lastPostmortemReminderAt + policy.nudgeEveryHours * HOUR_MS;
  if (!r.escalated && r.postmortemReminders >= policy.escalateAfterNudges) return { kind: 'postmortem-escalation', at, n: 1 };
  const nudgesSent = r.postmortemReminders - (r.escalated ? 1 : 0);
  return { kind: 'postmortem-nudge', at, n: nudgesSent + 1 };
}

/**
 * What the next interval counts from: the reminder's planned time, so the cadence does not drift by
 * the few milliseconds a workflow task takes; or now, when the reminder is more than an interval late
 * (held by a pause), so held reminders do not come out as a burst.
 */
function anchor(plannedAt: number, now: number, interval: number): number {
  return now - plannedAt < interval ? plannedAt : now;
}

/** Builds the notification for a due reminder and records it as sent, so it is never sent twice. */
export function takeReminder(state: IncidentState, due: DueReminder, now: number): OutgoingNotification {
  const policy = state.policy as IncidentPolicy;
  const r = state.reminders;
  const people = { 'on-call': state.roles.onCall ?? 'unassigned', commander: state.roles.commander ?? 'unassigned' };
  let title: string;
  let text: string;
  if (due.kind === 'status-update') {
    r.statusReminders += 1;
    r.lastStatusAt = anchor(due.at, now, policy.statusUpdateEveryMinutes * MINUTE_MS);
    title = `${state.severity} ${state.title}: status update due`;
    text = `No status update in the last ${policy.statusUpdateEveryMinutes} min. Post one (note with kind status-update).`;
  } else {
    const dueAt = postmortemDueAt(state) as number;
    r.postmortemReminders += 1;
    r.lastPostmortemReminderAt = anchor(due.at, now, policy.nudgeEveryHours * HOUR_MS);
    const pending = policy.checklist.postmortem.filter((i) => !state.checks[i]);
    if (due.kind === 'postmortem-escalation') {
      r.escalated = true;
      title = `${state.severity} ${state.title}: postmortem overdue, escalating`;
      text = `The postmortem was due ${iso(dueAt)} and ${policy.escalateAfterNudges} reminders went unanswered. Still open: ${pending.join(', ')}.`;
    } else {
      title = `${state.severity} ${state.title}: postmortem due`;
      text = `The postmortem is due ${iso(dueAt)}. Still open: ${pending.join(', ')}.`;
    }
  }
  return {
    idempotencyKey: `${state.incidentKey}/${due.kind}/${due.n}`,
    title,
    text,
    fields: { ...people, severity: state.severity, scheduled: iso(due.at) },
  };
}

export type IncidentPhase = 'opening' | 'open' | 'mitigated' | 'postmortem' | 'postmortem-overdue' | 'closed' | 'aborted';

export function phaseOf(state: IncidentState, now: number): IncidentPhase {
  if (state.abortedAt !== undefined) return 'aborted';
  if (state.closedAt !== undefined) return 'closed';
  if (!state.policy) return 'opening';
  if (state.resolvedAt !== undefined) return now >= (postmortemDueAt(state) as number) ? 'postmortem-overdue' : 'postmortem';
  return state.mitigatedAt !== undefined ? 'mitigated' : 'open';
}

export function summaryOf(state: IncidentState, phase: IncidentPhase, now: number): string {
  const head = `${state.severity} ${state.title}`;
  const commander = state.roles.commander ? `commander ${state.roles.commander}` : 'no commander';
  switch (phase) {
    case 'opening':
      return `${head}: opening`;
    case 'open':
    case 'mitigated':
      return `${head}: ${phase} for ${Math.round((now - state.openedAt) / MINUTE_MS)} min, ${commander}, ${state.timeline.length} timeline entries`;
    case 'postmortem':
    case 'postmortem-overdue': {
      const pending = (state.policy as IncidentPolicy).checklist.postmortem.filter((i) => !state.checks[i]);
      return `${head}: resolved; postmortem ${phase === 'postmortem' ? 'due' : 'overdue since'} ${iso(postmortemDueAt(state) as number)}, open items: ${pending.join(', ')}`;
    }
    case 'closed':
      return `${head}: closed, postmortem ${state.postmortemPath ?? 'rendered'}`;
    case 'aborted':
      return `${head}: closed without postmortem`;
  }
}
