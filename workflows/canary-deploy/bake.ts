import { condition } from '@temporalio/workflow';
import { analyse, canarySubject, type AnalysisSubject } from './analysis';
import type { DeployContext } from './context';

/**
 * A bake: `subject` (the canary at a `bake` step; the promoted main service after promotion) runs for
 * `seconds` with an analysis every `analysisIntervalSeconds` (and one at the end). A paused deploy
 * keeps analysing but does not leave the bake. Skipped in a dry run.
 */
export async function bake(ctx: DeployContext, seconds: number, subject: AnalysisSubject = canarySubject(ctx)): Promise<void> {
  const { state, controls } = ctx;
  const { plan } = state;
  if (!plan) return;
  if (state.dryRun) {
    state.decide('skip', `dry run: bake of ${seconds} s with analysis skipped`);
    return;
  }
  const startedAt = Date.now();
  const endAt = startedAt + seconds * 1000;
  const intervalMs = plan.analysisIntervalSeconds * 1000;
  let nextAnalysisAt = Math.min(startedAt + intervalMs, endAt);
  let sinceMs = startedAt;
  for (;;) {
    const waitMs = Math.max(0, nextAnalysisAt - Date.now());
    const pastEnd = Date.now() >= endAt;
    if (waitMs > 0) {
      await condition(() => state.interrupted(subject.scope) !== undefined || (pastEnd && !controls.paused), waitMs);
    }
    state.throwIfInterrupted(subject.scope);
    if (Date.now() >= nextAnalysisAt) {
      const runStartedAt = Date.now();
      await analyse(ctx, sinceMs, subject);
      sinceMs = runStartedAt;
      nextAnalysisAt = Date.now() + intervalMs;
      if (Date.now() < endAt) nextAnalysisAt = Math.min(nextAnalysisAt, endAt);
    }
    if (Date.now() >= endAt && !controls.paused) return;
  }
}
