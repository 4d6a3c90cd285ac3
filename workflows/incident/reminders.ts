import type { IncidentPolicy } from '../../common/incident/model';
import { isFinished, iso, type IncidentState, type OutgoingNotification } from './state';

/**
 * The incident's reminders as pure functions over its state: status updates while open, then
 * postmortem nudges and one escalation once the postmortem is due. The workflow sleeps until
 * nextReminder(), then queues takeReminder(); both are durable because the state records what was sent.
 */

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

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
