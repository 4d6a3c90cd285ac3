import { condition, isCancellation } from '@temporalio/workflow';
import { AFTER_DEADLINE_BUDGET_MS, shortSteps } from './activity-options';
import { step, type DrainContext } from './steps';

/** The ASG terminate lifecycle action a `lifecycle-terminate` event brings: kept alive while the drain runs, then completed. */

/** Keeps the ASG lifecycle action alive on durable timers while the drain runs (survives worker restarts). */
export async function lifecycleHeartbeatLoop(ctx: DrainContext): Promise<void> {
  const { state } = ctx;
  // No timers at all for drains without a lifecycle action: a storm of warnings must not add a timer per drain.
  await condition(() => state.drainFinished || state.lifecycle() !== undefined);
  for (;;) {
    if (await condition(() => state.drainFinished, state.drain.lifecycleHeartbeatSeconds * 1000)) return;
    const action = state.lifecycle();
    if (!action) continue;
    try {
      const r = await shortSteps(AFTER_DEADLINE_BUDGET_MS).recordLifecycleHeartbeat({ lifecycle: action, cluster: state.target?.cluster, ...ctx.placement, instanceId: state.instanceId, dryRun: state.dryRun });
      state.record(r);
      state.lifecycleHeartbeats += 1;
    } catch (err) {
      if (isCancellation(err)) throw err;
      // A lost heartbeat is not fatal: the hook's timeout is longer than one interval; the next one may land.
    }
  }
}

/** CONTINUE, so the ASG terminates the instance now (after the drain) instead of at the hook's timeout. */
export async function completeLifecycleAction(ctx: DrainContext): Promise<void> {
  const { state, controls } = ctx;
  const action = state.lifecycle();
  if (!action) return;
  controls.setPhase('completing-lifecycle-action');
  const r = await step(
    ctx,
    'complete-lifecycle-action',
    (a) => a.completeLifecycleAction({ lifecycle: action, cluster: state.target?.cluster, ...ctx.placement, instanceId: state.instanceId, dryRun: state.dryRun }),
    () => `${action.hookName} on ${action.asgName}: CONTINUE`,
    AFTER_DEADLINE_BUDGET_MS,
  );
  state.record(r.ok ? r.value : undefined);
}
