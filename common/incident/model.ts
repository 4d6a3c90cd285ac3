import type { IncidentSeverity } from './severity';

/**
 * The incident model's types and values that code outside the workflow needs: the activities (action
 * items), the CLI (postmortem fields, action item types) and the worker's gauges (phases). A severity's
 * policy is the config's (config/incident-policy.ts).
 * The workflow's state and rules over them live in workflows/incident/.
 */

/** Where a closed postmortem went: the durable copy (s3:// URI, or a local path without a bucket) and the pull request. */
export interface PostmortemLocations {
  stored?: string;
  pullRequest?: string;
  /** Why the pull request could not be opened (after all retries); the stored copy is still there. */
  pullRequestError?: string;
}

/** PagerDuty Events API v2 actions the incident sends (dedup key = the workflow id). */
export type PageAction = 'trigger' | 'acknowledge' | 'resolve';

/** One Events API v2 event as the workflow asks for it; the activity adds the routing key and links. */
export interface PageRequest {
  action: PageAction;
  dedupKey: string;
  /** Trigger only: what pages the on-call (at most 1,024 characters). */
  summary?: string;
  /** Trigger only: the affected system (alarm name or fleetops). */
  source?: string;
  severity?: IncidentSeverity;
  workflowId: string;
}

export type IncidentRole = 'onCall' | 'commander' | 'scribe';
export const INCIDENT_ROLES: readonly IncidentRole[] = ['onCall', 'commander', 'scribe'];

export type LessonKind = 'went-well' | 'went-wrong' | 'lucky';
export const LESSON_KINDS: readonly LessonKind[] = ['went-well', 'went-wrong', 'lucky'];

export type ActionItemType = 'mitigate' | 'prevent' | 'process';
export const ACTION_ITEM_TYPES: readonly ActionItemType[] = ['mitigate', 'prevent', 'process'];

export const POSTMORTEM_FIELDS = ['summary', 'impact', 'rootCause', 'trigger', 'resolution', 'detection'] as const;
export type PostmortemField = (typeof POSTMORTEM_FIELDS)[number];

export interface ActionItem {
  /** `AI-<n>`, stable for the incident's life; part of the GitHub idempotency marker. */
  id: string;
  type: ActionItemType;
  text: string;
  owner: string;
  trackingLink?: string;
}

/** A severity change as the timeline, status and postmortem record it. */
export interface SeverityChange {
  from: IncidentSeverity;
  to: IncidentSeverity;
  by: string;
  reason: string;
  at: string;
}

/** The closed incident an alarm or automation opened again under the same workflow id (a recurrence). */
export interface PreviousIncident {
  workflowId: string;
  runId: string;
  /** Completed, Terminated, ...: how the previous run ended. */
  status: string;
  closedAt?: string;
  /** Its postmortem's durable copy and pull request, when it closed with one. */
  postmortem?: PostmortemLocations;
}

/** The incident's phase, as `status` reports it and FleetopsPhase carries it. */
export type IncidentPhase = 'opening' | 'open' | 'mitigated' | 'postmortem' | 'postmortem-overdue' | 'closed' | 'aborted';
