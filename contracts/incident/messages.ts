import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { WorkflowStatus } from '../controls';
import type { ActionItem, ActionItemType, IncidentRole, LessonKind, PreviousIncident, SeverityChange } from '../../common/incident/model';
import type { IncidentAlarmEvent, IncidentFacts, IncidentInput, IncidentSeverity, IncidentTimelineEntry } from './input';

/**
 * Every signal, update and query of the `incident` workflow, with their payloads and the status and
 * result clients read. Clients (router, CLI, the activities that open incidents, tests) import them
 * from here; the operator messages every workflow answers are in contracts/controls.ts.
 */

/** The workflow as clients start it (`client.workflow.start<IncidentWorkflow>(INCIDENT_WORKFLOW_TYPE, ...)`). */
export type IncidentWorkflow = (input: IncidentInput) => Promise<IncidentResult>;

// ---- signals ----

/** A CloudWatch alarm state change routed to the incident (router, signal-with-start of `incident-alarm-<name>`). */
export const alarmEventSignal = defineSignal<[IncidentAlarmEvent], 'alarmEvent'>('alarmEvent');
/** Facts from another workflow (missed drain deadline, failed rollback), recorded once per key. */
export const incidentFactsSignal = defineSignal<[IncidentFacts], 'incidentFacts'>('incidentFacts');

// ---- updates (each returns the status after it, except the action item ones) ----

export const assignUpdate = defineUpdate<IncidentStatus, [AssignRequest]>('assign');
export const noteUpdate = defineUpdate<IncidentStatus, [NoteRequest]>('note');
export const checkUpdate = defineUpdate<IncidentStatus, [CheckRequest]>('check');
export const resolveUpdate = defineUpdate<IncidentStatus, [ResolveRequest]>('resolve');
export const editPostmortemUpdate = defineUpdate<IncidentStatus, [PostmortemFieldsRequest]>('editPostmortem');
export const addLessonUpdate = defineUpdate<IncidentStatus, [LessonRequest]>('addLesson');
export const addActionItemUpdate = defineUpdate<ActionItem, [ActionItemRequest]>('addActionItem');
export const linkActionItemUpdate = defineUpdate<ActionItem, [LinkActionItemRequest]>('linkActionItem');
/**
 * Escalate or de-escalate (sev3 → sev1 and back): the new severity's checklist is merged in (done
 * items stay done), its reminder cadence applies from now, FleetopsSeverity follows (so the deploy
 * freeze does), and PagerDuty is triggered or resolved as the new severity pages or not. CLI:
 * `fleetops incident severity <id> <sev> --reason …`; chat front ends call it the same way.
 */
export const changeSeverityUpdate = defineUpdate<IncidentStatus, [SeverityChangeRequest]>('changeSeverity');
/** The postmortem review (the team's SRE meeting) was held: review reminders stop at once. */
export const markReviewHeldUpdate = defineUpdate<IncidentStatus, [ReviewHeldRequest]>('markReviewHeld');

// ---- queries ----

export const postmortemQuery = defineQuery<string>('postmortem');
export const timelineQuery = defineQuery<IncidentTimelineEntry[]>('timeline');

export type {
  ActionItem,
  ActionItemType,
  IncidentPhase,
  IncidentRole,
  LessonKind,
  PostmortemField,
  PreviousIncident,
  SeverityChange,
} from '../../common/incident/model';

// ---- update payloads ----

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

export interface SeverityChangeRequest {
  severity: IncidentSeverity;
  by: string;
  /** Why: goes on the timeline and into the notification. */
  reason: string;
}

export interface ReviewHeldRequest {
  by: string;
  /** What the review decided (e.g. prevention work agreed). */
  note?: string;
  /** Meeting notes or recording. */
  link?: string;
}

// ---- what clients read ----

export interface ChecklistItemStatus {
  item: string;
  done: boolean;
  by?: string;
  at?: string;
}

export interface ReminderState {
  statusReminders: number;
  /** Last status update posted or status reminder sent (ms): the next reminder is one cadence later. */
  lastStatusAt: number;
  /** Postmortem reminders sent after the due date (nudges and the escalation). */
  postmortemReminders: number;
  lastPostmortemReminderAt?: number;
  escalated: boolean;
  /** Review-meeting reminders sent to the commander (severities with reviewReminderEveryHours). */
  reviewReminders: number;
  lastReviewReminderAt?: number;
}

/** Delivered notifications, and the keys of those that failed after all retries. */
export interface NotificationCounts {
  sent: number;
  failed: string[];
}

export interface IncidentStatus extends WorkflowStatus {
  incidentKey: string;
  title: string;
  severity: IncidentInput['severity'];
  roles: Partial<Record<IncidentRole, string>>;
  checklist: { response: ChecklistItemStatus[]; postmortem: ChecklistItemStatus[] };
  openedAt: string;
  mitigatedAt?: string;
  resolvedAt?: string;
  postmortemDueAt?: string;
  nextReminder?: { kind: string; at: string };
  reminders: ReminderState;
  actionItems: ActionItem[];
  timelineEntries: number;
  /** Alarm changes to ALARM routed to this incident (all runs). */
  alarmEvents: number;
  notifications: NotificationCounts;
  /** Where the closed postmortem went: `s3://bucket/key` (or a local path when no bucket is configured). */
  postmortemPath?: string;
  postmortemStoreError?: string;
  /** The pull request proposing it to the postmortem repository, when GitHub is configured. */
  postmortemPullRequest?: string;
  postmortemPullRequestError?: string;
  severityChanges: SeverityChange[];
  /** When the incident was reopened after resolution, and why. */
  reopenings: { at: string; by: string; reason: string; resolvedAt: string }[];
  previousIncident?: PreviousIncident;
  /** The postmortem review: `required` when the severity asks for one; held once marked. */
  review: { required: boolean; held?: { by: string; at: string; note?: string; link?: string } };
  paging: { enabled: boolean; alert: 'none' | 'triggered' | 'acknowledged' | 'resolved'; sent: number; failed: string[] };
}

export interface IncidentResult {
  workflowId: string;
  incidentKey: string;
  outcome: 'closed' | 'aborted';
  /** `s3://bucket/key`, or a local path when no bucket is configured. */
  postmortemPath?: string;
  postmortemPullRequest?: string;
  /** The final document (also stored at postmortemPath). */
  postmortem?: string;
  actionItems: ActionItem[];
}
