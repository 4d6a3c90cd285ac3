import { allHandlersFinished, condition, continueAsNew, isCancellation, patched, setHandler, workflowInfo } from '@temporalio/workflow';
import type { DrainCoordinatorInput, InterruptionNotice } from '../../contracts/drain-coordinator/input';
import { failureMessage } from '../lib/failure-message';
import { OperatorControls } from '../lib/operator-controls';
import { atOnce } from './activity-options';
import { interruptionNoticesSignal, type DrainCoordinatorWorkflow } from '../../contracts/drain-coordinator/messages';
import { CoordinatorState } from './state';

/**
 * The drain coordinator of an account and region (`drain-coordinator[-<account>-<region>]`, task queue
 * `fleetops-drain-coordinator`; contracts/drain-coordinator/start.ts). Why it exists: in a storm of a thousand
 * two-minute warnings, each drain's first workflow task waits its turn behind every other drain's, so
 * the thousandth instance became DRAINING a minute and a half after its warning. The router
 * sends each event batch's warnings here too, and one activity sets the whole batch DRAINING, so the
 * time to DRAINING is a few workflow tasks and one round of AWS calls, whatever the number of drains.
 *
 * It is a head start, never the only way: each instance keeps its own visible drain (`drain-<id>`),
 * which resolves the instance and sets DRAINING itself unless it finds this call did already (a
 * repeat would be harmless, only a call more) and does every other
 * step. A coordinator that is paused, slow or failing costs speed, not a drain. Long-lived: it waits
 * for notices, continues as new before its history grows large, and carries what it must remember.
 */

/**
 * Instances per activity call, and calls at once: the AWS calls inside are batched 10 and 100 a call,
 * and the instances of every call in flight share one sweep of the cluster. At 250 a call a storm of
 * 1,000 filled the four calls and the rest waited for a call to end and then for the coordinator's
 * next workflow task, which queues behind the storm's drains in the worker (2.4 s at N = 1,000): a
 * thousand a call sends a storm of up to 4,000 in one round. A call's input and result stay below
 * about 100 KB.
 */
const MAX_BATCH = 1_000;
const MAX_IN_FLIGHT = 4;
/** Runs recorded before took 250 a call; the patch keeps them replaying as they ran. */
const MAX_BATCH_BEFORE = 250;
const LARGER_BATCHES_PATCH = 'coordinator-thousand-a-call';
/** Continue as new past this many history events (or when the server suggests it). */
const MAX_HISTORY_EVENTS = 2_000;

export async function drainCoordinator(input: DrainCoordinatorInput): Promise<void> {
  const maxBatch = patched(LARGER_BATCHES_PATCH) ? MAX_BATCH : MAX_BATCH_BEFORE;
  const state = new CoordinatorState(input.carried);
  // Pausing holds notices here; abort ends the run (the next warning starts a new one).
  const controls = new OperatorControls({ initialPhase: 'coordinating', initiallyPaused: input.carried?.paused === true });
  controls.install({ status: () => state.status(controls.phase, controls.paused) });
  setHandler(interruptionNoticesSignal, (notices) => state.add(notices), {
    description: 'Warnings of one event batch whose instances must be DRAINING now.',
  });
  const where = input.placement ? { account: input.placement.account, region: input.placement.region } : {};
  const historyFull = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > (input.continueAsNewAfterEvents ?? MAX_HISTORY_EVENTS);

  const send = async (batch: InterruptionNotice[]): Promise<void> => {
    state.inFlight += 1;
    try {
      state.record(await atOnce.setDrainingAtOnce({ instanceIds: batch.map((n) => n.instanceId), ...where }), Date.now());
    } catch (err) {
      if (isCancellation(err)) throw err;
      state.recordFailure(batch.length, failureMessage(err, { activityType: true }), Date.now());
    } finally {
      state.inFlight -= 1;
    }
  };

  for (;;) {
    await condition(
      () => controls.abortRequest !== undefined || historyFull() || (!controls.paused && state.pending.length > 0 && state.inFlight < MAX_IN_FLIGHT),
    );
    // An update that woke the loop (resume) answers before anything it set off is scheduled, however
    // many steps the worker's interceptors add to the handler: the order of commands must not depend
    // on them (test/tracing replays every history with the tracing interceptors).
    await condition(allHandlersFinished);
    if (controls.abortRequest || historyFull()) break;
    const batch = state.take(maxBatch, Date.now());
    if (batch.length > 0) void send(batch);
  }
  // Batches in flight finish first, so their outcome is counted and no call is cut off.
  await condition(() => state.inFlight === 0 && allHandlersFinished());
  if (controls.abortRequest) {
    controls.setPhase('aborted');
    return;
  }
  // Notices that expired (while paused) stay behind; the patch keeps runs recorded before replaying as they ran.
  const dropExpired = patched('coordinator-drops-expired-notices');
  await continueAsNew<DrainCoordinatorWorkflow>({ ...input, carried: state.carry(Date.now(), controls.paused, dropExpired) });
}

// Clients type their handles with DrainCoordinatorWorkflow (its contract's messages.ts): it must stay this function's signature.
drainCoordinator satisfies DrainCoordinatorWorkflow;
