import { failureMessage } from '../lib/failure-message';

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

/** A deploy's failures name the activity that failed: its timeline covers many. */
export const errorMessage = (err: unknown): string => failureMessage(err, { activityType: true });
