import { ActivityFailure, ChildWorkflowFailure, TimeoutFailure } from '@temporalio/workflow';

/**
 * What went wrong, in one line for a status, a timeline entry or a notification: the innermost cause
 * of an activity or child-workflow failure (the wrappers only say "activity task failed"), a timeout
 * by its kind. With `activityType`, the activity that failed is named first (a deploy's timeline has
 * many activities; a drain step already names its own).
 */
export function failureMessage(err: unknown, opts: { activityType?: boolean } = {}): string {
  if ((err instanceof ActivityFailure || err instanceof ChildWorkflowFailure) && err.cause) {
    const inner = failureMessage(err.cause);
    return opts.activityType && err instanceof ActivityFailure ? `${err.activityType}: ${inner}` : inner;
  }
  if (err instanceof TimeoutFailure) return `timed out (${err.timeoutType})`;
  return err instanceof Error ? err.message : String(err);
}
