import type { CanaryPlan } from '../../config/schema';
import { bake } from './bake';
import type { DeployContext } from './context';
import { createCanary } from './create-canary';
import { gate } from './gate';
import type { DeployResult } from '../../contracts/canary-deploy/messages';
import { postPromotionBake } from './post-promotion';
import { promote } from './promote';
import { setWeight } from './shift';

/**
 * The forward path: create the canary, run the plan's steps in order (pause and abort are honoured
 * between them), promote at the `promote` step or after the last one, then bake the promoted service.
 */
export async function forward(ctx: DeployContext, p: CanaryPlan): Promise<DeployResult> {
  const { input, state } = ctx;
  await createCanary(ctx, p);
  let promoted = false;
  for (let i = 0; i < p.steps.length; i++) {
    const s = p.steps[i]!;
    state.step = { index: i, total: p.steps.length, kind: s.kind };
    await ctx.checkpoint();
    switch (s.kind) {
      case 'setWeight':
        await setWeight(ctx, s.weight);
        break;
      case 'bake':
        await ctx.enterPhase('baking', `bake ${s.seconds} s at ${state.canaryWeight}%`);
        await bake(ctx, s.seconds);
        state.decide('pass', `bake of ${s.seconds} s passed`);
        break;
      case 'gate':
        await gate(ctx, s.timeoutSeconds ?? p.gateTimeoutSeconds);
        break;
      case 'promote':
        await promote(ctx);
        promoted = true;
        break;
    }
    if (promoted) {
      if (i < p.steps.length - 1) state.decide('skip', `${p.steps.length - 1 - i} step(s) after promote ignored`);
      break;
    }
  }
  if (!promoted) {
    await ctx.checkpoint();
    await promote(ctx);
  }
  await postPromotionBake(ctx);
  return ctx.finish(state.dryRun ? 'dry-run-complete' : 'promoted', `${input.service} promoted to ${state.canaryTaskDefinition}`);
}
