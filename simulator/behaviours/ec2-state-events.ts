import type { Behaviour, BehaviourContext, BehaviourFactory } from '../behaviour';
import { DEFAULT_ACCOUNT } from '../events';

/**
 * EC2 instance state-change events, as EC2 publishes them to EventBridge: "State change events for
 * Amazon EC2 instances" (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/monitoring-instance-state-changes.html)
 * — `EC2 Instance State-change Notification`, detail `{instance-id, state}`, one event per state an
 * instance enters; terminating goes through `shutting-down` to `terminated`, stopping through
 * `stopping` to `stopped`, starting a stopped instance through `pending` to `running` under the same
 * instance id ("Stop and start Amazon EC2 instances",
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Stop_Start.html). moto moves an instance straight
 * to its final state and publishes nothing, so this behaviour publishes both states of every
 * TerminateInstances / StopInstances / StartInstances that succeeds
 * through the simulator, and `publishInstanceStates` does it for terminations the simulator makes
 * itself (a spot reclaim, spot-interruption.ts).
 */

export type InstanceState = 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';

const TRANSITIONS: Record<string, InstanceState[]> = {
  TerminateInstances: ['shutting-down', 'terminated'],
  StopInstances: ['stopping', 'stopped'],
  StartInstances: ['pending', 'running'],
};

export async function publishInstanceStates(ctx: BehaviourContext, instanceIds: string[], states: InstanceState[], region = 'us-east-1'): Promise<void> {
  for (const state of states) {
    for (const instanceId of instanceIds) {
      await ctx.events.publish({
        source: 'aws.ec2',
        detailType: 'EC2 Instance State-change Notification',
        detail: { 'instance-id': instanceId, state },
        resources: [`arn:aws:ec2:${region}:${DEFAULT_ACCOUNT}:instance/${instanceId}`],
        region,
      });
    }
  }
}

export const ec2StateEvents: BehaviourFactory = () => {
  const behaviour: Behaviour = {
    name: 'ec2-state-events',

    async afterResponse(req, res, ctx) {
      if (req.service !== 'ec2' || res.status >= 300) return;
      const states = TRANSITIONS[req.action];
      if (!states) return;
      // EC2 Query protocol: InstanceId.1, InstanceId.2, ...
      const ids = Object.entries(req.params)
        .filter(([k]) => /^InstanceId\.\d+$/.test(k))
        .map(([, v]) => String(v));
      // A dry run changes nothing and announces nothing.
      if (ids.length === 0 || req.params.DryRun === 'true') return;
      await publishInstanceStates(ctx, ids, states, req.region === 'unknown' ? undefined : req.region);
    },

    reset() {},
  };
  return behaviour;
};
