import { z } from 'zod';
import { ec2InstanceIdSchema } from '../../common/aws-ids';
import { defineEventKind } from './envelope';

/**
 * `aws.autoscaling` / `EC2 Instance-launch Lifecycle Action`: the ASG holds a new instance in
 * Pending:Wait until the hook is completed or its heartbeat timeout runs out ("Amazon EventBridge
 * events for Amazon EC2 Auto Scaling"). fleetops completes it CONTINUE once the instance is an ACTIVE
 * container instance of its cluster, ABANDON when it does not join in time (workflows/launch/).
 */
export const lifecycleLaunch = defineEventKind({
  kind: 'lifecycle-launch',
  source: 'aws.autoscaling',
  detailType: 'EC2 Instance-launch Lifecycle Action',
  detail: z.looseObject({
    LifecycleActionToken: z.string().min(1).max(255),
    AutoScalingGroupName: z.string().min(1).max(255),
    LifecycleHookName: z.string().min(1).max(255),
    EC2InstanceId: ec2InstanceIdSchema,
    LifecycleTransition: z.literal('autoscaling:EC2_INSTANCE_LAUNCHING'),
    NotificationMetadata: z.string().max(4096).optional(),
  }),
});
