import { z } from 'zod';
import { positiveSeconds } from './fields';

/**
 * `clusters.<name>.readiness`: the cluster's event readiness levels, from 1 (business as usual) up.
 * A readiness window (workflows/readiness/) names a level; the level says what is prepared before
 * the window starts and held until it ends. Several windows may overlap: the highest floor wins.
 */

/** A capacity floor: a number of units, or a factor of what the cluster runs when the floor is raised. */
export const readinessFloorSchema = z.union([
  z.object({ units: z.number().int().positive().max(10_000) }).strict(),
  z.object({ factor: z.number().positive().max(100) }).strict(),
]);

export const readinessLevelSchema = z
  .object({
    /** Units the cluster keeps at least, from start minus lead time until the end; none: no floor. */
    floor: readinessFloorSchema.optional(),
    /** Share (0..1) of the floor that runs on on-demand, so a spot reclaim cannot take the floor away. */
    onDemandShare: z.number().min(0).max(1).default(0),
    /** How long before the start the floor is raised; unset: the cluster's bootToActiveSeconds. */
    leadSeconds: positiveSeconds.optional(),
    /** Deploys to the cluster are refused from the start to the end of the window. */
    freezeDeploys: z.boolean().default(false),
    /** Who is told (people names, Slack channels or handles), shown on every notification of the window. */
    notify: z.array(z.string().min(1).max(255)).default([]),
  })
  .strict();

/** A level's name: its number, "1" (business as usual) to "99". */
const levelName = z.string().regex(/^[1-9][0-9]?$/, 'a readiness level is named by its number, 1 to 99');

export const clusterReadinessSchema = z
  .object({
    /**
     * How long a new instance takes from launch to an ACTIVE container instance, as measured on the
     * cluster (the default lead time of every level).
     */
    bootToActiveSeconds: positiveSeconds.default(300),
    levels: z.record(levelName, readinessLevelSchema).default({}),
  })
  .strict();

export type ReadinessFloorConfig = z.infer<typeof readinessFloorSchema>;
export type ReadinessLevelConfig = z.infer<typeof readinessLevelSchema>;
export type ClusterReadinessConfig = z.infer<typeof clusterReadinessSchema>;
