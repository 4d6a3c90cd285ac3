import { condition, patched, workflowInfo } from '@temporalio/workflow';
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

export const RELEASE_APPROVAL_PATCH = 'deploy-release-approval';

/** A `gate` step: approve goes on, abort rolls back, no answer does what the plan says. Skipped in a dry run. */
export async function gate(ctx: DeployContext, timeoutSeconds: number): Promise<void> {
  const { state } = ctx;
  const { plan } = state;
  if (!plan) return;
  if (state.dryRun) {
    state.decide('skip', `dry run: gate (timeout ${timeoutSeconds} s) skipped`);
    return;
  }
  // A release's deploy was approved with its wave (workflows/release/), by someone the release held to
  // this deploy's approvers. Only inputs with releaseApproval come here, so other runs replay as they ran.
  // The approval counts only in a child of the release it names: the starters' schemas cannot carry it,
  // and a run started some other way with one waits at its gate like any deploy.
  const given = ctx.input.releaseApproval;
  if (given && workflowInfo().parent?.workflowId === given.release && patched(RELEASE_APPROVAL_PATCH)) {
    const what = given.wave === 0 ? `the rollback of ${given.release}` : `wave ${given.wave} of ${given.release}`;
    state.decide('approve', `gate passed: ${what} approved by ${given.by}${given.viaGroup ? ` (user group ${given.viaGroup})` : ''}${given.reason ? `: ${given.reason}` : ''}`);
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
