import type { CanaryPlan } from '../../config/schema';
import { aws, compensations } from './activity-options';
import type { DeployContext } from './context';
import { DeployRefused } from './failures';

/**
 * The canary revision (registered from the image, or the given task definition) and the canary
 * service `<service>-canary` with no tasks yet; its removal is registered for rollback first.
 */
export async function createCanary(ctx: DeployContext, p: CanaryPlan): Promise<void> {
  const { input, state } = ctx;
  const { canaryService, dryRun } = state;
  if (!state.stable) throw new DeployRefused('no stable service snapshot');
  const base = state.stable;
  await ctx.checkpoint();
  await ctx.enterPhase('creating-canary', `deploying ${input.image ?? input.taskDefinition} as ${canaryService}`);
  const revision = await aws.resolveDeployRevision({
    cluster: input.cluster,
    service: input.service,
    currentTaskDefinition: base.taskDefinition,
    image: input.image,
    taskDefinition: input.taskDefinition,
    container: p.container,
    dryRun,
  });
  state.recordCalls(revision.dryRunCalls);
  state.canaryTaskDefinition = revision.taskDefinitionArn;
  state.decide(revision.registered ? 'register' : 'use', `canary revision ${revision.taskDefinitionArn}`);
  if (revision.taskDefinitionArn === base.taskDefinition) {
    throw new DeployRefused(`${input.service} already runs ${revision.taskDefinitionArn}`);
  }

  // Registered before the call: a create that succeeded but whose answer was lost must still be undone.
  state.undo.push({
    description: `${canaryService} scaled to zero and deleted`,
    run: async () => {
      const deleted = await compensations.deleteCanaryService({ cluster: input.cluster, canaryService, dryRun });
      state.recordCalls(deleted.dryRunCalls);
      state.canaryDesiredCount = 0;
    },
  });
  const created = await aws.createCanaryService({
    cluster: input.cluster,
    service: input.service,
    canaryService,
    taskDefinition: revision.taskDefinitionArn,
    desiredCount: 0,
    canaryTargetGroupArn: p.listenerRule?.canaryTargetGroupArn,
    stableTargetGroupArn: p.listenerRule?.stableTargetGroupArn,
    dryRun,
  });
  state.recordCalls(created.dryRunCalls);
  state.decide('create', `${canaryService} created with 0 tasks (${state.trafficMode})`);
}
