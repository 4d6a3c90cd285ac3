import type { DryRunCall, WorkflowStatus } from '../controls';
import type { LaunchInput } from './input';

/**
 * The launch workflow (`launch`, `launch-<instance-id>`): what its clients read. Its operator
 * messages are the shared `status` and `abort` (contracts/controls.ts); it cannot be paused, because
 * the hook's own timeout runs while it waits.
 */

/** `continued`: the instance joined and went into service; `abandoned`: the ASG was told to replace it. */
export type LaunchOutcome = 'continued' | 'abandoned';

export interface LaunchStatus extends WorkflowStatus {
  instanceId: string;
  cluster: string;
  asgName: string;
  hookName: string;
  /** When the lifecycle action is abandoned if the instance has not joined. */
  deadline: string;
  /** What the cluster last said of the instance: REGISTERING, ACTIVE, ... or not-registered. */
  containerInstanceStatus?: string;
  containerInstanceArn?: string;
  lifecycleHeartbeats: number;
  outcome?: LaunchOutcome;
  /** Why it ended as it did. */
  reason?: string;
}

export interface LaunchResult {
  outcome: LaunchOutcome;
  instanceId: string;
  cluster: string;
  reason: string;
  containerInstanceArn?: string;
  /** False when the lifecycle call failed (the hook's own timeout and DefaultResult decide then). */
  completed: boolean;
  dryRunCalls: DryRunCall[];
}

/** The workflow's signature, for typed handles without importing workflow code. */
export type LaunchWorkflow = (input: LaunchInput) => Promise<LaunchResult>;
