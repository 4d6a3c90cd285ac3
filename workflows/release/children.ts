import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { getExternalWorkflowHandle, isCancellation, startChild } from '@temporalio/workflow';
import type { ReleaseApproval } from '../../contracts/canary-deploy/input';
import type { CanaryDeployWorkflow } from '../../contracts/canary-deploy/messages';
import { deployStartOptions } from '../../contracts/canary-deploy/start';
import { failureMessage } from '../lib/failure-message';
import { deployRuns } from './activity-options';
import type { ReleaseContext } from './context';

/**
 * The release's deploys: each service's canary deploy runs as a child workflow under its usual id,
 * `deploy-<cluster>-<service>`, with the deploy's own checks, image policy and rollback. Children of this
 * run are awaited as children; those an earlier run started (the release continued as new while they
 * ran) cannot be, and are followed by polling (`deployRuns`), as is a deploy of the service running
 * outside the release that holds its id.
 */

/**
 * Starts service `i`'s deploy (forward, or back to its previous task definition for `revert`). Resolves
 * once the child has started or the start was refused; the child's end lands in the state by itself.
 */
export async function startDeploy(ctx: ReleaseContext, i: number, approval: ReleaseApproval | undefined, revert = false): Promise<void> {
  const { state } = ctx;
  const t = state.input.targets[i]!;
  const input = state.deployInput(i, approval, revert);
  const placement = t.placement ? { account: t.placement.account, region: t.placement.region } : undefined;
  const { workflowType, workflowId, args, typedSearchAttributes, staticSummary, workflowIdReusePolicy } = deployStartOptions(input, placement);
  try {
    const child = await startChild<CanaryDeployWorkflow>(workflowType, {
      workflowId,
      args,
      typedSearchAttributes,
      staticSummary: `${staticSummary} in release ${state.id}`.slice(0, 200),
      workflowIdReusePolicy,
      // Not set: the child runs on the release's task queue, where its deploys are served (`fleetops`).
      // ABANDON: a deploy runs to its own end (promotion or rollback) whatever happens to this run; in
      // particular a continue-as-new must not cancel or terminate the deploys it hands over.
      parentClosePolicy: 'ABANDON',
    });
    state.set(i, revert ? 'reverting' : 'running', { workflowId, runId: child.firstExecutionRunId, adopted: false, blockedBy: undefined, reason: undefined });
    state.decide(revert ? 'revert' : 'start', `${workflowId} (${revert ? `back to ${input.taskDefinition}` : (input.image ?? input.taskDefinition)})`);
    void child.result().then(
      (r) => state.recordResult(i, r),
      (err: unknown) => state.recordEnded(i, failureMessage(err)),
    );
  } catch (err) {
    if (isCancellation(err)) throw err;
    if (err instanceof WorkflowExecutionAlreadyStartedError) return idTaken(ctx, i, workflowId, revert);
    state.set(i, revert ? 'revert-failed' : 'failed', { reason: `could not start ${workflowId}: ${failureMessage(err)}` });
    state.checkBudget();
  }
}

/** The deploy id is held by a deploy running outside the release: wait for it, or skip the service (`onBusy`). */
function idTaken(ctx: ReleaseContext, i: number, workflowId: string, revert: boolean): void {
  const { state } = ctx;
  const why = `${workflowId} is running (not started by this release)`;
  if (!revert && state.input.onBusy === 'skip') {
    state.set(i, 'skipped', { reason: `${why}; onBusy skip` });
    state.decide('skip', `${state.name(i)}: ${why}`);
    return;
  }
  const current = state.services[i]!.state;
  state.set(i, revert ? current : 'waiting', { blockedBy: workflowId, reason: `waits for ${why}` });
  state.decide('wait', `${state.name(i)} waits for ${why}`);
}

/** Services to poll: deploys an earlier run started, and deploys outside the release that hold a service's id. */
export function toPoll(ctx: ReleaseContext): number[] {
  const { state } = ctx;
  return state.services.map((s, i) => ((s.adopted && (s.state === 'running' || s.state === 'reverting')) || s.blockedBy !== undefined ? i : -1)).filter((i) => i >= 0);
}

/** Looks at each polled deploy once and records what ended; a failed look is recorded and tried again at the next poll. */
export async function poll(ctx: ReleaseContext): Promise<void> {
  const { state } = ctx;
  const which = toPoll(ctx).slice(0, 100);
  if (which.length === 0) return;
  const deploys = which.map((i) => {
    const s = state.services[i]!;
    return s.blockedBy !== undefined ? { workflowId: s.blockedBy } : { workflowId: s.workflowId!, ...(s.runId ? { runId: s.runId } : {}) };
  });
  let runs;
  try {
    runs = await deployRuns({ deploys });
  } catch (err) {
    if (isCancellation(err)) throw err;
    state.decide('poll failed', failureMessage(err));
    return;
  }
  runs.forEach((run, k) => {
    const i = which[k]!;
    const s = state.services[i]!;
    if (s.blockedBy !== undefined) {
      if (run.state === 'running') return;
      state.decide('free', `${s.blockedBy} ended: ${state.name(i)} can be deployed`);
      state.set(i, s.state === 'waiting' ? 'pending' : s.state, { blockedBy: undefined, reason: undefined });
    } else if (run.state === 'completed') state.recordResult(i, run.result);
    else if (run.state === 'ended') state.recordEnded(i, `${run.status.toLowerCase()}${run.message ? `: ${run.message}` : ''}`);
    else if (run.state === 'not-found') state.recordEnded(i, `${s.workflowId} not found`);
  });
}

/** An abort: asks every running deploy of the release to cancel (each rolls itself back), children and adopted alike. */
export async function cancelActive(ctx: ReleaseContext): Promise<void> {
  const { state } = ctx;
  await Promise.all(
    state.active().map(async (i) => {
      const s = state.services[i]!;
      try {
        await getExternalWorkflowHandle(s.workflowId!, s.runId).cancel();
        state.decide('cancel', `${s.workflowId} asked to cancel (it rolls back what it changed)`);
      } catch (err) {
        if (isCancellation(err)) throw err;
        // It ended between the look and the request: its end is recorded by its own path.
        state.decide('cancel failed', `${s.workflowId}: ${failureMessage(err)}`);
      }
    }),
  );
}
