import { z } from 'zod';
import { ec2InstanceIdSchema } from '../../common/aws-ids';
import { defineEventKind } from './envelope';

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
});
