import type { ActionItem, IncidentPolicy, IncidentRole } from '../../common/incident/model';
import { POSTMORTEM_FIELDS } from '../../common/incident/model';
import type { IncidentAlarmEvent, IncidentFacts } from '../../common/workflow-inputs';
import type {
  ActionItemRequest,
  AssignRequest,
  CheckRequest,
  LessonRequest,
  LinkActionItemRequest,
  NoteRequest,
  PostmortemFieldsRequest,
  ResolveRequest,
} from './messages';
import { postmortemDueAt } from './reminders';
import { appendTimeline, isFinished, iso, markSeen, queueNotification, type IncidentState } from './state';

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
  const policy = state.policy as IncidentPolicy;
  const list = policy.checklist.response.includes(req.item) ? policy.checklist.response : policy.checklist.postmortem;
  const done = list.filter((i) => state.checks[i]).length;
  queueChatLine(state, `${state.severity} ${state.title}: checklist ${done}/${list.length}`, `checked "${req.item}"${detail ? `: ${detail}` : ''}`, req.by);
  if (req.item === 'mitigated') state.mitigatedAt = now;
  if (req.item === 'resolved') markResolved(state, req.by, req.note ?? '', now);
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
