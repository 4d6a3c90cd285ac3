import { ActivityFailure, ApplicationFailure, CancellationScope, condition, isCancellation, patched } from '@temporalio/workflow';
import type { LaunchInput } from '../../contracts/launch/input';
import { failureMessage } from '../lib/failure-message';
import { OperatorControls } from '../lib/operator-controls';
import { lifecycleCalls, WAIT_SLICE_MS, waitSlice } from './activity-options';
import type { LaunchResult, LaunchWorkflow } from '../../contracts/launch/messages';
import { LaunchState } from './state';

/**
 * The launch of one ASG instance (`launch-<instance-id>`, task queue `fleetops`; contracts/launch/start.ts),
 * started by the router for an `EC2 Instance-launch Lifecycle Action` of a group that is one of a
 * cluster's pools. The ASG holds the instance in Pending:Wait; this workflow waits for it to become
 * an ACTIVE container instance of the cluster, heartbeating the lifecycle action meanwhile, and
 * completes the action CONTINUE when it joined, ABANDON when it did not within `timeoutSeconds` of
 * the event (the ASG then terminates it and launches another) or when an operator aborts. A launch
 * into the group's warm pool (`destination: WarmPool`) does not join the cluster: the instance is
 * stopped into the pool (Warmed:Stopped), and joins when it leaves the pool (a launch action of its
 * own, Origin WarmPool), so its action is completed CONTINUE at once.
 */

/** No wait is started with less than this left: the deadline has come. */
const MIN_WAIT_MS = 1_000;

export async function launch(input: LaunchInput): Promise<LaunchResult> {
  const state = new LaunchState(input);
  const controls = new OperatorControls({ initialPhase: 'waiting-for-instance' });
  controls.install({
    status: () => state.status(controls.phase),
    // The hook's heartbeat timeout does not stop for a human.
    pausable: false,
    rejectAbort: () => (state.finished ? `the lifecycle action is already decided: ${state.outcome}` : undefined),
  });
  const { instanceId, cluster, timeoutSeconds } = input;
  // Histories recorded before warm pools were told apart carry no destination, and replay as they ran.
  if (input.destination === 'WarmPool' && patched('launch-warm-pool')) {
    state.decide('continued', `${instanceId} launches into the warm pool of ${input.lifecycle.asgName}: it is stopped there, and joins ${cluster} when it leaves the pool`);
  } else {
    const heartbeats = heartbeatLoop(state);
    const watchError = await waitToJoin(state, controls);
    const abort = controls.abortRequest;
    if (abort) state.decide('abandoned', `aborted${abort.by ? ` by ${abort.by}` : ''}: ${abort.reason}`);
    else if (state.joined()) state.decide('continued', `${instanceId} is an ACTIVE container instance of ${cluster}`);
    else if (watchError) state.decide('abandoned', `could not watch ${cluster} for ${instanceId}: ${watchError}`);
    else state.decide('abandoned', `${instanceId} was not an ACTIVE container instance of ${cluster} within ${timeoutSeconds} s (last seen: ${state.containerInstanceStatus ?? 'nothing'})`);
    await heartbeats;
  }

  controls.setPhase('completing-lifecycle-action');
  try {
    const r = await lifecycleCalls.completeLaunchLifecycleAction({
      lifecycle: input.lifecycle,
      cluster: input.cluster,
      instanceId,
      result: state.outcome === 'continued' ? 'CONTINUE' : 'ABANDON',
      dryRun: input.dryRun,
    });
    state.completed = true;
    state.dryRunCalls.push(...r.dryRunCalls);
  } catch (err) {
    if (isCancellation(err)) throw err;
    // Left to the hook: its heartbeat timeout and DefaultResult decide. Status and result say so.
    state.reason = `${state.reason}; CompleteLifecycleAction failed: ${failureMessage(err)}`;
  }
  controls.setPhase(state.outcome as string);
  return state.result();
}

/** Waits, in slices, until the instance joins, the deadline comes or an abort arrives; a non-retryable watch failure ends it early. */
async function waitToJoin(state: LaunchState, controls: OperatorControls): Promise<string | undefined> {
  const { cluster, instanceId } = state.input;
  while (!controls.abortRequest && !state.joined()) {
    const left = state.timeLeftMs();
    if (left < MIN_WAIT_MS) return undefined;
    const slice = Math.min(left, WAIT_SLICE_MS);
    const stopAt = Date.now() + slice;
    const scope = new CancellationScope();
    const waiting = scope.run(() => waitSlice(slice).waitForContainerInstance({ cluster, instanceId, stopAtEpochMs: stopAt }));
    try {
      const seen = await Promise.race([waiting, condition(() => controls.abortRequest !== undefined).then(() => undefined)]);
      if (seen === undefined) {
        scope.cancel();
        await waiting.catch(() => undefined);
        return undefined;
      }
      state.seen(seen);
      // A wait that returned before its stop time without the instance (a worker shutting down) must not spin.
      const rest = stopAt - Date.now();
      if (!state.joined() && rest >= MIN_WAIT_MS) await condition(() => controls.abortRequest !== undefined, rest);
    } catch (err) {
      if (isCancellation(err)) throw err;
      const cause = err instanceof ActivityFailure ? err.cause : err;
      if (cause instanceof ApplicationFailure && cause.nonRetryable) return failureMessage(err);
      // A slice that timed out (a slow or lost worker): the next one picks up, until the deadline.
    }
  }
  return undefined;
}

/** A third of the hook's HeartbeatTimeout: two heartbeats can be lost before the hook's timeout decides. */
const HEARTBEATS_PER_TIMEOUT = 3;
/** For a hook that cannot be read: a third of the shortest HeartbeatTimeout Auto Scaling allows (30 s). */
const UNKNOWN_HOOK_INTERVAL_MS = 10_000;

/**
 * The heartbeat interval: the configured one, or a third of the hook's HeartbeatTimeout when that is
 * shorter (a hook of 30 s with the default interval would time out and ABANDON the new instance).
 */
async function hookIntervalMs(state: LaunchState): Promise<number> {
  const { lifecycle, cluster, heartbeatSeconds } = state.input;
  const configured = heartbeatSeconds * 1000;
  try {
    const hook = await lifecycleCalls.describeLaunchLifecycleHook({ lifecycle, cluster });
    if (!hook.found) return Math.min(configured, UNKNOWN_HOOK_INTERVAL_MS);
    return Math.min(configured, Math.max(1_000, Math.floor((hook.heartbeatTimeoutSeconds * 1000) / HEARTBEATS_PER_TIMEOUT)));
  } catch (err) {
    if (isCancellation(err)) throw err;
    return Math.min(configured, UNKNOWN_HOOK_INTERVAL_MS);
  }
}

/** Keeps the lifecycle action alive while the launch waits, so the hook's own timeout never decides. */
async function heartbeatLoop(state: LaunchState): Promise<void> {
  const { lifecycle, cluster, instanceId, dryRun } = state.input;
  // Histories recorded before the launch read its hook replay without the call, and with their first
  // timer started at once, before the wait's activity: no await on that path.
  const intervalMs = patched('launch-hook-heartbeat') ? await hookIntervalMs(state) : state.input.heartbeatSeconds * 1000;
  for (;;) {
    if (await condition(() => state.finished, intervalMs)) return;
    try {
      const r = await lifecycleCalls.recordLaunchLifecycleHeartbeat({ lifecycle, cluster, instanceId, dryRun });
      state.lifecycleHeartbeats += 1;
      state.dryRunCalls.push(...r.dryRunCalls);
    } catch (err) {
      if (isCancellation(err)) throw err;
      // One lost heartbeat is not fatal: the hook's timeout is longer than one interval.
    }
  }
}

// Clients type their handles with LaunchWorkflow (its contract's messages.ts): it must stay this function's signature.
launch satisfies LaunchWorkflow;
