import { randomUUID } from 'node:crypto';
import { DescribeLifecycleHooksCommand, type LifecycleHook } from '@aws-sdk/client-auto-scaling';
import { StopInstancesCommand } from '@aws-sdk/client-ec2';
import type { BehaviourContext } from '../../behaviour';
import { DEFAULT_ACCOUNT } from '../../events';
import { endInstance } from './instance-end';

/**
 * The lifecycle actions of the asg-lifecycle behaviour: opening one per hook, announcing it on
 * EventBridge, finding the one a call names, and ending it.
 *
 * Follows the Amazon EC2 Auto Scaling User Guide: "Amazon EC2 Auto Scaling lifecycle hooks"
 * (https://docs.aws.amazon.com/autoscaling/ec2/userguide/lifecycle-hooks.html), "Automate Amazon EC2
 * Auto Scaling with EventBridge"
 * (https://docs.aws.amazon.com/autoscaling/ec2/userguide/automating-ec2-auto-scaling-with-eventbridge.html:
 * the `EC2 Instance-terminate Lifecycle Action` / `EC2 Instance-launch Lifecycle Action` details),
 * "Complete a lifecycle action"
 * (https://docs.aws.amazon.com/autoscaling/ec2/userguide/completing-lifecycle-hooks.html: for a
 * termination, CONTINUE and ABANDON both terminate the instance) and the hook timeouts
 * (https://docs.aws.amazon.com/autoscaling/ec2/userguide/lifecycle-hooks-overview.html: the global
 * timeout is 100 × HeartbeatTimeout, at most 48 h).
 */

export const TERMINATING = 'autoscaling:EC2_INSTANCE_TERMINATING';
export const LAUNCHING = 'autoscaling:EC2_INSTANCE_LAUNCHING';
export const MAX_GLOBAL_TIMEOUT_S = 172_800;

export interface LifecycleCall {
  action: 'CompleteLifecycleAction' | 'RecordLifecycleActionHeartbeat';
  autoScalingGroupName: string;
  lifecycleHookName: string;
  lifecycleActionToken?: string;
  instanceId?: string;
  /** CONTINUE or ABANDON, for CompleteLifecycleAction. */
  result?: string;
  /** False when AWS refused it (no such active action). */
  accepted: boolean;
  at: string;
}

export interface LifecycleActionState {
  token: string;
  autoScalingGroupName: string;
  lifecycleHookName: string;
  instanceId: string;
  transition: typeof TERMINATING | typeof LAUNCHING;
  heartbeatTimeoutSeconds: number;
  defaultResult: string;
  startedAt: string;
  /** When the heartbeat timeout runs out (restarted by each heartbeat). */
  expiresAt: string;
  globalExpiresAt: string;
  region: string;
  /**
   * Where a launching instance goes ("Use lifecycle hooks with a warm pool", warm-pool-instance-lifecycle.html):
   * `WarmPool` holds it in Warmed:Pending:Wait, and CONTINUE stops it into the pool (Warmed:Stopped).
   */
  destination?: 'AutoScalingGroup' | 'WarmPool';
  /** Set once the action ended: how and with what result. */
  closed?: { how: 'completed' | 'heartbeat-timeout' | 'global-timeout'; result: string; at: string };
}

/** How a CompleteLifecycleAction or RecordLifecycleActionHeartbeat call names its action. */
export interface ActionRef {
  AutoScalingGroupName: string;
  LifecycleHookName: string;
  LifecycleActionToken?: string;
  InstanceId?: string;
}

export async function hooksOf(ctx: BehaviourContext, region: string, asg: string, transition: string): Promise<LifecycleHook[]> {
  const out = await ctx.aws(region).autoscaling.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: asg }));
  return (out.LifecycleHooks ?? []).filter((h) => h.LifecycleTransition === transition);
}

/** The actions one behaviour instance holds; `clock` is the behaviour's (tests move it forward). */
export function createLifecycleActions(clock: () => number) {
  const actions: LifecycleActionState[] = [];
  const active = () => actions.filter((a) => !a.closed);

  function open(
    hook: LifecycleHook,
    instanceId: string,
    region: string,
    transition: LifecycleActionState['transition'],
    destination?: LifecycleActionState['destination'],
  ): LifecycleActionState {
    const now = clock();
    const hb = hook.HeartbeatTimeout ?? 3600;
    const a: LifecycleActionState = {
      token: randomUUID(),
      autoScalingGroupName: hook.AutoScalingGroupName ?? '',
      lifecycleHookName: hook.LifecycleHookName ?? '',
      instanceId,
      transition,
      heartbeatTimeoutSeconds: hb,
      defaultResult: hook.DefaultResult ?? 'ABANDON',
      startedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + hb * 1000).toISOString(),
      globalExpiresAt: new Date(now + Math.min(100 * hb, MAX_GLOBAL_TIMEOUT_S) * 1000).toISOString(),
      region,
      ...(destination ? { destination } : {}),
    };
    actions.push(a);
    return a;
  }

  async function announce(ctx: BehaviourContext, a: LifecycleActionState): Promise<void> {
    const terminating = a.transition === TERMINATING;
    await ctx.events.publish({
      source: 'aws.autoscaling',
      detailType: terminating ? 'EC2 Instance-terminate Lifecycle Action' : 'EC2 Instance-launch Lifecycle Action',
      detail: {
        Origin: terminating ? 'AutoScalingGroup' : 'EC2',
        Destination: terminating ? 'EC2' : (a.destination ?? 'AutoScalingGroup'),
        LifecycleActionToken: a.token,
        AutoScalingGroupName: a.autoScalingGroupName,
        LifecycleHookName: a.lifecycleHookName,
        EC2InstanceId: a.instanceId,
        LifecycleTransition: a.transition,
      },
      resources: [`arn:aws:autoscaling:${a.region}:${DEFAULT_ACCOUNT}:autoScalingGroup:sim:autoScalingGroupName/${a.autoScalingGroupName}`],
      region: a.region,
    });
  }

  /** Ends the action; what the instance does next follows the transition and the result. */
  async function close(ctx: BehaviourContext, a: LifecycleActionState, how: NonNullable<LifecycleActionState['closed']>['how'], result: string): Promise<void> {
    a.closed = { how, result, at: new Date().toISOString() };
    const others = active().some((x) => x.instanceId === a.instanceId && x.transition === a.transition);
    if (a.transition === TERMINATING) {
      // ABANDON of one hook ends the wait for all: the instance terminates either way.
      if (result === 'ABANDON') for (const x of active().filter((y) => y.instanceId === a.instanceId)) x.closed = { how, result, at: a.closed.at };
      if (!others || result === 'ABANDON') await endInstance(ctx, a.instanceId, a.region);
    } else if (result === 'ABANDON') {
      for (const x of active().filter((y) => y.instanceId === a.instanceId)) x.closed = { how, result, at: a.closed.at };
      await endInstance(ctx, a.instanceId, a.region);
    } else if (a.destination === 'WarmPool' && !others) {
      // Warmed:Stopped: the pool keeps the instance stopped until the group needs it.
      await ctx.aws(a.region).ec2.send(new StopInstancesCommand({ InstanceIds: [a.instanceId] })).catch((err: unknown) => ctx.log.debug({ err, instanceId: a.instanceId }, 'warm pool stop failed'));
    }
  }

  function find(p: ActionRef): LifecycleActionState | undefined {
    return active().find(
      (a) =>
        a.autoScalingGroupName === p.AutoScalingGroupName &&
        a.lifecycleHookName === p.LifecycleHookName &&
        (p.LifecycleActionToken ? a.token === p.LifecycleActionToken : true) &&
        (p.InstanceId ? a.instanceId === p.InstanceId : true),
    );
  }

  return {
    /** Every action opened since the last reset, closed ones included. */
    actions,
    active,
    open,
    announce,
    close,
    find,
    reset(): void {
      actions.length = 0;
    },
  };
}
