import type { IncidentPolicy } from '../../config/incident-policy';
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

export type ReminderKind = 'status-update' | 'postmortem-nudge' | 'postmortem-escalation' | 'review-reminder';

export interface DueReminder {
  kind: ReminderKind;
  at: number;
  /** 1-based count within its kind's series; part of the idempotency key. */
  n: number;
}

/** Nudges about the postmortem document while any of its items is open: from the due date, then every `nudgeEveryHours`. */
function postmortemReminder(state: IncidentState, policy: IncidentPolicy, dueAt: number): DueReminder | undefined {
  if (policy.checklist.postmortem.every((i) => state.checks[i])) return undefined;
  const r = state.reminders;
  const at = r.lastPostmortemReminderAt === undefined ? dueAt : r.lastPostmortemReminderAt + policy.nudgeEveryHours * HOUR_MS;
  if (!r.escalated && r.postmortemReminders >= policy.escalateAfterNudges) return { kind: 'postmortem-escalation', at, n: 1 };
  const nudgesSent = r.postmortemReminders - (r.escalated ? 1 : 0);
  return { kind: 'postmortem-nudge', at, n: nudgesSent + 1 };
}

/** Reminders to the commander to hold the review: from the due date, every `reviewReminderEveryHours`, until marked held. */
function reviewReminder(state: IncidentState, policy: IncidentPolicy, dueAt: number): DueReminder | undefined {
  if (policy.reviewReminderEveryHours === undefined || state.review) return undefined;
  const r = state.reminders;
  const at = r.lastReviewReminderAt === undefined ? dueAt : r.lastReviewReminderAt + policy.reviewReminderEveryHours * HOUR_MS;
  return { kind: 'review-reminder', at, n: r.reviewReminders + 1 };
}

/**
 * The next reminder this incident owes, or none. While open: a status-update reminder one cadence
 * after the last status update or reminder. After resolution: nothing until the postmortem is due,
 * then a nudge every `nudgeEveryHours` while postmortem items are open (the reminder after
 * `escalateAfterNudges` nudges is the escalation), and, where the severity has a review, a reminder
 * to the commander every `reviewReminderEveryHours` until the review is marked held; the earlier of
 * the two goes first. Reminders held by a pause go out as one on resume, and the cadence restarts
 * from then (see `anchor`).
 */
export function nextReminder(state: IncidentState): DueReminder | undefined {
  const policy = state.policy;
  if (!policy || isFinished(state)) return undefined;
  const r = state.reminders;
  if (state.resolvedAt === undefined) {
    return { kind: 'status-update', at: r.lastStatusAt + policy.statusUpdateEveryMinutes * MINUTE_MS, n: r.statusReminders + 1 };
  }
  const dueAt = postmortemDueAt(state) as number;
  const candidates = [postmortemReminder(state, policy, dueAt), reviewReminder(state, policy, dueAt)].filter((c): c is DueReminder => c !== undefined);
  return candidates.reduce<DueReminder | undefined>((first, c) => (first === undefined || c.at < first.at ? c : first), undefined);
}

/**
 * What the next interval counts from: the reminder's planned time, so the cadence does not drift by
 * the few milliseconds a workflow task takes; or now, when the reminder is more than an interval late
 * (held by a pause), so held reminders do not come out as a burst.
 */
function anchor(plannedAt: number, now: number, interval: number): number {
  return now - plannedAt < interval ? plannedAt : now;
}

/**
 * The reminder's idempotency key. The postmortem series start again after a reopening (the due date
 * moves with the new resolution), so those keys carry the reopening they belong to.
 */
function reminderKey(state: IncidentState, due: DueReminder): string {
  const round = state.reopenings.length;
  return round === 0 || due.kind === 'status-update' ? `${state.incidentKey}/${due.kind}/${due.n}` : `${state.incidentKey}/${due.kind}/reopened-${round}/${due.n}`;
}

/** Builds the notification for a due reminder and records it as sent, so it is never sent twice. */
export function takeReminder(state: IncidentState, due: DueReminder, now: number): OutgoingNotification {
  const policy = state.policy as IncidentPolicy;
  const r = state.reminders;
  const people = { 'on-call': state.roles.onCall ?? 'unassigned', commander: state.roles.commander ?? 'unassigned' };
  const channel = state.checks['channel-opened']?.link;
  let title: string;
  let text: string;
  if (due.kind === 'status-update') {
    r.statusReminders += 1;
    r.lastStatusAt = anchor(due.at, now, policy.statusUpdateEveryMinutes * MINUTE_MS);
    title = `${state.severity} ${state.title}: status update due`;
    text = `No status update in the last ${policy.statusUpdateEveryMinutes} min. Post one (note with kind status-update).`;
  } else if (due.kind === 'review-reminder') {
    r.reviewReminders += 1;
    r.lastReviewReminderAt = anchor(due.at, now, (policy.reviewReminderEveryHours as number) * HOUR_MS);
    title = `${state.severity} ${state.title}: postmortem review due`;
    text =
      `${state.roles.commander ?? 'Commander (unassigned)'}: review this postmortem and its prevention work in the SRE meeting, ` +
      `then mark the review held (fleetops incident review-held ${state.workflowId}).`;
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
    idempotencyKey: reminderKey(state, due),
    title,
    text,
    fields: { ...people, severity: state.severity, ...(due.kind === 'review-reminder' && channel ? { channel } : {}), scheduled: iso(due.at) },
  };
}
