import { ActivityFailure, ApplicationFailure, CancellationScope, isCancellation, setHandler, workflowInfo } from '@temporalio/workflow';
import type { CanaryPlan } from '../../config/schema';
import type { DeployInput } from '../../contracts/canary-deploy/input';
import { OperatorControls } from '../lib/operator-controls';
import { DeployContext } from './context';
import { CanaryFailed, DeployRefused, errorMessage } from './failures';
import { approveUpdate, ecsEventSignal, type ApproveRequest, type CanaryDeployWorkflow, type DeployResult, type DeployStatus } from '../../contracts/canary-deploy/messages';
import { preflight } from './preflight';
import { rollback } from './rollback';
import { DeployState } from './state';
import { forward } from './steps';

/**
 * Canary deploy: a new revision runs as `<service>-canary` on a slice of traffic, bakes under
 * alarm, metric and task checks, waits for a human at gates (and when analysis is inconclusive), then
 * the main service is promoted, or everything the deploy changed is undone in reverse order.
 *
 * Failure modes this guards against (Argo Rollouts / CodeDeploy field reports): a canary started while
 * the stable version is already unhealthy (preflight refuses), inconclusive analysis that hangs (a
 * human is asked, with a timeout that rolls back), and failure reasons nobody sees (every decision is
 * kept with its reason in `status`, in the notifications and in the workflow result).
 *
 * Phases: preflight.ts, then steps.ts (create-canary.ts, shift.ts, bake.ts with analysis.ts and
 * checks/, gate.ts, promote.ts), or rollback.ts. The state and its handlers are in state.ts.
 */
export async function canaryDeploy(input: DeployInput): Promise<DeployResult> {
  const info = workflowInfo();
  // Controls and state exist before any handler is registered: a message buffered in the first
  // workflow task (update-with-start of approve, a pause right after the start) runs inside `install`.
  const controls = new OperatorControls({ initialPhase: 'preflight' });
  const state = new DeployState(input, controls);
  const ctx = new DeployContext(state, controls, info);
  controls.install({ status: () => state.status(), rejectAbort: () => state.rejectAbort() });

  setHandler(approveUpdate, (req: ApproveRequest): DeployStatus => state.approve(req), {
    description: 'Pass the current gate, or accept an inconclusive analysis and continue baking.',
    validator: (req: ApproveRequest): void => state.validateApprove(req),
  });
  setHandler(ecsEventSignal, (ev) => state.onEcsEvent(ev), {
    description: 'ECS deployment and service events for this deploy (timeline, failure detection).',
  });

  try {
    let p: CanaryPlan;
    try {
      p = await preflight(ctx);
    } catch (err) {
      if (err instanceof DeployRefused) return await ctx.finish('refused', err.message);
      throw err;
    }
    return await forward(ctx, p);
  } catch (err) {
    if (err instanceof DeployRefused && state.undo.length === 0) return await ctx.finish('refused', err.message);
    // A step that failed before anything was created (e.g. an ambiguous container) changed nothing.
    if (err instanceof ActivityFailure && state.undo.length === 0 && !isCancellation(err)) {
      return await ctx.finish('refused', `deploy step failed before any change: ${errorMessage(err)}`);
    }
    let reason: string;
    if (err instanceof CanaryFailed) {
      state.decide(err.decision, err.reason);
      reason = err.reason;
    } else if (err instanceof DeployRefused) {
      reason = err.message;
    } else if (isCancellation(err)) {
      reason = 'workflow cancelled';
    } else if (err instanceof ActivityFailure || err instanceof ApplicationFailure) {
      reason = `deploy step failed: ${errorMessage(err)}`;
    } else {
      throw err;
    }
    // Compensations run even when the workflow itself is being cancelled.
    const result = await CancellationScope.nonCancellable(() => rollback(ctx, reason));
    if (isCancellation(err)) throw err;
    return result;
  }
}

// Clients type their handles with CanaryDeployWorkflow (its contract's messages.ts): it must stay this function's signature.
canaryDeploy satisfies CanaryDeployWorkflow;
