import { z } from 'zod';
import { clusterNameSchema } from '../../common/operator-input';
import { isoTimestamp } from '../shared';
import { ICS_MAX_EVENT_SOURCE } from '../readiness/ical';

/**
 * What an import applies to a calendar's events when the event does not say otherwise
 * (X-FLEETOPS-CLUSTERS, X-FLEETOPS-LEVEL): the command's clusters and level, who asked, the feed that
 * keeps it (if any), and the zone of floating times.
 */
export const calendarDefaultsSchema = z
  .object({
    /** None: every event names its own (X-FLEETOPS-CLUSTERS), or is skipped. */
    clusters: z.array(clusterNameSchema).max(50),
    level: z.number().int().min(1).max(99),
    requestedBy: z.string().min(1).max(255).optional(),
    /** The feed (`readiness-feed-<name>`) whose polls keep the event's windows; unset for a file. */
    feed: z.string().min(1).max(40).optional(),
    floatingZone: z.string().min(1).max(64).optional(),
    /**
     * The clusters whose authority was checked when the feed was set up (the command's and those its
     * events named then). A later poll of the feed touches no other: whoever edits the calendar must
     * not reach clusters the operator who set it up was never checked for. Unset: no limit (a file).
     */
    authorisedClusters: z.array(clusterNameSchema).max(200).optional(),
  })
  .strict();

export type CalendarDefaults = z.infer<typeof calendarDefaultsSchema>;

/**
 * The readiness trigger's start argument (workflows/readiness-trigger/): the action of a recurring
 * window's Schedule, `readiness-schedule-<cluster>-ics-<key>`, rewritten by every import of its
 * calendar. It holds the event itself (`calendar`), not a list of times: each run expands the rule
 * again at its own time, starts the occurrences that are due and moves the Schedule's horizon on.
 */
export const readinessTriggerInputSchema = z
  .object({
    scheduleId: z.string().min(1).max(255),
    cluster: clusterNameSchema,
    /** The event's key (8 hex of sha256(UID)): its windows are `readiness-<cluster>-ics-<key>-<yyyymmdd-hhmm>`. */
    key: z.string().regex(/^[0-9a-f]{8}$/),
    /** The event, its overrides and time zones as a VCALENDAR (contracts/readiness/ical.ts). */
    calendar: z.string().min(1).max(ICS_MAX_EVENT_SOURCE),
    defaults: calendarDefaultsSchema,
    /** For people reading the Schedule back (`fleetops schedules`). */
    summary: z.string().min(1).max(1000),
    rule: z.string().max(1000).optional(),
    timeZone: z.string().min(1).max(64).optional(),
    level: z.number().int().min(1).max(99),
    /** The occurrences' raise times the Schedule's spec holds (each fires a little ahead of it). */
    raiseAt: z.array(isoTimestamp).max(100),
  })
  .strict();

export type ReadinessTriggerInput = z.infer<typeof readinessTriggerInputSchema>;
