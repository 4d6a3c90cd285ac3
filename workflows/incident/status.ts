import type { IncidentPhase } from '../../common/incident/model';
import type { IncidentPolicy } from '../../config/incident-policy';
import type { ChecklistItemStatus, IncidentStatus } from '../../contracts/incident/messages';
import { nextReminder, postmortemDueAt } from './reminders';
import { iso, type IncidentState } from './state';

/** What clients read: the phase (FleetopsPhase), a one-line summary, and the `status` query's answer. */

const MINUTE_MS = 60_000;

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
    case 'mitigated': {
      const again = state.reopenings.length > 0 ? ` (reopened ${state.reopenings.length}×)` : '';
      return `${head}: ${phase}${again} for ${Math.round((now - state.openedAt) / MINUTE_MS)} min, ${commander}, ${state.timeline.length} timeline entries`;
    }
    case 'postmortem':
    case 'postmortem-overdue': {
      const pending = (state.policy as IncidentPolicy).checklist.postmortem.filter((i) => !state.checks[i]);
      const due = `${phase === 'postmortem' ? 'due' : 'overdue since'} ${iso(postmortemDueAt(state) as number)}`;
      if (pending.length === 0) return `${head}: resolved; postmortem written, review ${due} (commander ${state.roles.commander ?? 'unassigned'})`;
      return `${head}: resolved; postmortem ${due}, open items: ${pending.join(', ')}`;
    }
    case 'closed':
      return `${head}: closed, postmortem ${state.postmortemPath ?? 'rendered'}`;
    case 'aborted':
      return `${head}: closed without postmortem`;
  }
}

/** The `status` query's answer (the operator controls add `phase` and `paused` as they hold them). */
export function statusOf(state: IncidentState, now: number): IncidentStatus {
  const phase = phaseOf(state, now);
  const items = (list: string[] | undefined): ChecklistItemStatus[] =>
    (list ?? []).map((item) => ({ item, done: Boolean(state.checks[item]), by: state.checks[item]?.by, at: state.checks[item]?.at }));
  const due = postmortemDueAt(state);
  const next = nextReminder(state);
  return {
    phase,
    summary: summaryOf(state, phase, now),
    incidentKey: state.incidentKey,
    title: state.title,
    severity: state.severity,
    roles: state.roles,
    checklist: { response: items(state.policy?.checklist.response), postmortem: items(state.policy?.checklist.postmortem) },
    openedAt: iso(state.openedAt),
    ...(state.mitigatedAt !== undefined ? { mitigatedAt: iso(state.mitigatedAt) } : {}),
    ...(state.resolvedAt !== undefined ? { resolvedAt: iso(state.resolvedAt) } : {}),
    ...(due !== undefined ? { postmortemDueAt: iso(due) } : {}),
    ...(next ? { nextReminder: { kind: next.kind, at: iso(next.at) } } : {}),
    reminders: state.reminders,
    actionItems: state.postmortem.actionItems,
    timelineEntries: state.timeline.length,
    alarmEvents: state.alarmEvents,
    notifications: state.notifications,
    ...(state.postmortemPath ? { postmortemPath: state.postmortemPath } : {}),
    ...(state.postmortemStoreError ? { postmortemStoreError: state.postmortemStoreError } : {}),
    ...(state.postmortemPullRequest ? { postmortemPullRequest: state.postmortemPullRequest } : {}),
    ...(state.postmortemPullRequestError ? { postmortemPullRequestError: state.postmortemPullRequestError } : {}),
    severityChanges: state.severityChanges,
    reopenings: state.reopenings.map((r) => ({ at: iso(r.at), by: r.by, reason: r.reason, resolvedAt: iso(r.resolvedAt) })),
    ...(state.previousIncident ? { previousIncident: state.previousIncident } : {}),
    review: { required: state.policy?.reviewReminderEveryHours !== undefined, ...(state.review ? { held: state.review } : {}) },
    paging: { enabled: state.policy?.paging === true, ...state.paging },
    dryRun: state.dryRun,
    ...(state.dryRun ? { dryRunCalls: state.dryRunCalls } : {}),
  };
}
