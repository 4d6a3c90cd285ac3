import { condition } from '@temporalio/workflow';
import { aws, compensations } from './activity-options';
import type { DeployContext } from './context';
import { CanaryFailed } from './failures';
import { canaryTaskCount } from './sizing';

/** How long new canary tasks get to reach RUNNING after a scale-up before the canary fails. */
const CANARY_READY_TIMEOUT_SECONDS = 600;

/**
 * A `setWeight` step: the canary sized for the weight (and running), then the listener rule's weights
 * set, or, sharing the stable target group, the share its tasks get there recorded.
 */
export async function setWeight(ctx: DeployContext, weight: number): Promise<void> {
  const { input, state } = ctx;
  const { plan, stable, canaryService, dryRun } = state;
  if (!plan || !stable || !state.canaryTaskDefinition) return;
  await ctx.enterPhase('shifting-traffic', `setWeight ${weight}`);
  const mode = state.trafficMode ?? 'shared-target-group';
  const desired = canaryTaskCount(stable.desiredCount, weight, mode);
  if (desired !== state.canaryDesiredCount) {
    const scaled = await aws.scaleService({ cluster: input.cluster, service: canaryService, desiredCount: desired, dryRun });
    state.recordCalls(scaled.dryRunCalls);
    state.decide('scale', `${canaryService} to ${desired} task(s) for ${weight}% (${mode}, stable has ${stable.desiredCount})`);
    state.canaryDesiredCount = desired;
    if (desired > 0) await waitForCanaryReady(ctx, desired);
  }
  if (plan.listenerRule) {
    const rule = plan.listenerRule;
    if (!state.undo.some((c) => c.description.startsWith('listener rule'))) {
      state.undo.push({
        description: `listener rule ${rule.ruleArn} back to 100% stable`,
        run: async () => {
          const back = await compensations.setTrafficWeight({ listenerRule: rule, canaryWeight: 0, dryRun });
          state.recordCalls(back.dryRunCalls);
        },
      });
    }
    const set = await aws.setTrafficWeight({ listenerRule: rule, canaryWeight: weight, dryRun });
    state.recordCalls(set.dryRunCalls);
    state.decide('shift', `listener rule weights stable ${set.stableWeight} / canary ${set.canaryWeight} (read back)`);
    state.canaryWeight = set.canaryWeight;
  } else {
    const total = stable.desiredCount + desired;
    state.canaryWeight = total > 0 ? Math.round((desired * 100) / total) : 0;
    state.decide('shift', `canary tasks share the stable target group: about ${state.canaryWeight}% of traffic (asked ${weight}%)`);
  }
}

/** Waits until the canary service runs what it should, or fails the canary. */
async function waitForCanaryReady(ctx: DeployContext, desired: number): Promise<void> {
  const { input, state } = ctx;
  const { canaryService } = state;
  if (state.dryRun) return;
  const deadline = Date.now() + CANARY_READY_TIMEOUT_SECONDS * 1000;
  for (;;) {
    const snap = await aws.describeDeployService({ cluster: input.cluster, service: canaryService });
    if (!snap) throw new CanaryFailed(`${canaryService} disappeared`);
    const primary = snap.deployments.find((d) => d.status === 'PRIMARY');
    if (primary?.rolloutState === 'FAILED') {
      throw new CanaryFailed(`canary deployment FAILED: ${primary.rolloutStateReason ?? 'no reason given'}`);
    }
    if (snap.runningCount >= desired && snap.desiredCount === desired) return;
    if (Date.now() >= deadline) {
      throw new CanaryFailed(`canary reached ${snap.runningCount} of ${desired} running tasks in ${CANARY_READY_TIMEOUT_SECONDS} s`);
    }
    await condition(() => state.interrupted('canary') !== undefined, state.servicePollMs());
    state.throwIfInterrupted('canary');
  }
}
