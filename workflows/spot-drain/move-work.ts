import { workflowInfo } from '@temporalio/workflow';
import type { DrainTarget } from './state';
import { step, type DrainContext } from './steps';

/**
 * Moving the work off a DRAINING instance: deregister it from its target groups, stop (and rerun
 * elsewhere) its standalone tasks, and ask the capacity workflow for a replacement, all at once.
 * Service tasks are ECS's to move; wait-for-tasks.ts waits for them.
 */

export async function moveWork(ctx: DrainContext, t: DrainTarget): Promise<void> {
  const { state, controls, workflowId } = ctx;
  const { instanceId, dryRun, drain } = state;
  controls.setPhase('moving-work');
  await Promise.all([
    step(
      ctx,
      'deregister-targets',
      (a) => a.deregisterInstanceTargets({ instanceId, cluster: t.cluster, maxDeregistrationDelaySeconds: drain.maxDeregistrationDelaySeconds, dryRun }),
      (v) => (v.targetGroups.length === 0 ? 'in no target group' : v.targetGroups.map((g) => `${g.targets} from ${g.targetGroupArn}`).join('; ')),
    ).then((r) => state.record(r.ok ? r.value : undefined)),
    step(
      ctx,
      'move-standalone-tasks',
      (a) =>
        a.moveStandaloneTasks({
          cluster: t.cluster,
          containerInstanceArn: t.containerInstanceArn,
          instanceId,
          rerun: drain.rerunStandaloneTasks,
          reason: `fleetops: ${state.mode()} for ${instanceId}`,
          idempotencyKey: `${workflowId}/${workflowInfo().runId}`,
          dryRun,
        }),
      (v) =>
        `stopped ${v.stopped.length}, rerun ${v.rerun.length}` +
        (v.rerunFailed.length ? `, rerun failed ${v.rerunFailed.length}` : '') +
        `; ${v.serviceTasks} service task(s) left to ECS`,
    ).then((r) => state.record(r.ok ? r.value : undefined)),
    requestCapacity(ctx, t),
  ]);
}

/**
 * Asks the capacity workflow for the instance's units, once, unless nothing is to be replaced
 * (DrainState.noReplacement). `ownPhase`: asked before anything else (rebalance), not alongside moving work.
 */
export async function requestCapacity(ctx: DrainContext, t: DrainTarget, ownPhase = false): Promise<void> {
  const { state, controls, workflowId } = ctx;
  if (state.capacityRequested) return;
  const noNeed = state.noReplacement();
  if (noNeed) {
    state.skip('request-capacity', noNeed);
    return;
  }
  if (ownPhase) controls.setPhase('requesting-capacity');
  const { instanceId, dryRun } = state;
  const r = await step(
    ctx,
    'request-capacity',
    (a) =>
      a.requestReplacementCapacity({
        cluster: t.cluster,
        instanceId,
        units: t.capacityUnits,
        reason: `${state.mode()} for ${instanceId}`,
        source: workflowId,
        dryRun,
      }),
    (v) => `${t.capacityUnits} unit(s) asked of ${v.workflowId}`,
  );
  if (r.ok) {
    state.capacityRequested = true;
    state.record(r.value);
  }
}
