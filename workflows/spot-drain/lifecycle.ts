import { condition, isCancellation } from '@temporalio/workflow';
import { AFTER_DEADLINE_BUDGET_MS, shortSteps } from './activity-options';
import { step, type DrainContext } from './steps';

/**
 * The ASG terminate lifecycle actions `lifecycle-terminate` events bring: kept alive while the drain
 * runs, then completed. Every action is completed, whatever the drain's end (drained, deadline missed,
 * not in any cluster, resolve failed) and whenever it arrives (also after the drain's work is done):
 * an action left open holds the instance in Terminating:Wait until the hook's timeout (default an hour).
 * Only an operator's abort leaves it (the instance is kept on purpose).
 */

/** Never heartbeat less often than this share of the hook's HeartbeatTimeout: one lost heartbeat must not let it expire. */
const HEARTBEATS_PER_TIMEOUT = 3;

/**
 * The heartbeat interval: the configured one, or a third of the hook's HeartbeatTimeout when that is
 * shorter (DescribeLifecycleHooks; a hook of 60 s with the default 60 s interval would time out).
 */
async function heartbeatIntervalMs(ctx: DrainContext): Promise<number> {
  const { state } = ctx;
  const configured = state.drain.lifecycleHeartbeatSeconds * 1000;
  const action = state.lifecycle();
  if (!action) return configured;
  try {
    const hook = await shortSteps(AFTER_DEADLINE_BUDGET_MS).describeLifecycleHook({ asgName: action.asgName, hookName: action.hookName, cluster: state.target?.cluster, ...ctx.placement });
    if (!hook.found) return configured;
    state.lifecycleHeartbeatTimeoutSeconds = hook.heartbeatTimeoutSeconds;
    return Math.min(configured, Math.floor((hook.heartbeatTimeoutSeconds * 1000) / HEARTBEATS_PER_TIMEOUT));
  } catch (err) {
    if (isCancellation(err)) throw err;
    return configured; // unknown: the configured interval is the best guess
  }
}

/** Keeps the ASG lifecycle actions alive on durable timers while the drain runs (survives worker restarts). */
export async function lifecycleHeartbeatLoop(ctx: DrainContext): Promise<void> {
  const { state } = ctx;
  // No timers at all for drains without a lifecycle action: a storm of warnings must not add a timer per drain.
  await condition(() => state.drainFinished || state.lifecycle() !== undefined);
  if (state.drainFinished) return;
  const intervalMs = await heartbeatIntervalMs(ctx);
  for (;;) {
    if (await condition(() => state.drainFinished, intervalMs)) return;
    for (const action of state.pendingLifecycles().filter((l) => !state.goneLifecycles.has(l.actionToken))) {
      try {
        const r = await shortSteps(AFTER_DEADLINE_BUDGET_MS).recordLifecycleHeartbeat({ lifecycle: action, cluster: state.target?.cluster, ...ctx.placement, instanceId: state.instanceId, dryRun: state.dryRun });
        state.record(r);
        if (r.active) state.lifecycleHeartbeats += 1;
        else state.goneLifecycles.add(action.actionToken);
      } catch (err) {
        if (isCancellation(err)) throw err;
        // A lost heartbeat is not fatal: the interval leaves room for two more before the hook's timeout.
      }
    }
  }
}

/**
 * CONTINUE for every action not yet completed, so the ASG terminates the instance now instead of at
 * the hook's timeout; again for any that arrived meanwhile. `why` says why the drain ends here, for
 * the ends that are not a finished drain (not in any cluster, resolve failed).
 */
export async function completeLifecycleActions(ctx: DrainContext, why?: string): Promise<void> {
  const { state, controls } = ctx;
  const failedOnce = new Set<string>();
  for (;;) {
    const action = state.pendingLifecycles().find((l) => !failedOnce.has(l.actionToken));
    if (!action) return;
    controls.setPhase('completing-lifecycle-action');
    const r = await step(
      ctx,
      'complete-lifecycle-action',
      (a) => a.completeLifecycleAction({ lifecycle: action, cluster: state.target?.cluster, ...ctx.placement, instanceId: state.instanceId, dryRun: state.dryRun }),
      (v) => `${action.hookName} on ${action.asgName}: ${v.alreadyCompleted ? 'no action waiting any more (completed before)' : 'CONTINUE'}${why ? ` (${why})` : ''}`,
      AFTER_DEADLINE_BUDGET_MS,
    );
    if (r.ok) {
      state.completedLifecycles.add(action.actionToken);
      state.record(r.value);
    } else {
      // Failed with its whole budget of retries: the hook's own timeout is left; do not spin on it.
      failedOnce.add(action.actionToken);
    }
  }
}
