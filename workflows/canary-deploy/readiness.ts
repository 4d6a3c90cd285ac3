import { condition } from '@temporalio/workflow';
import type { ServiceTargets } from '../../activities/deploy/types';
import { aws } from './activity-options';
import type { DeployContext } from './context';
import { CanaryFailed } from './failures';

/**
 * How long a scaled canary gets to serve (its ECS deployment COMPLETED, its targets healthy) before
 * it fails. Failed health checks end the wait sooner: ECS stops such a task once the service's
 * health-check grace period is over, and a stopped task fails the canary at once.
 */
const CANARY_READY_TIMEOUT_SECONDS = 600;

function describeTargets(t: ServiceTargets): string {
  return t.groups.map((g) => `${g.healthy} of ${t.desiredCount} target(s) healthy in ${g.targetGroupArn}`).join(', ') || 'no target groups';
}

/**
 * Waits until the canary serves: ECS finished rolling out its `desired` tasks and each of its target
 * groups has that many healthy canary targets (the load balancer routes to healthy targets only, so
 * weight given earlier would go to nothing, or fail open to unhealthy tasks). Fails the canary on a
 * FAILED deployment (circuit breaker), a canary task that stopped on its own, or the timeout.
 */
export async function waitForCanaryServing(ctx: DeployContext, desired: number): Promise<void> {
  const { input, state } = ctx;
  const { canaryService } = state;
  if (state.dryRun) return;
  const since = Date.now();
  const deadline = since + CANARY_READY_TIMEOUT_SECONDS * 1000;
  for (;;) {
    const snap = await aws.describeDeployService({ cluster: input.cluster, service: canaryService });
    if (!snap) throw new CanaryFailed(`${canaryService} disappeared`);
    const primary = snap.deployments.find((d) => d.status === 'PRIMARY');
    if (primary?.rolloutState === 'FAILED') {
      throw new CanaryFailed(`canary deployment FAILED: ${primary.rolloutStateReason ?? 'no reason given'}`);
    }
    const targets = await aws.describeServiceTargets({ cluster: input.cluster, service: canaryService, sinceMs: since });
    const stopped = targets.stoppedTasks[0];
    if (stopped) {
      throw new CanaryFailed(`${canaryService} is not serving: ${targets.stoppedTasks.length} canary task(s) stopped: ${stopped.stopCode ?? 'stopped'}: ${stopped.stoppedReason}`);
    }
    const rolledOut = primary?.rolloutState === 'COMPLETED' && primary.runningCount >= desired && snap.desiredCount === desired;
    if (rolledOut && targets.groups.every((g) => g.healthy >= desired)) {
      state.decide('ready', `${canaryService} serves: ${describeTargets(targets)}`);
      return;
    }
    if (Date.now() >= deadline) {
      // What ECS last said about the canary (e.g. SERVICE_TASK_PLACEMENT_FAILURE: no instance has room) is the why.
      const said = state.lastCanaryEvent ? `; last from ECS: ${state.lastCanaryEvent}` : '';
      throw new CanaryFailed(
        `${canaryService} is not serving after ${CANARY_READY_TIMEOUT_SECONDS} s: ${snap.runningCount} of ${desired} running (rollout ${primary?.rolloutState ?? 'unknown'}), ${describeTargets(targets)}${said}`,
      );
    }
    await condition(() => state.interrupted('canary') !== undefined, state.servicePollMs());
    state.throwIfInterrupted('canary');
  }
}
