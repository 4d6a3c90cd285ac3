import { patched, upsertSearchAttributes } from '@temporalio/workflow';
import { FleetopsCluster } from '../../common/search-attributes';
import { fastSteps } from './activity-options';
import type { DrainTarget } from './state';
import { LEAN_HISTORY_PATCH, step, type DrainContext } from './steps';

/**
 * The way from the event to DRAINING: find the instance's cluster and container instance, then set it
 * DRAINING. Both run as local activities (activity-options.ts, fastSteps, says why), so the whole way
 * is one workflow task.
 */

/** The target, or why the drain ends here: in no managed cluster, or the resolve failed (`state.failure` says why). */
export async function resolve(ctx: DrainContext): Promise<{ target: DrainTarget } | { ended: 'not-in-cluster' | 'failed' }> {
  const { state, controls } = ctx;
  // Asked before the resolve's local activity, so the patch's marker is the first command of the
  // drain's first task in every history, however that task goes. Asked after it (the marker after
  // the local activity's), a full test run on a loaded machine once replayed a drain's history as
  // nondeterministic at this marker. No released history has this patch, so moving it is safe.
  ctx.lean = patched(LEAN_HISTORY_PATCH);
  controls.setPhase('resolving');
  const resolved = await step(
    ctx,
    'resolve',
    (a) => a.resolveDrainTarget({ instanceId: state.instanceId, ...ctx.placement }),
    (r) =>
      r.found ? `${r.cluster} ${r.containerInstanceArn} (${r.status}, ${r.runningTasks + r.pendingTasks} tasks)` : `in no managed cluster (${r.searchedClusters.join(', ') || 'none configured'})`,
    state.timeLeftMs(),
    fastSteps,
  );
  if (!resolved.ok) {
    state.failure = `could not resolve the instance: ${resolved.error}`;
    return { ended: 'failed' };
  }
  if (!resolved.value.found) return { ended: 'not-in-cluster' };
  const target = resolved.value;
  state.resolved(target);
  // Tagged with the first phase operators see, in the same workflow task: one upsert, not two.
  if (ctx.lean) controls.upsertWithNextPhase([{ key: FleetopsCluster, value: target.cluster }]);
  else upsertSearchAttributes([{ key: FleetopsCluster, value: target.cluster }]);
  return { target };
}

/** False when the instance could not be set DRAINING (the drain cannot go on; `state.failure` says why). */
export async function setDraining(ctx: DrainContext, t: DrainTarget): Promise<boolean> {
  const { state, controls } = ctx;
  if (ctx.lean && (t.status === 'DRAINING' || t.drainingSet)) {
    // The drain coordinator's head start (or an earlier drain) set it: a second call changes nothing.
    state.end(state.begin('set-draining'), 'done', 'was already DRAINING');
    return true;
  }
  controls.setPhase('setting-draining');
  const draining = await step(
    ctx,
    'set-draining',
    (a) => a.setContainerInstanceDraining({ cluster: t.cluster, containerInstanceArn: t.containerInstanceArn, dryRun: state.dryRun }),
    (v) => (v.alreadyDraining ? 'was already DRAINING' : 'DRAINING'),
    state.timeLeftMs(),
    fastSteps,
  );
  if (!draining.ok) {
    state.failure = `could not set DRAINING: ${draining.error}`;
    return false;
  }
  state.record(draining.value);
  return true;
}
