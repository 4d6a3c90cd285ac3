import { z } from 'zod';
import { ec2InstanceIdSchema } from '../../common/aws-ids';
import type { DrainEvent } from '../../contracts/spot-drain/input';
import { drainPlacement, drainSignalWithStart } from '../routing/drain';
import { defineEventKind } from './kind';

/**
 * `aws.autoscaling` / `EC2 Instance-terminate Lifecycle Action`: the ASG holds the instance in
 * Terminating:Wait until the hook is completed (or its heartbeat timeout runs out).
 */
export const lifecycleTerminate = defineEventKind({
  kind: 'lifecycle-terminate',
  source: 'aws.autoscaling',
  detailType: 'EC2 Instance-terminate Lifecycle Action',
  detail: z.looseObject({
    LifecycleActionToken: z.string().min(1).max(255),
    AutoScalingGroupName: z.string().min(1).max(255),
    LifecycleHookName: z.string().min(1).max(255),
    EC2InstanceId: ec2InstanceIdSchema,
    LifecycleTransition: z.literal('autoscaling:EC2_INSTANCE_TERMINATING'),
    NotificationMetadata: z.string().max(4096).optional(),
  }),
  rule: {
    id: 'LifecycleTerminateRule',
    does: 'spot drain, then CONTINUE',
    bus: 'default',
    note: "Carries the terminate hook's test notification too (lifecycle-test-notification: ignored).",
  },
  // The instance's drain, which completes the action once the instance is drained.
  route: ({ envelope, detail: d }, config, opts) => {
    const where = drainPlacement(envelope, config);
    if ('ignore' in where) return where.ignore;
    const signal: DrainEvent = {
      kind: 'lifecycle-terminate',
      instanceId: d.EC2InstanceId,
      eventId: envelope.id,
      eventTime: envelope.time,
      lifecycle: { hookName: d.LifecycleHookName, asgName: d.AutoScalingGroupName, actionToken: d.LifecycleActionToken },
    };
    return drainSignalWithStart(signal, where, opts, { why: `terminate lifecycle action of ${d.AutoScalingGroupName}`, lifecycleAction: true });
  },
});
