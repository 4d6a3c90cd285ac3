import { aws } from './activity-options';
import { analysisTimeline, describeInconclusive, judgeAnalysis } from './checks';
import type { DeployContext } from './context';
import { CanaryFailed } from './failures';
import { waitForHuman } from './gate';

/**
 * One analysis run during a bake: measured by the `analyzeCanary` activity, judged by the checks
 * (checks/): fails the canary, counts a tolerated failure, asks a human, or lets the bake go on.
 */
export async function analyse(ctx: DeployContext, sinceMs: number): Promise<void> {
  const { input, state } = ctx;
  const { plan } = state;
  if (!plan) return;
  const result = await aws.analyzeCanary({
    cluster: input.cluster,
    service: input.service,
    canaryService: state.canaryService,
    alarms: plan.alarms,
    metricChecks: plan.metricChecks,
    sinceMs,
    windowSeconds: plan.analysisIntervalSeconds,
  });
  state.analysisRuns += 1;
  state.lastAnalysis = result;
  const verdict = judgeAnalysis(result, plan);
  state.timeline.push({ at: result.at, source: 'analysis', text: `run ${state.analysisRuns}: ${analysisTimeline(result)}` });
  if (verdict.fail) throw new CanaryFailed(verdict.fail);
  if (verdict.counted.length > 0) {
    state.metricFailures += verdict.counted.length;
    const what = verdict.counted.join('; ');
    if (state.metricFailures > plan.failureLimit) {
      throw new CanaryFailed(`metric checks failed ${state.metricFailures} times (limit ${plan.failureLimit}): ${what}`);
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
    );
    if (answer === 'timeout') {
      throw new CanaryFailed(`inconclusive analysis not judged within ${timeoutSeconds} s (${describeInconclusive(result, plan)})`);
    }
    state.throwIfInterrupted('canary');
    await ctx.enterPhase('baking', 'inconclusive analysis accepted by a human; baking continues');
    return;
  }
  if (verdict.counted.length === 0) state.decide('pass', `analysis run ${state.analysisRuns} passed`);
}
