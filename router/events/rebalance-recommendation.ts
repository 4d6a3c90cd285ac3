import { z } from 'zod';
import { ec2InstanceIdSchema } from '../../common/aws-ids';
import { drainPlacement, drainSignalWithStart } from '../routing/drain';
import { defineEventKind } from './kind';

/** `aws.ec2` / `EC2 Instance Rebalance Recommendation`: elevated interruption risk, no deadline yet. */
export const rebalanceRecommendation = defineEventKind({
  kind: 'rebalance-recommendation',
  source: 'aws.ec2',
  detailType: 'EC2 Instance Rebalance Recommendation',
  detail: z.looseObject({ 'instance-id': ec2InstanceIdSchema }),
  rule: { id: 'RebalanceRecommendationRule', does: 'spot drain (replacement first)', bus: 'default' },
  route: ({ envelope, detail }, config, opts) => {
    const where = drainPlacement(envelope, config);
    if ('ignore' in where) return where.ignore;
    const signal = { kind: 'rebalance-recommendation' as const, instanceId: detail['instance-id'], eventId: envelope.id, eventTime: envelope.time };
    return drainSignalWithStart(signal, where, opts, { why: 'rebalance recommendation', lifecycleAction: false });
  },
});
