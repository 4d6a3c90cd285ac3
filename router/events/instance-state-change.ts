import { z } from 'zod';
import { ec2InstanceIdSchema } from '../../common/aws-ids';
import { defineEventKind } from './envelope';

/**
 * `aws.ec2` / `EC2 Instance State-change Notification`, sent on every state change of every instance
 * ("State change events for Amazon EC2 instances",
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/monitoring-instance-state-changes.html).
 * `stopping` and `shutting-down` mean the instance is going away now; `stopped` and `terminated` that it is gone.
 */
export const INSTANCE_STATES = ['pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated'] as const;

export const instanceStateChange = defineEventKind({
  kind: 'instance-state-change',
  source: 'aws.ec2',
  detailType: 'EC2 Instance State-change Notification',
  detail: z.looseObject({
    'instance-id': ec2InstanceIdSchema,
    state: z.enum(INSTANCE_STATES),
  }),
});
