import type { CanaryAnalysis, CanaryChecks, CheckKind } from '../../../common/deploy';
import type { CanaryPlan } from '../../../config/schema';
import { alarmsCheck } from './alarms';
import { metricsCheck } from './metrics';
import { rolloutCheck } from './rollout';
import { stoppedTasksCheck } from './stopped-tasks';
import type { AnalysisCheck, CheckVerdict } from './types';

/**
 * Every canary analysis check, one per field of `CanaryChecks` (common/deploy.ts); the type makes the
 * compiler ask for a new kind's check. The order is the order of the timeline line, of which failure
 * is reported when several fail at once, and of the inconclusive reasons.
 */
export const ANALYSIS_CHECKS: { readonly [K in CheckKind]: AnalysisCheck<K> } = {
  alarms: alarmsCheck,
  metrics: metricsCheck,
  stoppedTasks: stoppedTasksCheck,
  canary: rolloutCheck,
};

const KINDS = Object.keys(ANALYSIS_CHECKS) as CheckKind[];

function verdictOf<K extends CheckKind>(kind: K, analysis: CanaryChecks, plan: CanaryPlan): CheckVerdict {
  return ANALYSIS_CHECKS[kind].judge(analysis[kind], plan);
}

function timelineOf<K extends CheckKind>(kind: K, analysis: CanaryChecks): string | undefined {
  return ANALYSIS_CHECKS[kind].timeline(analysis[kind]);
}

export interface AnalysisVerdict {
  /** The first check's failure that fails the canary at once. */
  fail?: string;
  /** Failures counted against the failure limit. */
  counted: string[];
  /** Reasons the analysis is inconclusive. */
  inconclusive: string[];
}

/** All checks' verdicts on one analysis run, combined. */
export function judgeAnalysis(analysis: CanaryAnalysis, plan: CanaryPlan): AnalysisVerdict {
  const combined: AnalysisVerdict = { counted: [], inconclusive: [] };
  for (const kind of KINDS) {
    const v = verdictOf(kind, analysis, plan);
    combined.fail ??= v.fail;
    combined.counted.push(...(v.counted ?? []));
    combined.inconclusive.push(...(v.inconclusive ?? []));
  }
  return combined;
}

/** The analysis run's line in the timeline (after `run <n>: `). */
export function analysisTimeline(analysis: CanaryAnalysis): string {
  return KINDS.map((kind) => timelineOf(kind, analysis))
    .filter((part): part is string => part !== undefined)
    .join('; ');
}

/** Why an analysis is inconclusive, for the phase change, the status and the rollback reason. */
export function describeInconclusive(analysis: CanaryAnalysis | undefined, plan: CanaryPlan): string {
  if (!analysis) return 'no analysis yet';
  return judgeAnalysis(analysis, plan).inconclusive.join('; ') || 'inconclusive';
}
