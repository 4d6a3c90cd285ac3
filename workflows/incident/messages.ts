import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { WorkflowStatus } from '../../common/controls';
import type { ActionItem, ActionItemType, IncidentRole, LessonKind } from '../../common/incident/model';
import type { IncidentAlarmEvent, IncidentFacts, IncidentInput, IncidentTimelineEntry } from '../../common/workflow-inputs';

/**
 * Every signal, update and query of the `incident` workflow, with their payloads and the status and
 * result clients read. Clients (router, CLI, the activities that open incidents, tests) import them
 * from here; the operator messages every workflow answers are in common/controls.ts.
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

// ---- queries ----

export const postmortemQuery = defineQuery<string>('postmortem');
export const timelineQuery = defineQuery<IncidentTimelineEntry[]>('timeline');

export type { ActionItem, ActionItemType, IncidentPhase, IncidentRole, LessonKind, PostmortemField } from '../../common/incident/model';

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
  notifications: NotificationCounts;
  postmortemPath?: string;
}

export interface IncidentResult {
  workflowId: string;
  incidentKey: string;
  outcome: 'closed' | 'aborted';
  postmortemPath?: string;
  /** The final document (also written to `incidents.postmortemDir`). */
  postmortem?: string;
  actionItems: ActionItem[];
}
