import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/common';
import { isGrpcDeadlineError, isGrpcServiceError, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';

/** docs/contract.md, Processes: 0 ok, 1 the operation failed, 2 usage or bad input (with a message). */
export const ExitCode = { Ok: 0, Failed: 1, Usage: 2 } as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error the CLI reports with its message and exit code; anything else is a bug and exits 1 with its stack. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
    /** Extra facts for `--json` output (e.g. the running workflow's id). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const usageError = (message: string): CliError => new CliError(message, ExitCode.Usage);
export const failedError = (message: string, details?: Record<string, unknown>): CliError =>
  new CliError(message, ExitCode.Failed, details);

/** Turns the Temporal client's errors an operator can cause into messages that say what happened. */
export function toCliError(err: unknown, workflowId?: string): CliError | undefined {
  if (err instanceof CliError) return err;
  if (err instanceof WorkflowNotFoundError) {
    return failedError(`workflow ${err.workflowId || workflowId || ''} not found (or no longer running)`.replace('  ', ' '), {
      workflowId: err.workflowId || workflowId,
    });
  }
  if (err instanceof WorkflowExecutionAlreadyStartedError) {
    return failedError(`workflow ${err.workflowId} is already running`, { workflowId: err.workflowId });
  }
  if (err instanceof WorkflowUpdateFailedError) {
    // The validator's or handler's own message says why (wrong phase, missing reason, ...).
    const why = err.cause instanceof Error ? err.cause.message : err.message;
    return failedError(`rejected: ${why}`, { workflowId });
  }
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError || isGrpcDeadlineError(err)) {
    return failedError(`no answer in time${workflowId ? ` from workflow ${workflowId}` : ''}: is a fleetops worker running?`, {
      workflowId,
    });
  }
  if (isGrpcServiceError(err)) {
    return failedError(`Temporal: ${err.details || err.message}`, { workflowId });
  }
  return undefined;
}
