import { recordAlarmChange } from './alarm-timeline';
import type { ActionItem, IncidentRole } from '../../common/incident/model';
import type { IncidentPolicy } from '../../config/incident-policy';
import { POSTMORTEM_FIELDS } from '../../common/incident/model';
import type { IncidentAlarmEvent, IncidentFacts } from '../../contracts/incident/input';
import type {
  ActionItemRequest,
  AssignRequest,
  CheckRequest,
  LessonRequest,
  LinkActionItemRequest,
  NoteRequest,
  PostmortemFieldsRequest,
  ResolveRequest,
  ReviewHeldRequest,
  SeverityChangeRequest,
} from '../../contracts/incident/messages';
import { postmortemDueAt } from './reminders';
import { appendTimeline, isFinished, iso, markSeen, postmortemComplete, queueNotification, queuePage, type IncidentState } from './state';

/**
 * What each signal and update does to the state, called after the matching validation
 * (validation.ts) passed. Timeline entries and notifications are queued here; the workflow sends them.
 */

const ROLE_NAMES: Record<IncidentRole, string> = { onCall: 'on-call', commander: 'incident commander', scribe: 'scribe' };

/**
 * A timeline line for the incident's chat thread only (policy.chatTimeline: Slack is configured for
 * incidents), once the declaration is queued: it is the thread's root.
 */
function queueChatLine(state: IncidentState, title: string, text: string, by: string): void {
  if (!state.policy?.chatTimeline || state.outboxSeq === 0) return;
  queueNotification(state, { key: `timeline/${state.timeline.length}`, title, text, fields: { by }, chatOnly: true });
}

export function applyAssign(state: IncidentState, req: AssignRequest, now: number): void {
  const before = state.roles[req.role];
  state.roles[req.role] = req.person;
  const text = before ? `${ROLE_NAMES[req.role]} changed from ${before} to ${req.person}` : `${ROLE_NAMES[req.role]}: ${req.person}`;
  appendTimeline(state, { author: req.by, kind: 'role', text }, now);
  // Someone has taken command: the page has been answered.
  if (req.role === 'commander') queuePage(state, 'acknowledge');
  queueChatLine(state, `${state.severity} ${state.title}: role change`, text, req.by);
}

export function applyNote(state: IncidentState, req: NoteRequest, now: number): void {
  const kind = req.kind ?? 'note';
  appendTimeline(state, { author: req.by, kind, text: req.text }, now);
  if (kind === 'status-update' && state.resolvedAt === undefined) state.reminders.lastStatusAt = now;
}

function markResolved(state: IncidentState, by: string, text: string, now: number): void {
  state.resolvedAt = now;
  const dueAt = postmortemDueAt(state) as number;
  const round = state.reopenings.length;
  queuePage(state, 'resolve');
  queueNotification(state, {
    key: round === 0 ? 'resolved' : `resolved/${round + 1}`,
    title: `${state.severity} resolved: ${state.title}`,
    text: `Resolved by ${by}: ${text}\nThe postmortem is due ${iso(dueAt)}.`,
    fields: { severity: state.severity, 'postmortem due': iso(dueAt) },
  });
}

export function applyCheck(state: IncidentState, req: CheckRequest, now: number): void {
  state.checks[req.item] = { by: req.by, at: iso(now), ...(req.note ? { note: req.note } : {}), ...(req.link ? { link: req.link } : {}) };
  const detail = [req.note, req.link].filter(Boolean).join(' — ');
  appendTimeline(state, { author: req.by, kind: 'checklist', text: `checked "${req.item}"${detail ? `: ${detail}` : ''}` }, now);
  const policy = state.policy as IncidentPolicy;
  const list = policy.checklist.response.includes(req.item) ? policy.checklist.response : policy.checklist.postmortem;
  const done = list.filter((i) => state.checks[i]).length;
  queueChatLine(state, `${state.severity} ${state.title}: checklist ${done}/${list.length}`, `checked "${req.item}"${detail ? `: ${detail}` : ''}`, req.by);
  if (req.item === 'mitigated') state.mitigatedAt = now;
  if (req.item === 'resolved') markResolved(state, req.by, req.note ?? '', now);
  closeIfComplete(state, req.by, now);
}

/** The last postmortem item, or the review where one is required, closes the incident. */
function closeIfComplete(state: IncidentState, by: string, now: number): void {
  if (!postmortemComplete(state)) return;
  state.closedAt = now;
  appendTimeline(state, { author: by, kind: 'postmortem', text: 'postmortem complete' }, now);
}

export function applyReviewHeld(state: IncidentState, req: ReviewHeldRequest, now: number): void {
  state.review = { by: req.by, at: iso(now), ...(req.note ? { note: req.note } : {}), ...(req.link ? { link: req.link } : {}) };
  const detail = [req.note, req.link].filter(Boolean).join(' — ');
  appendTimeline(state, { author: req.by, kind: 'postmortem', text: `postmortem review held${detail ? `: ${detail}` : ''}` }, now);
  closeIfComplete(state, req.by, now);
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
    recordAlarmChange(state, ev, text, now);
    // A late delivery of an ALARM from before the resolution is history, not a recurrence.
    const after = state.resolvedAt !== undefined && Date.parse(ev.time) > state.resolvedAt;
    if (after && !isFinished(state)) reopen(state, 'cloudwatch', `alarm ${ev.alarmName} in ALARM again${reason}`, now);
    return true;
  } else if (ev.state === 'OK') {
    text = `alarm recovered: ${ev.alarmName} is OK${reason}`;
  } else {
    text = `alarm ${ev.alarmName} has insufficient data${reason}`;
  }
  recordAlarmChange(state, ev, text, now);
  return true;
}

/**
 * The problem is back while the postmortem is still being written: the incident is open again, not
 * just a timeline line. Mitigated and resolved are unchecked (they no longer hold), every other item
 * stays done; the status cadence restarts now, the postmortem reminders wait for the next resolution,
 * the phase goes back to open (so a sev1/sev2 with a cluster freezes its deploys again), and the
 * on-call is paged again where the severity pages.
 */
export function reopen(state: IncidentState, by: string, reason: string, now: number): void {
  const resolvedAt = state.resolvedAt as number;
  state.reopenings.push({ at: now, by, reason: reason.slice(0, 1000), resolvedAt });
  state.resolvedAt = undefined;
  state.mitigatedAt = undefined;
  delete state.checks.resolved;
  delete state.checks.mitigated;
  const r = state.reminders;
  r.lastStatusAt = now;
  r.postmortemReminders = 0;
  r.lastPostmortemReminderAt = undefined;
  r.escalated = false;
  r.reviewReminders = 0;
  r.lastReviewReminderAt = undefined;
  const n = state.reopenings.length;
  appendTimeline(state, { author: by, kind: 'reopened', text: `reopened (${n === 1 ? 'first time' : `${n} times so far`}; resolved ${iso(resolvedAt)}): ${reason}` }, now);
  queuePage(state, 'trigger');
  queueNotification(state, {
    key: `reopened/${n}`,
    title: `${state.severity} ${state.title}: reopened`,
    text: `${reason}. The incident was resolved ${iso(resolvedAt)} and is open again: mitigate and resolve it again; the postmortem stays as written.`,
    fields: { severity: state.severity, commander: state.roles.commander ?? 'unassigned' },
  });
}

/**
 * The new severity's checklist with the items already done kept: the new list in its order, and each
 * done item the new list lacks right after the item it followed before (or first).
 */
export function mergeChecklist(next: readonly string[], previous: readonly string[], isDone: (item: string) => boolean): string[] {
  const merged = [...next];
  previous.forEach((item, i) => {
    if (merged.includes(item) || !isDone(item)) return;
    const before = previous.slice(0, i).reverse().find((p) => merged.includes(p));
    merged.splice(before === undefined ? 0 : merged.indexOf(before) + 1, 0, item);
  });
  return merged;
}

/**
 * Escalation or de-escalation, after the new severity's policy was loaded: checklists merged, the
 * status cadence restarts now at the new rate (the change itself is announced), paging follows (a
 * page opened by the escalation waits for someone to acknowledge it in PagerDuty; de-escalating below
 * the paging severities resolves it, so nobody is woken for a sev3).
 */
export function applySeverityChange(state: IncidentState, req: SeverityChangeRequest, next: IncidentPolicy, now: number): void {
  const previous = state.policy as IncidentPolicy;
  const from = state.severity;
  const done = (item: string): boolean => Boolean(state.checks[item]);
  state.policy = {
    ...next,
    checklist: {
      response: mergeChecklist(next.checklist.response, previous.checklist.response, done),
      postmortem: mergeChecklist(next.checklist.postmortem, previous.checklist.postmortem, done),
    },
  };
  state.severity = req.severity;
  state.severityChanges.push({ from, to: req.severity, by: req.by, reason: req.reason, at: iso(now) });
  const direction = severityRank(req.severity) < severityRank(from) ? 'escalated' : 'de-escalated';
  appendTimeline(state, { author: req.by, kind: 'severity', text: `${direction} ${from} → ${req.severity}: ${req.reason}` }, now);
  if (state.resolvedAt === undefined) state.reminders.lastStatusAt = now;
  // Escalated into a paging severity while open: page (more hands), even with a commander in charge.
  if (next.paging) {
    if (state.resolvedAt === undefined) queuePage(state, 'trigger');
  } else {
    queuePage(state, 'resolve');
  }
  queueNotification(state, {
    key: `severity/${state.severityChanges.length}`,
    title: `${req.severity} ${state.title}: ${direction} from ${from}`,
    text: `${direction[0]!.toUpperCase()}${direction.slice(1)} by ${req.by}: ${req.reason}`,
    fields: { severity: req.severity, was: from, commander: state.roles.commander ?? 'unassigned' },
  });
}

/** sev1 is the most severe. */
function severityRank(severity: string): number {
  return Number(severity.replace(/^sev/, ''));
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
