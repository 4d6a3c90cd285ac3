import { aws, compensations } from './activity-options';
import type { DeployContext } from './context';
import { waitForCanaryServing } from './readiness';
import { canaryTaskCount } from './sizing';

/**
 * A `setWeight` step: the canary sized for the weight and serving (readiness.ts), then the listener
 * rule's weights set, or, sharing the stable target group, the share its tasks get there recorded.
 */
export async function setWeight(ctx: DeployContext, weight: number): Promise<void> {
  const { input, state } = ctx;
  const { plan, stable, canaryService, dryRun } = state;
  if (!plan || !stable || !state.canaryTaskDefinition) return;
  await ctx.enterPhase('shifting-traffic', `setWeight ${weight}`);
  const mode = state.trafficMode ?? 'shared-target-group';
  const desired = canaryTaskCount(stable.desiredCount, weight, mode);
  if (desired !== state.canaryDesiredCount) {
    // A scale-up goes out as an ECS deployment, so the canary's circuit breaker watches its new tasks.
    const newDeployment = desired > state.canaryDesiredCount;
    const scaled = await aws.scaleService({ cluster: input.cluster, service: canaryService, desiredCount: desired, newDeployment, dryRun });
    state.recordCalls(scaled.dryRunCalls);
    state.decide('scale', `${canaryService} to ${desired} task(s) for ${weight}% (${mode}, stable has ${stable.desiredCount})`);
    state.canaryDesiredCount = desired;
  }
  // Before every weight step, scaled or not: its targets may have gone unhealthy since the last one.
  if (desired > 0) await waitForCanaryServing(ctx, desired);
  if (plan.listenerRule && state.ruleSnapshot) {
    const rule = plan.listenerRule;
    const snapshot = state.ruleSnapshot;
    if (!state.undo.some((c) => c.description.startsWith('listener rule'))) {
      state.undo.push({
        description: `listener rule ${rule.ruleArn} restored as it was`,
        run: async () => {
          const back = await compensations.restoreListenerRule({ cluster: input.cluster, listenerRule: rule, snapshot, dryRun });
          state.recordCalls(back.dryRunCalls);
        },
      });
    }
    const set = await aws.setTrafficWeight({ cluster: input.cluster, listenerRule: rule, canaryWeight: weight, dryRun });
    state.recordCalls(set.dryRunCalls);
    state.decide('shift', `listener rule weights stable ${set.stableWeight} / canary ${set.canaryWeight} (read back)`);
    state.canaryWeight = set.canaryWeight;
  } else {
    const total = stable.desiredCount + desired;
    state.canaryWeight = total > 0 ? Math.round((desired * 100) / total) : 0;
    state.decide('shift', `canary tasks share the stable target group: about ${state.canaryWeight}% of traffic (asked ${weight}%)`);
  }
}
