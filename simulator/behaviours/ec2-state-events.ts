import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import type { Behaviour, BehaviourContext, BehaviourFactory, SimRequest } from '../behaviour';
import { DEFAULT_ACCOUNT, type EventPublisher } from '../events';
import { deregisterContainerInstancesOf } from './support/container-instance-end';

/**
 * EC2 instance state-change events, as EC2 publishes them to EventBridge: "State change events for
 * Amazon EC2 instances" (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/monitoring-instance-state-changes.html)
 * — `EC2 Instance State-change Notification`, detail `{instance-id, state}`, one event per state an
 * instance enters: "When you terminate an instance, it enters the shutting-down state and then the
 * terminated state" (stopping then stopped; pending then running, under the same instance id: "Stop
 * and start Amazon EC2 instances", https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Stop_Start.html). Each event is sent by EC2 in the
 * instance's own account and region, on that account's default bus.
 *
 * The second state is a later event, not a twin of the first: moto moves an instance straight to its
 * final state and publishes nothing, so this behaviour publishes the first state of every
 * TerminateInstances / StopInstances / StartInstances that succeeds through the simulator at once, in
 * the calling account (an assumed role's too), and the state after it on its next tick (`POST
 * /_sim/tick` in tests without automatic ticks). `publishInstanceStates` does the same for state
 * changes the simulator makes itself (a spot reclaim, spot-interruption.ts).
 *
 * An instance terminated through the simulator (the product's TerminateInstances: a drained
 * instance taken out of an EC2 Fleet) also leaves its ECS cluster when it reaches `terminated`: "If
 * you terminate a running container instance, Amazon ECS automatically deregisters the instance
 * from your cluster" ("Deregister an Amazon ECS container instance",
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deregister_container_instance.html).
 * Until then (shutting-down) its container instance keeps its status, DRAINING for a drained one.
 * moto would keep it registered for good. (Only in moto's default account, where the clusters live.)
 *
 * So does an instance its Auto Scaling group terminates at a TerminateInstanceInAutoScalingGroup call
 * ("Terminates the specified instance and optionally adjusts the desired group size",
 * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_TerminateInstanceInAutoScalingGroup.html):
 * the same two events and the same deregistration, since it is an EC2 instance terminated like any
 * other. moto terminates it within the call, silently, when the group has no terminate lifecycle hook
 * (with one, asg-lifecycle.ts holds it in Terminating:Wait and ends it itself, support/instance-end.ts).
 */

export type InstanceState = 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';

const TRANSITIONS: Record<string, InstanceState[]> = {
  TerminateInstances: ['shutting-down', 'terminated'],
  StopInstances: ['stopping', 'stopped'],
  StartInstances: ['pending', 'running'],
};

/** Where an instance lives: its state events go to that account's bus in that region. */
export interface InstancePlace {
  region?: string;
  account?: string;
}

interface Later {
  instanceIds: string[];
  states: InstanceState[];
  place: InstancePlace;
  /** Deregister their container instances when they reach `terminated` (a TerminateInstances call). */
  deregister?: boolean;
}

/** States still to come, per simulator (its publisher), published one per tick of this behaviour. */
const laterStates = new WeakMap<EventPublisher, Later[]>();
const laterOf = (events: EventPublisher): Later[] => {
  let l = laterStates.get(events);
  if (!l) {
    l = [];
    laterStates.set(events, l);
  }
  return l;
};

async function publishState(ctx: BehaviourContext, instanceIds: string[], state: InstanceState, place: InstancePlace): Promise<void> {
  const region = place.region ?? 'us-east-1';
  const account = place.account ?? DEFAULT_ACCOUNT;
  for (const instanceId of instanceIds) {
    await ctx.events.publish({
      source: 'aws.ec2',
      detailType: 'EC2 Instance State-change Notification',
      detail: { 'instance-id': instanceId, state },
      resources: [`arn:aws:ec2:${region}:${account}:instance/${instanceId}`],
      region,
      // moto's default account publishes as before; any other on its own bus.
      ...(account !== DEFAULT_ACCOUNT ? { account } : {}),
    });
  }
}

/** Publishes the first of `states` now and each next one on a later tick of ec2-state-events. */
export async function publishInstanceStates(ctx: BehaviourContext, instanceIds: string[], states: InstanceState[], place: InstancePlace = {}, deregister = false): Promise<void> {
  const [first, ...rest] = states;
  if (!first) return;
  if (deregister && first === 'terminated') {
    await deregisterContainerInstancesOf(ctx, instanceIds, place.region).catch((err: unknown) => ctx.log.warn({ err, instanceIds }, 'ec2-state-events: deregistering the terminated instances failed'));
  }
  await publishState(ctx, instanceIds, first, place);
  if (rest.length > 0) laterOf(ctx.events).push({ instanceIds, states: rest, place, ...(deregister ? { deregister } : {}) });
}

/** The instance of a TerminateInstanceInAutoScalingGroup call, if the call terminated it (no terminate hook held it). */
async function terminatedByGroup(req: SimRequest, ctx: BehaviourContext): Promise<string | undefined> {
  const instanceId = String(req.params.InstanceId ?? '');
  if (!instanceId) return undefined;
  const region = req.region === 'unknown' ? undefined : req.region;
  const out = await ctx.aws(region).ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  return out.Reservations?.[0]?.Instances?.[0]?.State?.Name === 'terminated' ? instanceId : undefined;
}

export const ec2StateEvents: BehaviourFactory = () => {
  let seen: EventPublisher | undefined;
  const behaviour: Behaviour = {
    name: 'ec2-state-events',
    // EC2 announces state changes in every account, not only moto's default one.
    allAccounts: true,

    tick: {
      intervalMs: 1_000,
      async run(ctx) {
        seen = ctx.events;
        const due = laterOf(ctx.events).splice(0);
        for (const l of due) await publishInstanceStates(ctx, l.instanceIds, l.states, l.place, l.deregister === true);
      },
    },

    async afterResponse(req, res, ctx) {
      seen = ctx.events;
      if (req.service === 'autoscaling' && req.action === 'TerminateInstanceInAutoScalingGroup' && res.status < 300 && req.account === DEFAULT_ACCOUNT) {
        const id = await terminatedByGroup(req, ctx).catch((err: unknown) => void ctx.log.warn({ err }, 'ec2-state-events: reading the instance an Auto Scaling group terminated failed'));
        if (id) await publishInstanceStates(ctx, [id], TRANSITIONS.TerminateInstances!, req.region === 'unknown' ? {} : { region: req.region }, true);
        return;
      }
      if (req.service !== 'ec2' || res.status >= 300) return;
      const states = TRANSITIONS[req.action];
      if (!states) return;
      // EC2 Query protocol: InstanceId.1, InstanceId.2, ...
      const ids = Object.entries(req.params)
        .filter(([k]) => /^InstanceId\.\d+$/.test(k))
        .map(([, v]) => String(v));
      // A dry run changes nothing and announces nothing.
      if (ids.length === 0 || req.params.DryRun === 'true') return;
      const deregister = req.action === 'TerminateInstances' && req.account === DEFAULT_ACCOUNT;
      await publishInstanceStates(ctx, ids, states, { ...(req.region === 'unknown' ? {} : { region: req.region }), account: req.account }, deregister);
    },

    reset() {
      if (seen) laterOf(seen).length = 0;
    },
  };
  return behaviour;
};
