import { condition, isCancellation, patched, workflowInfo } from '@temporalio/workflow';
import type { DeregisterTargetsResult, InstancePool, MoveStandaloneTasksResult } from '../../activities/drain/types';
import { MIN_ACTIVITY_BUDGET_MS, shortSteps } from './activity-options';
import type { DrainTarget } from './state';
import { step, type DrainContext } from './steps';

/**
 * Moving the work off a DRAINING instance: stop (and rerun elsewhere) its standalone tasks, and ask
 * the capacity workflow for a replacement, at once. Service tasks are ECS's to move; wait-for-tasks.ts
 * waits for them. Load-balancer targets: on a relaxed drain ECS deregisters each task's target as it
 * replaces the task, keeping minimumHealthyPercent serving; taking them all out first would remove
 * serving capacity early. Only on the two-minute deadline (a warning, the instance stopping) are they
 * taken out ahead of ECS, also when a warning escalates a relaxed drain (deregisterOnDeadline).
 */

export async function moveWork(ctx: DrainContext, t: DrainTarget): Promise<void> {
  const { state, controls, workflowId } = ctx;
  const { instanceId, dryRun, drain } = state;
  controls.setPhase('moving-work');
  if (!state.onDeadline()) {
    state.notNeeded.add('deregister-targets');
    state.skip('deregister-targets', `${state.mode()}: ECS deregisters each task's target as it replaces the task`);
  }
  await Promise.all([
    state.onDeadline() ? deregisterTargets(ctx) : undefined,
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
      describeMoved,
    ).then((r) => {
      state.record(r.ok ? r.value : undefined);
      if (r.ok) state.rerunFailed.push(...r.value.rerunFailed);
    }),
    requestCapacity(ctx, t),
  ]);
}

/** What the move-standalone-tasks step says it did. */
export function describeMoved(v: MoveStandaloneTasksResult): string {
  return (
    `stopped ${v.stopped.length}, rerun ${v.rerun.length}` +
    (v.rerunFailed.length ? `, rerun failed ${v.rerunFailed.length} (${v.rerunFailed.map((f) => f.reason).join('; ').slice(0, 300)})` : '') +
    (v.orchestrated?.length ? `, left to their orchestrator ${v.orchestrated.length}` : '') +
    `; ${v.serviceTasks} service task(s) left to ECS`
  );
}

/** What the deregister-targets step says it did. */
export function describeDeregistered(v: DeregisterTargetsResult): string {
  return v.targetGroups.length === 0
    ? 'in no target group'
    : v.targetGroups.map((g) => `${g.targets} from ${g.targetGroupArn} (draining ${g.deregistrationDelaySeconds} s)`).join('; ');
}

/** The pool lookup must not eat the time a replacement needs. */
const POOL_LOOKUP_BUDGET_MS = 10_000;

/** Takes the instance out of its target groups ahead of ECS (the two-minute deadline), once. */
async function deregisterTargets(ctx: DrainContext): Promise<void> {
  const { state } = ctx;
  if (state.deregistering) return;
  state.deregistering = true;
  state.notNeeded.delete('deregister-targets');
  const r = await step(
    ctx,
    'deregister-targets',
    (a) => a.deregisterInstanceTargets({ instanceId: state.instanceId, cluster: state.target?.cluster, dryRun: state.dryRun }),
    describeDeregistered,
  );
  state.record(r.ok ? r.value : undefined);
}

/**
 * A relaxed drain that a warning escalates to the two-minute deadline takes the targets out then, not
 * at the end of the wait slice it is in. Runs beside the wait; ends when the drain's work does.
 */
export async function deregisterOnDeadline(ctx: DrainContext): Promise<void> {
  const { state } = ctx;
  await condition(() => state.drainFinished || (state.movedWork && state.onDeadline() && !state.deregistering));
  if (!state.drainFinished) await deregisterTargets(ctx);
}

/** The instance's pool; unknown (ask capacity as for any pool) when the lookup fails in its budget. */
async function findPool(ctx: DrainContext, t: DrainTarget): Promise<InstancePool> {
  const budget = Math.min(ctx.state.timeLeftMs(), POOL_LOOKUP_BUDGET_MS);
  if (budget < MIN_ACTIVITY_BUDGET_MS) return { found: false };
  try {
    const notBefore = ctx.state.events[0]?.eventTime;
    return await shortSteps(budget).findInstancePool({ cluster: t.cluster, instanceId: ctx.state.instanceId, ...(notBefore ? { notBefore } : {}) });
  } catch (err) {
    if (isCancellation(err)) throw err;
    return { found: false };
  }
}

/**
 * Asks the capacity workflow for the instance's units, once, unless nothing is to be replaced
 * (DrainState.noReplacement), or the pool replaces it itself on a rebalance recommendation (an ASG
 * with CapacityRebalance, a Spot Fleet with a Capacity Rebalancing strategy: a second replacement
 * would be an extra instance; "replace first" then waits for the pool's own). `ownPhase`: asked before anything else (rebalance), not alongside moving work.
 */
export async function requestCapacity(ctx: DrainContext, t: DrainTarget, ownPhase = false): Promise<void> {
  const { state, controls, workflowId } = ctx;
  if (state.capacityRequested) return;
  if (state.noReplacement() === undefined && state.pool === undefined) state.pool = await findPool(ctx, t);
  if (state.pool?.found && state.pool.replacesOnRebalance && state.mode() === 'rebalance-recommendation' && patched('drain-pool-capacity-rebalancing')) {
    // The pool launched the replacement when the recommendation came: wait for an instance that joined since then.
    state.poolReplaces = true;
    const at = Date.parse(state.events.find((e) => e.kind === 'rebalance-recommendation')?.eventTime ?? '');
    state.capacityRequestedAt = Number.isFinite(at) ? Math.min(at, Date.now()) : Date.now();
  }
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
    state.capacityRequestedAt = Date.now();
    state.record(r.value);
  }
}
