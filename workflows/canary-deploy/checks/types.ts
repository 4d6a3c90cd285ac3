import type { CanaryChecks, CheckKind } from '../../../common/deploy';
import type { CanaryPlan } from '../../../config/schema';

/** One check's judgement of one analysis run. */
export interface CheckVerdict {
  /** Fails the canary at once (rollback). */
  fail?: string;
  /** Failures counted against the plan's `failureLimit`: one more than the limit fails the canary. */
  counted?: string[];
  /** What a human must judge before the bake goes on (approve, abort, or the timeout rolls back). */
  inconclusive?: string[];
}

/**
 * How the workflow judges one check kind's field of a `CanaryAnalysis`. `result` is undefined in an
 * analysis recorded before the kind existed (a replayed history): judge that as nothing to report.
 */
export interface AnalysisCheck<K extends CheckKind> {
  /** This check's part of the analysis line in the timeline; undefined leaves it out. */
  timeline(result: CanaryChecks[K] | undefined): string | undefined;
  judge(result: CanaryChecks[K] | undefined, plan: CanaryPlan): CheckVerdict;
}
