import { z } from 'zod';
import { ec2InstanceIdSchema } from '../../common/aws-ids';
import { awsPlacementSchema } from '../shared';

/**
 * The capacity workflow's start argument and signal payload (workflows/capacity/): id
 * `capacity-<cluster>`, task queue `fleetops` (start.ts).
 */

/** Start argument of `capacity`: `[CapacityInput]`. One long-running workflow per cluster. */
export const capacityInputSchema = z
  .object({
    cluster: z.string().min(1).max(255),
    /** The cluster's account and region (set in a many-account config): the drains of its scale-ins carry it. */
    placement: awsPlacementSchema.optional(),
    /** Record every mutating AWS call (CreateFleet, ModifySpotFleetRequest, ...) instead of making it. */
    dryRun: z.boolean().optional(),
  })
  .strict();

export type CapacityInput = z.infer<typeof capacityInputSchema>;

/** Who asked for capacity: an alarm route (router), a drain wanting a replacement, or an operator. */
export const capacitySourceSchema = z
  .object({
    kind: z.enum(['alarm', 'drain', 'cli']),
    alarmName: z.string().min(1).max(255).optional(),
    /** For `drain`: the instance being replaced (not counted as capacity while it drains). */
    instanceId: ec2InstanceIdSchema.optional(),
    /** Envelope `id` or another idempotency key: a repeated eventId is recorded once. */
    eventId: z.string().min(1).max(255).optional(),
  })
  .strict();

/**
 * `capacityRequest` signal payload (signal defined in messages.ts). Requests that arrive
 * together coalesce into one plan; `force` skips the cooldown and lets scale-in pick instances that
 * run standalone tasks.
 */
export const capacityRequestSchema = z
  .object({
    direction: z.enum(['out', 'in']),
    units: z.number().int().positive().max(10_000),
    reason: z.string().min(1).max(1000),
    source: capacitySourceSchema,
    force: z.boolean().optional(),
  })
  .strict();

export type CapacityRequest = z.infer<typeof capacityRequestSchema>;
export type CapacitySource = z.infer<typeof capacitySourceSchema>;

/**
 * `readinessFloor` signal payload (a readiness window, workflows/readiness/): `hold` keeps at least
 * `units` (of which `onDemandUnits` on-demand) until `until` or a `release`; a window sends `hold`
 * again when it changes. Capacity still chooses the pools. Several windows: the highest floor wins.
 */
export const readinessFloorSchema = z.discriminatedUnion('action', [
  z
    .object({
      action: z.literal('hold'),
      windowId: z.string().min(1).max(1000),
      units: z.number().int().nonnegative().max(10_000),
      onDemandUnits: z.number().int().nonnegative().max(10_000),
      until: z.iso.datetime({ offset: true }),
      reason: z.string().min(1).max(1000),
    })
    .strict(),
  z.object({ action: z.literal('release'), windowId: z.string().min(1).max(1000), reason: z.string().min(1).max(1000) }).strict(),
]);

export type ReadinessFloor = z.infer<typeof readinessFloorSchema>;
