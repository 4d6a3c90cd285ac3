import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/common';
import { isGrpcDeadlineError, isGrpcServiceError, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';

/**
 * What an operator is told when a Temporal client call they caused fails, in the same words from the
 * CLI (cli/errors.ts, which adds an exit code) and the Slack app: not found, already running,
 * rejected: <why>, no answer in time.
 */
export interface TemporalCallFailure {
  message: string;
  /** Extra facts (the workflow's id) for output that carries them, such as the CLI's `--json`. */
  details: Record<string, unknown>;
}

/** The failure an operator can cause, explained; undefined for anything else (a bug, not theirs). */
export function explainTemporalError(err: unknown, workflowId?: string): TemporalCallFailure | undefined {
  if (err instanceof WorkflowNotFoundError) {
    return {
      message: `workflow ${err.workflowId || workflowId || ''} not found (or no longer running)`.replace('  ', ' '),
      details: { workflowId: err.workflowId || workflowId },
    };
  }
  if (err instanceof WorkflowExecutionAlreadyStartedError) {
    return { message: `workflow ${err.workflowId} is already running`, details: { workflowId: err.workflowId } };
  }
  if (err instanceof WorkflowUpdateFailedError) {
    // The validator's or handler's own message says why (wrong phase, missing reason, ...).
    const why = err.cause instanceof Error ? err.cause.message : err.message;
    return { message: `rejected: ${why}`, details: { workflowId } };
  }
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError || isGrpcDeadlineError(err)) {
    return { message: `no answer in time${workflowId ? ` from workflow ${workflowId}` : ''}: is a fleetops worker running?`, details: { workflowId } };
  }
  if (isGrpcServiceError(err)) {
    return { message: `Temporal: ${err.details || err.message}`, details: { workflowId } };
  }
  return undefined;
}
