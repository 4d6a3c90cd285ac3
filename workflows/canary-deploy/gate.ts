import { condition } from '@temporalio/workflow';
import type { DeployContext } from './context';
import { CanaryFailed } from './failures';
import type { HumanAnswer, WaitScope } from './state';

/**
 * Waits on a human for approve or abort, with a timeout: at a `gate` step, and when analysis is
 * inconclusive (analysis.ts). `reason` is what the phase change says.
 */
export async function waitForHuman(
  ctx: DeployContext,
  kind: 'gate' | 'inconclusive',
  timeoutSeconds: number,
  onTimeout: 'rollback' | 'promote',
  reason: string,
  scope: WaitScope = 'canary',
): Promise<HumanAnswer> {
  const { state } = ctx;
  state.startAwaiting(kind, timeoutSeconds, onTimeout);
  await ctx.enterPhase(kind === 'gate' ? 'awaiting-approval' : 'inconclusive', reason);
  const answered = await condition(() => state.approval !== undefined || state.interrupted(scope) !== undefined, timeoutSeconds * 1000);
  return state.endAwaiting(answered, scope);
}

/** A `gate` step: approve goes on, abort rolls back, no answer does what the plan says. Skipped in a dry run. */
export async function gate(ctx: DeployContext, timeoutSeconds: number): Promise<void> {
  const { state } = ctx;
  const { plan } = state;
  if (!plan) return;
  if (state.dryRun) {
    state.decide('skip', `dry run: gate (timeout ${timeoutSeconds} s) skipped`);
    return;
  }
  const answer = await waitForHuman(
    ctx,
    'gate',
    timeoutSeconds,
    plan.gateTimeoutAction,
    `gate: approve or abort within ${timeoutSeconds} s, then ${plan.gateTimeoutAction}`,
  );
  if (answer === 'timeout') {
    if (plan.gateTimeoutAction === 'promote') {
      state.decide('promote', `gate not answered within ${timeoutSeconds} s; config says promote`);
      return;
    }
    throw new CanaryFailed(`gate not answered within ${timeoutSeconds} s; config says rollback`);
  }
  state.throwIfInterrupted('canary');
}
