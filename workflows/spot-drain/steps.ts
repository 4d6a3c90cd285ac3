import { ActivityFailure, isCancellation, TimeoutFailure } from '@temporalio/workflow';
import type { DrainActivities } from '../../activities/drain';
import { failureMessage } from '../lib/failure-message';
import type { OperatorControls } from '../lib/operator-controls';
import { MIN_ACTIVITY_BUDGET_MS, shortSteps } from './activity-options';
import type { DrainStepName } from '../../contracts/spot-drain/messages';
import type { DrainState } from './state';

/** What every phase of a drain works with. */
export interface DrainContext {
  readonly state: DrainState;
  readonly controls: OperatorControls;
  readonly workflowId: string;
  /** The account and region the drain's events came from (SpotDrainInput); unset in a single-account setup. */
  readonly placement?: { account?: string; region?: string };
  /**
   * The run keeps a short history (patch LEAN_HISTORY_PATCH, asked before the instance is resolved): its
   * cluster goes out with its first phase, DRAINING is not set again when it already is, and on the
   * two-minute deadline the work after DRAINING is one activity (move-off.ts). Runs recorded before did
   * each as a command of its own.
   */
  lean?: boolean;
}

export const LEAN_HISTORY_PATCH = 'drain-lean-history';

export type StepOutcome<T> = { ok: true; value: T } | { ok: false; error: string };

export const aborted = (ctx: DrainContext): boolean => ctx.controls.abortRequest !== undefined;


export function isTimeout(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof TimeoutFailure;
}

/** Runs one short step within the time left; a failure is recorded and returned, never thrown. */
export async function step<T>(
  ctx: DrainContext,
  name: DrainStepName,
  run: (acts: DrainActivities) => Promise<T>,
  describe: (r: T) => string,
  budgetMs = ctx.state.timeLeftMs(),
  proxy: (budgetMs: number) => DrainActivities = shortSteps,
): Promise<StepOutcome<T>> {
  const { state } = ctx;
  if (budgetMs < MIN_ACTIVITY_BUDGET_MS) {
    state.skip(name, 'no time left before the deadline');
    return { ok: false, error: 'no time left before the deadline' };
  }
  const s = state.begin(name);
  try {
    const value = await run(proxy(budgetMs));
    state.end(s, 'done', describe(value));
    return { ok: true, value };
  } catch (err) {
    if (isCancellation(err)) throw err;
    const error = failureMessage(err);
    state.end(s, 'failed', error);
    return { ok: false, error };
  }
}
