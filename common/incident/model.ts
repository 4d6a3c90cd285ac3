import type { SeverityConfig } from '../../config/schema';
import type { IncidentSeverity } from './severity';

/**
 * The incident model's types and values that code outside the workflow needs: the activities (policy,
 * action items), the CLI (postmortem fields, action item types) and the worker's gauges (phases).
 * The workflow's state and rules over them live in workflows/incident/.
 */

/** Severity config (config/schema.ts `incidents.severities.<sev>`) plus what the worker knows about GitHub. */
export type IncidentPolicy = SeverityConfig & {
  severity: IncidentSeverity;
  /** `incidents.github` is configured and its token env var is set: action items are filed as issues. */
  githubFiling: boolean;
  /** Slack is configured for incidents (bot token and channel): role changes and checklist progress go to the incident's thread too. */
  chatTimeline?: boolean;
};

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

/** The incident's phase, as `status` reports it and FleetopsPhase carries it. */
export type IncidentPhase = 'opening' | 'open' | 'mitigated' | 'postmortem' | 'postmortem-overdue' | 'closed' | 'aborted';
