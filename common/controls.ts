import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

/**
 * Messages every fleetops workflow answers (docs/contract.md, Workflow surface). Workflow-specific
 * messages (deploy `approve`, incident `assign`, ...) are defined beside their workflow.
 * Installed in a workflow by workflows/lib/operator-controls.ts; the CLI imports these definitions.
 */

/** What `status` returns: at least a phase and a human-readable summary, plus workflow-specific fields. */
export interface WorkflowStatus {
  phase: string;
  summary: string;
  paused?: boolean;
  dryRun?: boolean;
  /** Mutating AWS calls a dryRun would have made, in order. */
  dryRunCalls?: DryRunCall[];
  [field: string]: unknown;
}

export interface DryRunCall {
  /** e.g. `ecs:UpdateContainerInstancesState` */
  action: string;
  params: Record<string, unknown>;
}

export interface ControlRequest {
  /** Who asked (CLI user, "web-ui", a workflow id). */
  by?: string;
  reason?: string;
}

export interface AbortRequest extends ControlRequest {
  reason: string;
}

export const statusQuery = defineQuery<WorkflowStatus>('status');
/**
 * `pause` and `resume` are updates: the caller learns at once whether the workflow took them and the
 * state they left (`paused` in the returned status), with no polling.
 */
export const pauseUpdate = defineUpdate<WorkflowStatus, [ControlRequest]>('pause');
export const resumeUpdate = defineUpdate<WorkflowStatus, [ControlRequest]>('resume');
/**
 * The signals `pause` and `resume` were before 0.3.0. Still handled, so histories and executions that
 * received them replay and run as they did, and a 0.2 CLI or a Web UI signal still works.
 */
export const pauseSignal = defineSignal<[ControlRequest?]>('pause');
export const resumeSignal = defineSignal<[ControlRequest?]>('resume');
/** An update, not a signal, so the caller learns whether the abort was accepted and what state it left. */
export const abortUpdate = defineUpdate<WorkflowStatus, [AbortRequest]>('abort');
