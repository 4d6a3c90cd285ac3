import { ActivityFailure } from '@temporalio/workflow';

/** Thrown inside the forward path to leave it for rollback; never escapes the workflow. */
export class CanaryFailed extends Error {
  constructor(
    readonly reason: string,
    readonly decision = 'rollback',
  ) {
    super(reason);
  }
}

/** Thrown before anything was changed: the deploy ends as `refused`. */
export class DeployRefused extends Error {}

export function errorMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return `${err.activityType}: ${errorMessage(err.cause)}`;
  if (err instanceof Error) return err.message;
  return String(err);
}
