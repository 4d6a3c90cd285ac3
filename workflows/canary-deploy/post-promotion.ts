import { bake } from './bake';
import type { DeployContext } from './context';

/**
 * After promotion the main service bakes on the new revision under the plan's alarms and checks for
 * `postPromotionBakeSeconds`, with the previous revision still the one undo goes back to (Argo
 * Rollouts and ECS blue/green keep it ready the same way); a failure, an abort or a failed ECS
 * deployment rolls the service back to it. Ratio-to-stable metric checks are left out: no stable is
 * left to compare with. Skipped (the undo let go at once) in a dry run, when set to 0, and for plans
 * resolved before the setting existed (replayed histories).
 */
export async function postPromotionBake(ctx: DeployContext): Promise<void> {
  const { input, state } = ctx;
  const seconds = state.plan?.postPromotionBakeSeconds ?? 0;
  const previous = state.stable?.taskDefinition;
  if (seconds > 0 && state.dryRun) state.decide('skip', `dry run: post-promotion bake of ${seconds} s skipped`);
  if (seconds > 0 && !state.dryRun && state.plan) {
    state.postPromotion = true;
    await ctx.enterPhase('post-promotion-bake', `${input.service} runs ${state.canaryTaskDefinition}; baking ${seconds} s before ${previous} is let go`);
    await bake(ctx, seconds, {
      service: input.service,
      metricChecks: state.plan.metricChecks.flatMap((c) => {
        const { maxRatioToStable: _ratio, ...absolute } = c;
        return c.maxValue !== undefined ? [absolute] : [];
      }),
      scope: 'promotion',
      failurePrefix: 'after promotion: ',
      phase: 'post-promotion-bake',
    });
    state.decide('pass', `post-promotion bake of ${seconds} s passed; the previous revision is let go`);
  }
  state.undo.length = 0;
}
