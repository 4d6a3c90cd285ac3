import { setHandler, workflowInfo } from '@temporalio/workflow';
import type { ControlRequest } from '../../contracts/controls';
import {
  approveWaveUpdate,
  continueUpdate,
  rollbackUpdate,
  skipUpdate,
  type ApproveWaveRequest,
  type ReleaseResult,
  type ReleaseWorkflow,
  type ReleaseWorkflowInput,
  type RollbackRequest,
  type SkipRequest,
} from '../../contracts/release/messages';
import { OperatorControls } from '../lib/operator-controls';
import { ReleaseContext } from './context';
import { ReleaseHandlers } from './handlers';
import { runRelease } from './run';
import { ReleaseState } from './state';
import { releaseStatus } from './status';

/**
 * A release (`release-<id>`): one change deployed to many services in waves, each service through its
 * own canary deploy (`deploy-<cluster>-<service>`, a child workflow with every check of a single
 * deploy). Each wave waits for one approval, from someone who may approve every deploy in it, which
 * passes those deploys' gates; a wave whose rollbacks go past its failure budget halts the release
 * until an operator continues, skips the failed service, rolls back what the release promoted, or
 * aborts. Frozen clusters hold a wave, a deploy already running for a service is waited for (or the
 * service skipped), and large releases continue as new, handing over the deploys still running.
 *
 * The state and its arithmetic are in state.ts and waves.ts, the messages in handlers.ts, the loop in
 * run.ts, the deploys in children.ts, what it shows in status.ts.
 */
export async function release(input: ReleaseWorkflowInput): Promise<ReleaseResult> {
  // Controls and state exist before any handler is registered: a message in the first workflow task
  // (an approval sent with the start, a pause right after a continue-as-new) runs inside `install`.
  const controls = new OperatorControls({ initialPhase: input.carried?.phase ?? 'awaiting-approval', initiallyPaused: input.carried?.paused === true });
  const state = new ReleaseState(input, controls);
  const ctx = new ReleaseContext(state, controls, workflowInfo());
  const status = () => releaseStatus(state, controls.paused);
  const handlers = new ReleaseHandlers(state, () => controls.abortRequest?.reason, status);
  controls.install({ status, rejectAbort: () => handlers.rejectAbort() });

  setHandler(approveWaveUpdate, (req: ApproveWaveRequest) => handlers.approveWave(req), {
    description: 'Approve the next wave: by someone who may approve the deploy of every service in it; its deploys pass their gates.',
    validator: (req: ApproveWaveRequest) => handlers.validateApproveWave(req),
  });
  setHandler(continueUpdate, (req: ControlRequest) => handlers.continueRelease(req), {
    description: 'Resume a halted release: the failures so far are accepted and the wave goes on.',
    validator: (req: ControlRequest) => handlers.validateContinue(req),
  });
  setHandler(skipUpdate, (req: SkipRequest) => handlers.skip(req), {
    description: 'Skip a service that failed, waits or has not started (`<cluster>/<service>`).',
    validator: (req: SkipRequest) => handlers.validateSkip(req),
  });
  setHandler(rollbackUpdate, (req: RollbackRequest) => handlers.rollback(req), {
    description: 'Start nothing new; once running deploys end, deploy each promoted service back to its previous task definition, newest first.',
    validator: (req: RollbackRequest) => handlers.validateRollback(req),
  });

  return runRelease(ctx);
}

// Clients type their handles with ReleaseWorkflow (its contract's messages.ts): it must stay this function's signature.
release satisfies ReleaseWorkflow;
