import { z } from 'zod';
import { ec2InstanceIdSchema } from '../../common/aws-ids';
import { drainLifecycleActionSchema, isoTimestamp } from '../shared';

/** The launch workflow's start argument (workflows/launch/): id `launch-<instance-id>`, task queue `fleetops` (start.ts). */

/**
 * Start argument of `launch`: an ASG launch lifecycle action for an instance of a managed cluster.
 * The router fills in the cluster (the one whose `asg` pool names the group) and that cluster's
 * settings, so the workflow needs no config.
 */
export const launchInputSchema = z
  .object({
    instanceId: ec2InstanceIdSchema,
    cluster: z.string().min(1).max(255),
    lifecycle: drainLifecycleActionSchema,
    /** Envelope `id` and `time`: the hook held the instance from then. */
    eventId: z.string().min(1).max(255),
    eventTime: isoTimestamp,
    /** From the event's time: ABANDON when the instance is not an ACTIVE container instance by then (capacity.registrationTimeoutSeconds). */
    timeoutSeconds: z.number().int().positive().max(7 * 24 * 3600),
    /** RecordLifecycleActionHeartbeat this often while waiting (drain.lifecycleHeartbeatSeconds), so the hook's own timeout does not decide. */
    heartbeatSeconds: z.number().int().positive().max(7200),
    /**
     * The event's `Destination` when the instance launches into the group's warm pool (Warmed:Pending:Wait):
     * it does not join the cluster now, so the action is completed CONTINUE at once. Absent otherwise.
     */
    destination: z.literal('WarmPool').optional(),
    dryRun: z.boolean().optional(),
  })
  .strict();

export type LaunchInput = z.infer<typeof launchInputSchema>;
