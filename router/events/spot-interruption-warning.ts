import { z } from 'zod';
import { ec2InstanceIdSchema } from '../../common/aws-ids';
import { INSTANCE_ACTIONS } from '../../common/interruption';
import { defineEventKind } from './envelope';

/** `aws.ec2` / `EC2 Spot Instance Interruption Warning`: two minutes before EC2 reclaims the instance. */
export const spotInterruptionWarning = defineEventKind({
  kind: 'spot-interruption-warning',
  source: 'aws.ec2',
  detailType: 'EC2 Spot Instance Interruption Warning',
  detail: z.looseObject({
    'instance-id': ec2InstanceIdSchema,
    'instance-action': z.enum(INSTANCE_ACTIONS),
  }),
});
