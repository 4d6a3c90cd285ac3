import { z } from 'zod';
import { AUTOMATION_KINDS } from '../../common/workflow-kinds';
import { INCIDENT_SEVERITIES, type IncidentSeverity } from '../../common/incident/severity';
import { isoTimestamp } from '../shared';

/**
 * The incident's start argument and signal payloads (workflows/incident/): ids
 * `incident-alarm-<alarm-name>`, `incident-<slug>-<short-id>`; task queue `fleetops` (start.ts).
 */

export const incidentSeveritySchema = z.enum(INCIDENT_SEVERITIES);
export type { IncidentSeverity };

export const incidentTimelineKinds = [
  'opened',
  'alarm',
  'automation',
  'note',
  'status-update',
  'role',
  'checklist',
  'postmortem',
  'control',
  /** Escalated or de-escalated, by whom and why. */
  'severity',
  /** Resolved, then opened again (the alarm fired again while the postmortem was being written). */
  'reopened',
  /** PagerDuty trigger, acknowledge, resolve. */
  'paging',
] as const;

/** One timeline line. The timeline is append-only; the postmortem shows it sorted by `time`. */
export const incidentTimelineEntrySchema = z
  .object({
    time: isoTimestamp,
    /** A person, "router", or the id of the workflow that reported it. */
    author: z.string().min(1).max(255),
    kind: z.enum(incidentTimelineKinds),
    text: z.string().min(1).max(4000),
  })
  .strict();

export type IncidentTimelineEntry = z.infer<typeof incidentTimelineEntrySchema>;
export type IncidentTimelineKind = IncidentTimelineEntry['kind'];

/** Who opened the incident. */
export const incidentSourceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('alarm'), alarmName: z.string().min(1).max(255), eventId: z.string().max(255).optional() }).strict(),
  /** A `fleetops` / `Incident Declared` event. */
  z.object({ kind: z.literal('event'), eventId: z.string().min(1).max(255), by: z.string().max(255).optional() }).strict(),
  z.object({ kind: z.literal('cli'), by: z.string().min(1).max(255) }).strict(),
  /** A person in chat (`/fleetops incident <sev> <title>` in Slack); `by` is `slack:<user id>`. */
  z.object({ kind: z.literal('chat'), by: z.string().min(1).max(255), channel: z.string().max(255).optional() }).strict(),
  /** Another workflow (a drain that missed its deadline, a failed rollback). */
  z.object({ kind: z.literal('workflow'), workflowId: z.string().min(1).max(1000), workflowKind: z.enum(AUTOMATION_KINDS) }).strict(),
]);

export type IncidentSource = z.infer<typeof incidentSourceSchema>;

/** Start argument of `incident`: `[IncidentInput]`. */
export const incidentInputSchema = z
  .object({
    title: z.string().min(1).max(200),
    severity: incidentSeveritySchema,
    summary: z.string().max(4000).optional(),
    source: incidentSourceSchema,
    /** On-call from the event; the severity's `onCall` from config when unset. */
    onCall: z.string().min(1).max(255).optional(),
    /** Entries known before the start (e.g. what the CLI user already wrote down). */
    timeline: z.array(incidentTimelineEntrySchema).max(200).optional(),
    /** Record notifications, postmortem writes and GitHub filings in status instead of making them (drills). */
    dryRun: z.boolean().optional(),
  })
  .strict();

export type IncidentInput = z.infer<typeof incidentInputSchema>;

/** `alarmEvent` signal payload: a CloudWatch Alarm State Change routed to an incident. A repeated `eventId` is ignored. */
export const incidentAlarmEventSchema = z
  .object({
    alarmName: z.string().min(1).max(255),
    state: z.enum(['ALARM', 'OK', 'INSUFFICIENT_DATA']),
    reason: z.string().max(4000),
    time: isoTimestamp,
    eventId: z.string().min(1).max(255),
  })
  .strict();

export type IncidentAlarmEvent = z.infer<typeof incidentAlarmEventSchema>;

/** `incidentFacts` signal payload: what an automation workflow knows, added to the timeline once per `key`. */
export const incidentFactsSchema = z
  .object({
    key: z.string().min(1).max(255),
    entries: z.array(incidentTimelineEntrySchema).min(1).max(50),
  })
  .strict();

export type IncidentFacts = z.infer<typeof incidentFactsSchema>;
