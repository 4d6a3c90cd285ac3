import { z } from 'zod';
import { awsPlacementSchema, isoTimestamp } from '../shared';

/**
 * The readiness workflow's start argument (workflows/readiness/): one window on one cluster, id
 * `readiness-<cluster>-<id>`, task queue `fleetops` (start.ts). The level comes resolved from the
 * cluster's config (level-from-config.ts) so the workflow reads no config and replays as it ran.
 */

/** A level as the window holds it: the config's level with its lead time decided. */
export const readinessLevelInputSchema = z
  .object({
    level: z.number().int().min(1).max(99),
    floor: z.union([z.object({ units: z.number().int().positive().max(10_000) }).strict(), z.object({ factor: z.number().positive().max(100) }).strict()]).optional(),
    onDemandShare: z.number().min(0).max(1),
    leadSeconds: z.number().int().positive().max(7 * 24 * 3600),
    freezeDeploys: z.boolean(),
    notify: z.array(z.string().min(1).max(255)).max(50),
  })
  .strict();

export type ReadinessLevelInput = z.infer<typeof readinessLevelInputSchema>;

/** A window's id: short, lower case, the part after `readiness-<cluster>-`. */
export const readinessIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'a window id is 1-40 lower-case letters, digits or dashes');

export const readinessInputSchema = z
  .object({
    cluster: z.string().min(1).max(255),
    id: readinessIdSchema,
    /** With an offset (2025-11-28T20:00:00+09:00): the time zone the window was given in is `timeZone`. */
    start: isoTimestamp,
    end: isoTimestamp,
    /** The IANA zone the window was written in (Asia/Tokyo), for people reading it back; times are absolute. */
    timeZone: z.string().min(1).max(64).optional(),
    reason: z.string().min(1).max(1000),
    level: readinessLevelInputSchema,
    requestedBy: z.string().min(1).max(255).optional(),
    placement: awsPlacementSchema.optional(),
  })
  .strict()
  .refine((w) => Date.parse(w.end) > Date.parse(w.start), { message: 'a window ends after it starts', path: ['end'] });

export type ReadinessInput = z.infer<typeof readinessInputSchema>;

/** `change` update: new times, a new level, or both. */
export const readinessChangeSchema = z
  .object({
    start: isoTimestamp.optional(),
    end: isoTimestamp.optional(),
    level: readinessLevelInputSchema.optional(),
    reason: z.string().min(1).max(1000).optional(),
    by: z.string().min(1).max(255).optional(),
  })
  .strict();

export type ReadinessChange = z.infer<typeof readinessChangeSchema>;

/** `cancel` update: the floor is released at once and no freeze holds. */
export const readinessCancelSchema = z.object({ by: z.string().min(1).max(255).optional(), reason: z.string().min(1).max(1000).optional() }).strict();

export type ReadinessCancel = z.infer<typeof readinessCancelSchema>;
