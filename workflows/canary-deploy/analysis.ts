import type { MetricCheck } from '../../config/schema';
import { aws } from './activity-options';
import { analysisTimeline, describeInconclusive, judgeAnalysis } from './checks';
import type { DeployContext } from './context';
import { CanaryFailed } from './failures';
import { waitForHuman } from './gate';
import type { DeployPhase } from '../../contracts/canary-deploy/messages';
import type { WaitScope } from './state';

/** What a bake analyses: the service measured, the metric checks that apply to it, what ends its waits. */
export interface AnalysisSubject {
  service: string;
  metricChecks: MetricCheck[];
  scope: WaitScope;
  /** Put before a failure's reason (which side of promotion it came from). */
  failurePrefix: string;
  /** The phase the bake goes back to once a human accepted an inconclusive analysis. */
  phase: DeployPhase;
}

export function canarySubject(ctx: DeployContext): AnalysisSubject {
  return { service: ctx.state.canaryService, metricChecks: ctx.state.plan?.metricChecks ?? [], scope: 'canary', failurePrefix: '', phase: 'baking' };
}

/**
 * One analysis run during a bake: measured by the `analyzeCanary` activity, judged by the checks
 * (checks/): fails the subject, counts a tolerated failure, asks a human, or lets the bake go on.
 */
export async function analyse(ctx: DeployContext, sinceMs: number, subject: AnalysisSubject = canarySubject(ctx)): Promise<void> {
  const { input, state } = ctx;
  const { plan } = state;
  if (!plan) return;
  const result = await aws.analyzeCanary({
    cluster: input.cluster,
    service: input.service,
    canaryService: subject.service,
    alarms: plan.alarms,
    metricChecks: subject.metricChecks,
    sinceMs,
    windowSeconds: plan.analysisIntervalSeconds,
  });
  state.analysisRuns += 1;
  state.lastAnalysis = result;
  const verdict = judgeAnalysis(result, plan);
  state.timeline.push({ at: result.at, source: 'analysis', text: `run ${state.analysisRuns}: ${analysisTimeline(result)}` });
  if (verdict.fail) throw new CanaryFailed(`${subject.failurePrefix}${verdict.fail}`);
  if (verdict.counted.length > 0) {
    state.metricFailures += verdict.counted.length;
    const what = verdict.counted.join('; ');
    if (state.metricFailures > plan.failureLimit) {
      throw new CanaryFailed(`${subject.failurePrefix}metric checks failed ${state.metricFailures} times (limit ${plan.failureLimit}): ${what}`);
    }
    state.decide('tolerate', `metric failure ${state.metricFailures} of ${plan.failureLimit} tolerated: ${what}`);
  }
  if (verdict.inconclusive.length > 0) {
    const timeoutSeconds = plan.inconclusiveTimeoutSeconds;
    const answer = await waitForHuman(
      ctx,
      'inconclusive',
      timeoutSeconds,
      'rollback',
      `analysis inconclusive (${describeInconclusive(state.lastAnalysis, plan)}): approve to continue or abort within ${timeoutSeconds} s, then rollback`,
      subject.scope,
    );
    if (answer === 'timeout') {
      throw new CanaryFailed(`${subject.failurePrefix}inconclusive analysis not judged within ${timeoutSeconds} s (${describeInconclusive(result, plan)})`);
    }
    state.throwIfInterrupted(subject.scope);
    await ctx.enterPhase(subject.phase, 'inconclusive analysis accepted by a human; baking continues');
    return;
  }
  if (verdict.counted.length === 0) state.decide('pass', `analysis run ${state.analysisRuns} passed`);
}
