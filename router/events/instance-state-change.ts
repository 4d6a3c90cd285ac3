import { z } from 'zod';
import { ec2InstanceIdSchema } from '../../common/aws-ids';
import { INTERRUPTION_WARNING_MS } from '../../common/interruption';
import { drainWorkflowId, memberAccountOf } from '../../common/workflow-ids';
import { drainEventSignal } from '../../contracts/spot-drain/messages';
import type { DrainEvent } from '../../contracts/spot-drain/input';
import { drainPlacement, drainSignalWithStart } from '../routing/drain';
import { defineEventKind } from './kind';

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
  rule: {
    id: 'InstanceStateChangeRule',
    does: 'drain now (stopping, shutting-down), close a drain (stopped, terminated), end the wait of a stopped instance (running)',
    bus: 'default',
    detail: { state: ['stopping', 'shutting-down', 'stopped', 'terminated', 'running'] },
    note: 'Only the states that concern a drain (pending would be noise). running ends a stopped instance\'s drain, which sets it ACTIVE again: without it the instance stays DRAINING.',
  },
  /**
   * Stopping and shutting-down mean the instance goes now, so its drain starts (or is joined) on the
   * warning deadline; stopped and terminated close a drain that is still running and start nothing;
   * running is signalled to a drain that waits for a stopped instance to come back (never starts
   * one); pending is not ours.
   */
  route: ({ envelope, detail }, config, opts) => {
    const where = drainPlacement(envelope, config);
    if ('ignore' in where) return where.ignore;
    const instanceId = detail['instance-id'];
    const { state } = detail;
    if (state === 'stopping' || state === 'shutting-down') {
      const deadline = new Date(Date.parse(envelope.time) + INTERRUPTION_WARNING_MS).toISOString();
      const signal: DrainEvent = {
        kind: 'instance-stopping',
        instanceId,
        eventId: envelope.id,
        eventTime: envelope.time,
        deadline,
        ...(state === 'stopping' ? { instanceAction: 'stop' as const } : {}),
      };
      return drainSignalWithStart(signal, where, opts, { why: `instance ${state}, deadline ${deadline}` });
    }
    if (state === 'stopped' || state === 'terminated') {
      const signal: DrainEvent = { kind: 'instance-gone', instanceId, eventId: envelope.id, eventTime: envelope.time, ...(state === 'stopped' ? { instanceAction: 'stop' as const } : {}) };
      return { action: 'signal', workflowId: drainWorkflowId(instanceId, memberAccountOf(where.placement)), signal: { name: drainEventSignal.name, arg: signal } };
    }
    if (state === 'running') {
      // A stopped (or hibernated) instance is back: the drain that waits for it sets it ACTIVE again.
      const signal: DrainEvent = { kind: 'instance-running', instanceId, eventId: envelope.id, eventTime: envelope.time };
      return { action: 'signal', workflowId: drainWorkflowId(instanceId), signal: { name: drainEventSignal.name, arg: signal } };
    }
    return { action: 'ignore', reason: `instance ${instanceId} is ${state}: only stopping, shutting-down, stopped, terminated and running concern a drain`, workflowId: null };
  },
});
