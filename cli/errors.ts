import { explainTemporalError } from '../common/temporal-errors';

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
  const known = explainTemporalError(err, workflowId);
  return known ? failedError(known.message, known.details) : undefined;
}
