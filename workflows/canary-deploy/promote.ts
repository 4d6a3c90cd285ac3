import { condition } from '@temporalio/workflow';
import { aws, compensations } from './activity-options';
import type { DeployContext } from './context';
import { CanaryFailed, errorMessage } from './failures';
import type { WaitScope } from './state';

/**
 * Promotion: the main service moves to the canary's revision (undo: back to the old one, kept for the
 * post-promotion bake), and once ECS finished that deployment, the listener rule is restored and the
 * canary goes. Cleanup failures after a good promotion are left for an operator, on the record.
 */
export async function promote(ctx: DeployContext): Promise<void> {
  const { input, state } = ctx;
  const { plan, stable, canaryService, dryRun } = state;
  if (!plan || !stable || !state.canaryTaskDefinition) return;
  const previous = stable.taskDefinition;
  const next = state.canaryTaskDefinition;
  await ctx.enterPhase('promoting', `moving ${input.service} from ${previous} to ${next}`);
  // Registered before the call: an update that landed while its answer (or every retry, or the
  // workflow itself) was lost must still be undone.
  const mainBack = {
    description: `${input.service} back to ${previous}`,
    run: async () => {
      const back = await compensations.updateServiceRevision({ cluster: input.cluster, service: input.service, taskDefinition: previous, dryRun });
      state.recordCalls(back.dryRunCalls);
      const failure = await waitForMainDeployment(ctx, previous, state.plan?.promoteTimeoutSeconds ?? 1800, 'compensation');
      if (failure) throw new Error(`main service did not settle back on ${previous}: ${failure}`);
    },
  };
  state.undo.push(mainBack);
  const updated = await aws.updateServiceRevision({ cluster: input.cluster, service: input.service, taskDefinition: next, dryRun });
  state.recordCalls(updated.dryRunCalls);
  const failure = await waitForMainDeployment(ctx, next, plan.promoteTimeoutSeconds, 'promotion');
  if (failure) throw new CanaryFailed(`promotion failed: ${failure}`);
  state.decide('promote', `${input.service} runs ${next}; removing the canary`);

  // Traffic goes back to the stable target group (now on the new revision) before the canary
  // goes, so no request is routed to a target group that is being emptied.
  const cleanupErrors: string[] = [];
  if (plan.listenerRule && state.ruleSnapshot) {
    try {
      const set = await compensations.restoreListenerRule({ cluster: input.cluster, listenerRule: plan.listenerRule, snapshot: state.ruleSnapshot, dryRun });
      state.recordCalls(set.dryRunCalls);
      state.canaryWeight = set.canaryWeight;
    } catch (err) {
      cleanupErrors.push(`restore listener rule: ${errorMessage(err)}`);
    }
  }
  try {
    const deleted = await compensations.deleteCanaryService({ cluster: input.cluster, canaryService, dryRun });
    state.recordCalls(deleted.dryRunCalls);
    state.canaryDesiredCount = 0;
    if (!plan.listenerRule) state.canaryWeight = 0;
  } catch (err) {
    cleanupErrors.push(`delete ${canaryService}: ${errorMessage(err)}`);
  }
  // The canary and the rule are done with; going back to the previous revision stays possible (post-promotion.ts).
  state.undo.splice(0, state.undo.length, mainBack);
  if (cleanupErrors.length > 0) state.decide('cleanup failed', `promoted, but cleanup failed (left for an operator): ${cleanupErrors.join('; ')}`);
}

/**
 * Polls the main service until ECS finished moving it to `taskDefinition`; returns a failure reason
 * or undefined. Promoting (`scope` promotion), an abort or a failed deployment ECS reported ends the
 * wait by throwing; an undo (`compensation`) only its timeout ends.
 */
async function waitForMainDeployment(ctx: DeployContext, taskDefinition: string, timeoutSeconds: number, scope: WaitScope): Promise<string | undefined> {
  const { input, state } = ctx;
  if (state.dryRun) return undefined;
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const snap = await aws.describeDeployService({ cluster: input.cluster, service: input.service });
    if (!snap) return `${input.service} not found`;
    const primary = snap.deployments.find((d) => d.status === 'PRIMARY');
    if (primary && primary.taskDefinition === taskDefinition) {
      if (primary.rolloutState === 'FAILED') return `ECS deployment ${primary.id} FAILED: ${primary.rolloutStateReason ?? 'no reason given'}`;
      const others = snap.deployments.filter((d) => d.status !== 'PRIMARY' && d.status !== 'INACTIVE');
      if (primary.rolloutState === 'COMPLETED' && others.length === 0 && snap.runningCount === snap.desiredCount) return undefined;
    }
    if (Date.now() >= deadline) {
      return `ECS deployment of ${taskDefinition} did not complete within ${timeoutSeconds} s (${snap.runningCount}/${snap.desiredCount} running, rollout ${primary?.rolloutState ?? 'unknown'})`;
    }
    const seen = state.mainDeploymentEvents;
    await condition(() => state.interrupted(scope) !== undefined || state.mainDeploymentEvents !== seen, state.servicePollMs());
    state.throwIfInterrupted(scope);
  }
}
