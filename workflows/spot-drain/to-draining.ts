import { upsertSearchAttributes } from '@temporalio/workflow';
import { FleetopsCluster } from '../../common/search-attributes';
import { fastSteps } from './activity-options';
import { finish, missed } from './endings';
import type { SpotDrainResult } from './messages';
import type { DrainTarget } from './state';
import { step, type DrainContext } from './steps';

/**
 * The way from the event to DRAINING: find the instance's cluster and container instance, then set it
 * DRAINING. Both run as local activities (activity-options.ts, fastSteps, says why), so the whole way
 * is one workflow task.
 */

/** The target, or the drain's result when it ends here (not in any cluster, or resolve failed). */
export async function resolve(ctx: DrainContext): Promise<{ target: DrainTarget } | { ended: SpotDrainResult }> {
  const { state, controls } = ctx;
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
    return { ended: await missed(ctx) };
  }
  if (!resolved.value.found) return { ended: finish(ctx, 'not-in-cluster') };
  const target = resolved.value;
  state.resolved(target);
  upsertSearchAttributes([{ key: FleetopsCluster, value: target.cluster }]);
  return { target };
}

/** False when the instance could not be set DRAINING (the drain cannot go on; `state.failure` says why). */
export async function setDraining(ctx: DrainContext, t: DrainTarget): Promise<boolean> {
  const { state, controls } = ctx;
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
