import { completeLifecycleActionWith, describeLifecycleHook, recordLifecycleActionHeartbeat } from '../aws/lifecycle-action';
import type { DrainContext } from './context';
import type { DrainPlacement, LifecycleActionInput, LifecycleCompletion, LifecycleHeartbeat, LifecycleHookSettings } from './types';

/** The ASG terminate lifecycle action that holds a draining instance in Terminating:Wait (calls in activities/aws/lifecycle-action.ts). */

export function createLifecycleActivities({ lifecycleClients }: DrainContext) {
  return {
    /** A heartbeat for an action no longer waiting (completed, or timed out) says so instead of failing: there is nothing left to keep alive. */
    async recordLifecycleHeartbeat(input: LifecycleActionInput): Promise<LifecycleHeartbeat> {
      return recordLifecycleActionHeartbeat(lifecycleClients(input), input.lifecycle, input.instanceId, input.dryRun);
    },

    /**
     * CONTINUE. A repeat (this drain completed it before a crash or a lost response, or a run before
     * this one did) finds no active action: the instance is already on its way, which is the goal.
     */
    async completeLifecycleAction(input: LifecycleActionInput): Promise<LifecycleCompletion> {
      return completeLifecycleActionWith(lifecycleClients(input), input.lifecycle, input.instanceId, 'CONTINUE', input.dryRun);
    },

    /** The hook's own timeouts, so the drain heartbeats well inside HeartbeatTimeout whatever the config says. */
    async describeLifecycleHook(input: { asgName: string; hookName: string; cluster?: string } & DrainPlacement): Promise<LifecycleHookSettings> {
      return describeLifecycleHook(lifecycleClients(input), input.asgName, input.hookName);
    },
  };
}
