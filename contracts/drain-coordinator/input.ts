import { z } from 'zod';
import { ec2InstanceIdSchema } from '../../common/aws-ids';
import { awsPlacementSchema, isoTimestamp } from '../shared';

/**
 * The drain coordinator's start argument and signal payload (workflows/drain-coordinator/): id
 * `drain-coordinator[-<account>-<region>]`, task queue `fleetops-drain-coordinator` (start.ts).
 */

/** One instance to set DRAINING at once: a two-minute warning, or an instance stopping or shutting down now. */
export const interruptionNoticeSchema = z
  .object({
    instanceId: ec2InstanceIdSchema,
    eventId: z.string().min(1).max(255),
    eventTime: isoTimestamp,
    /** The instance goes at this time; a notice still waiting then is dropped (its drain records the miss). */
    deadline: isoTimestamp,
  })
  .strict();

export type InterruptionNotice = z.infer<typeof interruptionNoticeSchema>;

/** What a coordinator run carries into the next (continue-as-new). */
export const drainCoordinatorCarriedSchema = z
  .object({
    /** Notices taken but not yet sent to AWS. */
    pending: z.array(interruptionNoticeSchema),
    /** Instances already handled, with their deadline: a repeat before then is a duplicate. */
    handled: z.array(z.object({ instanceId: ec2InstanceIdSchema, deadline: isoTimestamp }).strict()),
    counts: z.record(z.string(), z.number().int().nonnegative()),
    paused: z.boolean().optional(),
  })
  .strict();

export type DrainCoordinatorCarried = z.infer<typeof drainCoordinatorCarriedSchema>;

/**
 * Start argument of `drainCoordinator`. `placement`: the account and region whose clusters it sets
 * DRAINING in (unset in a single-account config: every configured cluster).
 */
export const drainCoordinatorInputSchema = z
  .object({
    placement: awsPlacementSchema.optional(),
    carried: drainCoordinatorCarriedSchema.optional(),
    /** Continue as new past this many history events (default 2,000; tests set it low). */
    continueAsNewAfterEvents: z.number().int().min(20).optional(),
  })
  .strict();

export type DrainCoordinatorInput = z.infer<typeof drainCoordinatorInputSchema>;
