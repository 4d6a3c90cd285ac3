import { z } from 'zod';
import { ec2InstanceIdSchema } from '../../common/aws-ids';
import { defineEventKind } from './envelope';

/** `aws.ec2` / `EC2 Instance Rebalance Recommendation`: elevated interruption risk, no deadline yet. */
export const rebalanceRecommendation = defineEventKind({
  kind: 'rebalance-recommendation',
  source: 'aws.ec2',
  detailType: 'EC2 Instance Rebalance Recommendation',
  detail: z.looseObject({ 'instance-id': ec2InstanceIdSchema }),
});
