import { CompleteLifecycleActionCommand, DescribeLifecycleHooksCommand, RecordLifecycleActionHeartbeatCommand } from '@aws-sdk/client-auto-scaling';
import type { DryRunCall } from '../../contracts/controls';
import type { AwsClients } from './clients';
import { mutatingAwsCall } from './dry-run';
import { awsCall, isNoActiveLifecycleAction } from './errors';

/**
 * The two calls on an ASG lifecycle action that holds an instance (launch: Pending:Wait, terminate:
 * Terminating:Wait), written once for the drain and the launch ("Complete a lifecycle action in an
 * Auto Scaling group", https://docs.aws.amazon.com/autoscaling/ec2/userguide/completing-lifecycle-hooks.html).
 *
 * Both treat Auto Scaling's "No active Lifecycle Action found" (errors.ts) as an answer, not a
 * failure: the action is no longer waiting, because it was completed before (by this caller before a
 * crash or a lost response, or by a run before this one) or its hook timed out. Either way the
 * instance is already on its way and there is nothing left to complete or keep alive; retrying would
 * only fail again.
 */

export interface LifecycleActionRef {
  asgName: string;
  hookName: string;
  actionToken?: string;
}

export type LifecycleResult = 'CONTINUE' | 'ABANDON';

function paramsOf(action: LifecycleActionRef, instanceId: string) {
  return {
    AutoScalingGroupName: action.asgName,
    LifecycleHookName: action.hookName,
    LifecycleActionToken: action.actionToken,
    InstanceId: instanceId,
  };
}

/** RecordLifecycleActionHeartbeat; `active: false` when the action was no longer waiting. In dry run, the call returned, not made. */
export async function recordLifecycleActionHeartbeat(
  aws: AwsClients,
  action: LifecycleActionRef,
  instanceId: string,
  dryRun: boolean | undefined,
): Promise<{ active: boolean; dryRunCalls: DryRunCall[] }> {
  const params = paramsOf(action, instanceId);
  try {
    const m = await mutatingAwsCall(dryRun, 'autoscaling:RecordLifecycleActionHeartbeat', params, () =>
      aws.autoscaling.send(new RecordLifecycleActionHeartbeatCommand(params)),
    );
    return { active: true, dryRunCalls: m.dryRun ? [m.call] : [] };
  } catch (err) {
    if (isNoActiveLifecycleAction(err)) return { active: false, dryRunCalls: [] };
    throw err;
  }
}

/** CompleteLifecycleAction with `result`; `alreadyCompleted` when the action was no longer waiting. In dry run, the call returned, not made. */
export async function completeLifecycleActionWith(
  aws: AwsClients,
  action: LifecycleActionRef,
  instanceId: string,
  result: LifecycleResult,
  dryRun: boolean | undefined,
): Promise<{ alreadyCompleted: boolean; dryRunCalls: DryRunCall[] }> {
  const params = { ...paramsOf(action, instanceId), LifecycleActionResult: result };
  try {
    const m = await mutatingAwsCall(dryRun, 'autoscaling:CompleteLifecycleAction', params, () =>
      aws.autoscaling.send(new CompleteLifecycleActionCommand(params)),
    );
    return { alreadyCompleted: false, dryRunCalls: m.dryRun ? [m.call] : [] };
  } catch (err) {
    if (isNoActiveLifecycleAction(err)) return { alreadyCompleted: true, dryRunCalls: [] };
    throw err;
  }
}

/** A hook's own timeouts (DescribeLifecycleHooks, API_LifecycleHook): what a heartbeat interval must stay well inside. */
export type LifecycleHookSettings =
  | { found: false }
  | { found: true; heartbeatTimeoutSeconds: number; globalTimeoutSeconds: number; defaultResult: string };

export async function describeLifecycleHook(aws: AwsClients, asgName: string, hookName: string): Promise<LifecycleHookSettings> {
  const out = await awsCall('autoscaling:DescribeLifecycleHooks', () =>
    aws.autoscaling.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: asgName, LifecycleHookNames: [hookName] })),
  );
  const hook = out.LifecycleHooks?.find((h) => h.LifecycleHookName === hookName);
  if (!hook) return { found: false };
  return {
    found: true,
    heartbeatTimeoutSeconds: hook.HeartbeatTimeout ?? 3600,
    globalTimeoutSeconds: hook.GlobalTimeout ?? Math.min(100 * (hook.HeartbeatTimeout ?? 3600), 172_800),
    defaultResult: hook.DefaultResult ?? 'ABANDON',
  };
}
