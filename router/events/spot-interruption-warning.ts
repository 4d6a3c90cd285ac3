import { z } from 'zod';
import { ec2InstanceIdSchema } from '../../common/aws-ids';
import { INSTANCE_ACTIONS, INTERRUPTION_WARNING_MS } from '../../common/interruption';
import type { DrainEvent } from '../../contracts/spot-drain/input';
import { drainPlacement, drainSignalWithStart } from '../routing/drain';
import { defineEventKind } from './kind';

/** `aws.ec2` / `EC2 Spot Instance Interruption Warning`: two minutes before EC2 reclaims the instance. */
export const spotInterruptionWarning = defineEventKind({
  kind: 'spot-interruption-warning',
  source: 'aws.ec2',
  detailType: 'EC2 Spot Instance Interruption Warning',
  detail: z.looseObject({
    'instance-id': ec2InstanceIdSchema,
    'instance-action': z.enum(INSTANCE_ACTIONS),
  }),
  rule: { id: 'SpotInterruptionWarningRule', does: 'spot drain', bus: 'default' },
  // The instance's drain, on the warning's deadline.
  route: ({ envelope, detail }, config, opts) => {
    const where = drainPlacement(envelope, config);
    if ('ignore' in where) return where.ignore;
    const instanceId = detail['instance-id'];
    const deadline = new Date(Date.parse(envelope.time) + INTERRUPTION_WARNING_MS).toISOString();
    const action = detail['instance-action'];
    const signal: DrainEvent = {
      kind: 'interruption-warning',
      instanceId,
      eventId: envelope.id,
      eventTime: envelope.time,
      deadline,
      ...(action !== 'terminate' ? { instanceAction: action } : {}),
    };
    return drainSignalWithStart(signal, where, opts, { why: `spot interruption warning (${action}), deadline ${deadline}`, lifecycleAction: false });
  },
});
