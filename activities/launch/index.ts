import { DescribeContainerInstancesCommand, ListContainerInstancesCommand } from '@aws-sdk/client-ecs';
import { Context } from '@temporalio/activity';
import type { DryRunCall } from '../../contracts/controls';
import type { DrainLifecycleAction } from '../../contracts/shared';
import { awsCall } from '../aws/errors';
import { completeLifecycleActionWith, describeLifecycleHook, recordLifecycleActionHeartbeat, type LifecycleHookSettings } from '../aws/lifecycle-action';
import { clientsFor, type ActivityDeps } from '../deps';

/**
 * Activities of the launch workflow (workflows/launch/): watch for a new instance to become an ACTIVE
 * container instance of its cluster, and keep alive, then complete, the ASG launch lifecycle action
 * that holds it in Pending:Wait ("Complete a lifecycle action in an Auto Scaling group",
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/completing-lifecycle-hooks.html). The
 * lifecycle calls are the drain's too (activities/aws/lifecycle-action.ts).
 */

export interface WaitForContainerInstanceInput {
  cluster: string;
  instanceId: string;
  /** Return at this time with what was last seen, whether or not the instance became ACTIVE. */
  stopAtEpochMs: number;
}

export interface ContainerInstanceSeen {
  /** The container instance's status (REGISTERING, ACTIVE, ...) or `not-registered`. */
  status: string;
  containerInstanceArn?: string;
  agentConnected?: boolean;
}

export interface LaunchLifecycleInput {
  lifecycle: DrainLifecycleAction;
  /** The cluster the group feeds: its account and region are where the action is completed (the worker's own when unset). */
  cluster?: string;
  instanceId: string;
  dryRun?: boolean;
}

export interface CompleteLaunchInput extends LaunchLifecycleInput {
  result: 'CONTINUE' | 'ABANDON';
}

export interface LaunchMutationReport {
  dryRunCalls: DryRunCall[];
  /**
   * Set when Auto Scaling had no such action waiting (completed before, e.g. by this launch before a
   * lost response, or its hook timed out): nothing was done, and nothing is left to do.
   */
  noActiveAction?: true;
}

export interface LaunchActivityOptions {
  /** How often the cluster is asked while waiting (default 3 s). */
  pollMs?: number;
}

/** ACTIVE with its agent connected: ECS places tasks on it. */
const isReady = (s: ContainerInstanceSeen) => s.status === 'ACTIVE' && s.agentConnected !== false;

export function createLaunchActivities(deps: ActivityDeps, opts: LaunchActivityOptions = {}) {
  const pollMs = opts.pollMs ?? 3_000;

  async function find(cluster: string, instanceId: string): Promise<ContainerInstanceSeen> {
    const aws = clientsFor(deps, cluster);
    let nextToken: string | undefined;
    do {
      const page = await awsCall('ecs:ListContainerInstances', () => aws.ecs.send(new ListContainerInstancesCommand({ cluster, nextToken })));
      const arns = page.containerInstanceArns ?? [];
      for (let i = 0; i < arns.length; i += 100) {
        const out = await awsCall('ecs:DescribeContainerInstances', () =>
          aws.ecs.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: arns.slice(i, i + 100) })),
        );
        const ci = out.containerInstances?.find((c) => c.ec2InstanceId === instanceId);
        if (ci) return { status: ci.status ?? 'UNKNOWN', containerInstanceArn: ci.containerInstanceArn, agentConnected: ci.agentConnected };
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return { status: 'not-registered' };
  }

  /** The group's action, completed (with `result`) or heartbeaten, with the clients of the cluster it feeds. */
  async function lifecycleCall(input: LaunchLifecycleInput, result?: 'CONTINUE' | 'ABANDON'): Promise<LaunchMutationReport> {
    const aws = input.cluster ? clientsFor(deps, input.cluster) : deps.aws;
    if (result) {
      const r = await completeLifecycleActionWith(aws, input.lifecycle, input.instanceId, result, input.dryRun);
      return { dryRunCalls: r.dryRunCalls, ...(r.alreadyCompleted ? { noActiveAction: true as const } : {}) };
    }
    const r = await recordLifecycleActionHeartbeat(aws, input.lifecycle, input.instanceId, input.dryRun);
    return { dryRunCalls: r.dryRunCalls, ...(r.active ? {} : { noActiveAction: true as const }) };
  }

  return {
    /** Polls the cluster until the instance is an ACTIVE container instance or the stop time comes; heartbeats meanwhile. */
    async waitForContainerInstance(input: WaitForContainerInstanceInput): Promise<ContainerInstanceSeen> {
      const ctx = Context.current();
      for (;;) {
        const seen = await find(input.cluster, input.instanceId);
        ctx.heartbeat(seen);
        if (isReady(seen) || Date.now() + pollMs > input.stopAtEpochMs) return seen;
        await ctx.sleep(pollMs);
      }
    },

    /** The hook's own timeouts: the launch heartbeats well inside its HeartbeatTimeout (as low as 30 s) whatever the config says. Read-only. */
    async describeLaunchLifecycleHook(input: Omit<LaunchLifecycleInput, 'instanceId' | 'dryRun'>): Promise<LifecycleHookSettings> {
      const aws = input.cluster ? clientsFor(deps, input.cluster) : deps.aws;
      return describeLifecycleHook(aws, input.lifecycle.asgName, input.lifecycle.hookName);
    },

    async recordLaunchLifecycleHeartbeat(input: LaunchLifecycleInput): Promise<LaunchMutationReport> {
      return lifecycleCall(input);
    },

    /** CONTINUE puts the instance in service; ABANDON has the ASG terminate it and launch another. */
    async completeLaunchLifecycleAction(input: CompleteLaunchInput): Promise<LaunchMutationReport> {
      return lifecycleCall(input, input.result);
    },
  };
}

export type LaunchActivities = ReturnType<typeof createLaunchActivities>;
