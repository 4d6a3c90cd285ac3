import { compensations } from './activity-options';
import type { DeployContext } from './context';
import { errorMessage } from './failures';
import type { DeployResult } from '../../contracts/canary-deploy/messages';

/**
 * Undoes every change the deploy made, newest first, going on past a failed undo (each makes AWS
 * safer); if any failed, asks for an incident and ends as `rollback-failed`.
 */
export async function rollback(ctx: DeployContext, reason: string): Promise<DeployResult> {
  const { input, state, info } = ctx;
  state.finalReason = reason;
  await ctx.enterPhase('rolling-back', reason);
  const failures: string[] = [];
  while (state.undo.length > 0) {
    const c = state.undo.pop()!;
    try {
      await c.run();
      state.decide('undo', c.description);
    } catch (err) {
      // Keep going: every other compensation still makes AWS safer than stopping here.
      failures.push(`${c.description}: ${errorMessage(err)}`);
      state.decide('undo failed', `${c.description}: ${errorMessage(err)}`);
    }
  }
  state.canaryWeight = 0;
  if (failures.length === 0) {
    return ctx.finish(state.dryRun ? 'dry-run-complete' : 'rolled-back', `rolled back: ${reason}`);
  }
  try {
    const incident = await compensations.requestDeployIncident({
      deployWorkflowId: info.workflowId,
      deployRunId: info.runId,
      cluster: input.cluster,
      service: input.service,
      title: `Deploy rollback failed: ${input.cluster}/${input.service}`,
      summary: `Rolling back ${state.canaryTaskDefinition ?? input.image ?? input.taskDefinition ?? ''} (${reason}) left work undone.`,
      facts: {
        reason,
        ...(state.stable ? { 'stable task definition': state.stable.taskDefinition } : {}),
        ...(state.canaryTaskDefinition ? { 'canary task definition': state.canaryTaskDefinition } : {}),
        'undo failures': failures.join(' | '),
      },
    });
    state.incidentWorkflowId = incident.workflowId;
    state.decide('incident', `asked for incident ${incident.workflowId}`);
  } catch (err) {
    state.decide('incident failed', `could not open an incident: ${errorMessage(err)}`);
  }
  return ctx.finish('rollback-failed', `rollback incomplete after: ${reason}; ${failures.join('; ')}`);
}
