import { recordDrainFinished, recordInterruption, type InterruptionKind } from '../lib/metrics';
import type { DrainEventKind } from '../../contracts/spot-drain/input';
import { AFTER_DEADLINE_BUDGET_MS } from './activity-options';
import type { DrainIncidentFacts } from '../../activities/drain/types';
import type { DrainOutcome, SpotDrainResult } from '../../contracts/spot-drain/messages';
import { step, type DrainContext } from './steps';

/** How a drain ends: its outcome as phase and metric, and for a missed deadline the incident it asks for. */

export function finish(ctx: DrainContext, outcome: DrainOutcome): SpotDrainResult {
  const { state, controls } = ctx;
  const result = state.finish(outcome, controls.abortRequest?.reason);
  controls.setPhase(outcome);
  recordDrainFinished(outcome, state.deadlineMs() === undefined ? undefined : state.timeLeftMs() / 1000, state.target?.cluster);
  const kind = INTERRUPTION_KINDS[state.mode() ?? 'instance-gone'];
  const t = state.target;
  if (kind && t) {
    recordInterruption({ cluster: t.cluster, pool: state.pool?.found ? state.pool.pool : undefined, instanceType: t.instanceType, zone: t.availabilityZone, kind });
  }
  return result;
}

/** The drain kinds that are AWS taking (or warning about) an instance; a scale-in is fleetops' own choice. */
const INTERRUPTION_KINDS: Partial<Record<DrainEventKind, InterruptionKind>> = {
  'interruption-warning': 'interruption',
  'rebalance-recommendation': 'rebalance',
  'instance-stopping': 'stopping',
  'lifecycle-terminate': 'lifecycle',
  'scheduled-change': 'scheduled-change',
};

/** What every incident a drain asks for says: the instance, how far the drain got, what is left. */
function incidentFacts(ctx: DrainContext, result: SpotDrainResult): Omit<DrainIncidentFacts, 'failure' | 'rerunFailed' | 'what'> {
  const { state } = ctx;
  return {
    instanceId: state.instanceId,
    cluster: state.target?.cluster,
    workflowId: ctx.workflowId,
    kind: state.mode() ?? 'unknown',
    deadline: result.deadline ?? '',
    tasksLeft: state.tasksLeft ?? 0,
    done: state.steps.filter((s) => s.status === 'done').map((s) => s.name),
    notDone: result.notDone,
  };
}

/** The deadline passed (or a step the drain cannot do without failed): say so and ask for an incident. */
export async function missed(ctx: DrainContext): Promise<SpotDrainResult> {
  const { state, controls } = ctx;
  const result = finish(ctx, 'deadline-missed');
  controls.setPhase('requesting-incident');
  const r = await step(
    ctx,
    'request-incident',
    (a) =>
      a.requestDrainIncident({
        ...incidentFacts(ctx, result),
        failure: state.failure,
        ...(state.rerunFailed.length ? { rerunFailed: state.rerunFailed } : {}),
      }),
    (v) => v.detail,
    AFTER_DEADLINE_BUDGET_MS,
  );
  controls.setPhase('deadline-missed');
  return { ...result, failure: state.failure ?? (r.ok ? undefined : r.error) };
}

/** The drain ended, but standalone tasks it stopped could not run again elsewhere: their work needs a person. */
export async function reportFailedReruns(ctx: DrainContext, result: SpotDrainResult): Promise<void> {
  const { state } = ctx;
  if (state.rerunFailed.length === 0 || result.outcome !== 'drained') return;
  await step(
    ctx,
    'request-incident',
    (a) =>
      a.requestDrainIncident({
        ...incidentFacts(ctx, result),
        rerunFailed: state.rerunFailed,
        what: 'rerun-failed',
      }),
    (v) => v.detail,
    AFTER_DEADLINE_BUDGET_MS,
  );
}

/** An operator aborted: the result says what state the instance was left in. */
export function finishAborted(ctx: DrainContext): SpotDrainResult {
  const { state, controls } = ctx;
  state.drainFinished = true;
  state.failure =
    `aborted: ${controls.abortRequest?.reason}` +
    (state.done('set-draining') ? '; the container instance stays DRAINING' : '') +
    (state.lifecycle() ? '; the lifecycle action is left to its hook timeout' : '');
  return finish(ctx, 'aborted');
}
