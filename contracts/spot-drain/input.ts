import { z } from 'zod';
import { ec2InstanceIdSchema } from '../../common/aws-ids';
import { INSTANCE_ACTIONS } from '../../common/interruption';
import { awsPlacementSchema, drainLifecycleActionSchema, isoTimestamp } from '../shared';

/**
 * The spot drain's start argument and signal payload (workflows/spot-drain/): id
 * `drain-<instance-id>`, task queue `fleetops-critical` (start.ts). Zod schemas validate at the edges;
 * the workflow imports only the inferred types.
 */

/**
 * `drainEvent` signal payload (signal defined in messages.ts); the router sends one per
 * EventBridge event with signal-with-start. A repeated `eventId` is recorded as a duplicate and ignored.
 * `scale-in` is not an AWS event: the capacity workflow sends it to the drains of the instances it
 * chose to remove. From EC2 state changes: `instance-stopping` (stopping, shutting-down: the instance
 * goes now, drain on the warning deadline) and `instance-gone` (stopped, terminated: signalled to a
 * running drain only, it closes it: its deadline is the event's time). `scheduled-change` is an AWS
 * Health scheduled change (retirement, maintenance) for the instance: replace first, drain on the
 * relaxed deadline or before the change's `startTime` (given as `deadline`), whichever is earlier.
 */
export const DRAIN_EVENT_KINDS = [
  'interruption-warning',
  'rebalance-recommendation',
  'lifecycle-terminate',
  'scale-in',
  'instance-stopping',
  'instance-gone',
  'scheduled-change',
  'instance-running',
] as const;

export { INSTANCE_ACTIONS } from '../../common/interruption';

export const drainEventSchema = z
  .object({
    kind: z.enum(DRAIN_EVENT_KINDS),
    instanceId: ec2InstanceIdSchema,
    eventId: z.string().min(1).max(255),
    /** Envelope `time`; an interruption warning's deadline is this + 120 s. */
    eventTime: isoTimestamp,
    /** An explicit deadline the event states; used when earlier than the computed one. */
    deadline: isoTimestamp.optional(),
    lifecycle: drainLifecycleActionSchema.optional(),
    /**
     * interruption-warning, instance-stopping, instance-gone: terminate (the default), or stop /
     * hibernate, after which the instance comes back (`instance-running`, signalled to a running drain
     * only): no permanent replacement, and its container instance is set ACTIVE again on return.
     */
    instanceAction: z.enum(INSTANCE_ACTIONS).optional(),
  })
  .strict()
  .refine((e) => e.kind !== 'lifecycle-terminate' || e.lifecycle !== undefined, {
    message: 'a lifecycle-terminate event needs lifecycle',
    path: ['lifecycle'],
  });

export type DrainEvent = z.infer<typeof drainEventSchema>;
export type DrainEventKind = DrainEvent['kind'];

/** Start argument of `spotDrain`: `[SpotDrainInput]`. The router knows only the instance. */
export const spotDrainInputSchema = z
  .object({
    instanceId: ec2InstanceIdSchema,
    /**
     * Where the event came from (envelope `account` and `region`): the drain looks for the instance
     * only in the clusters placed there, and acts with their clients. Unset (a single-account config,
     * older runs): every configured cluster is searched.
     */
    placement: awsPlacementSchema.optional(),
    /** Record every mutating AWS call (and the capacity request) instead of making it. */
    dryRun: z.boolean().optional(),
  })
  .strict();

export type SpotDrainInput = z.infer<typeof spotDrainInputSchema>;
