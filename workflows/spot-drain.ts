import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  defineSignal,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  TimeoutFailure,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { DryRunCall, WorkflowStatus } from '../common/controls';
import { FailureType, NON_RETRYABLE_FAILURE_TYPES } from '../common/failures';
import { FleetopsCluster } from '../common/search-attributes';
import type { DrainEvent, DrainEventKind, DrainLifecycleAction, SpotDrainInput } from '../common/workflow-inputs';
import type { DrainActivities } from '../activities/drain';
import type { DrainSettings, MutationReport, ResolvedDrainTarget } from '../activities/drain/types';
import { recordDrainFinished } from './lib/metrics';
import { installOperatorControls } from './lib/operator-controls';

/**
 * Spot interruption drain, one workflow per instance (`drain-<instance-id>`, task queue
 * `fleetops-critical`). Started by the router with signal-with-start of `drainEvent`; later events for
 * the same instance join this run: a repeated event id is ignored, an interruption warning after a
 * rebalance recommendation pulls the deadline in to two minutes.
 *
 * Every step is budgeted against the deadline: each activity's schedule-to-close is the time left, so
 * retries (short backoff) stop when the instance is about to die, and a worker crash costs only the
 * heartbeat timeout. What must happen after the deadline (completing the lifecycle action, asking for
 * an incident) has a fixed budget of its own.
 */

export const drainEventSignal = defineSignal<[DrainEvent]>('drainEvent');

export type DrainOutcome = 'drained' | 'not-in-cluster' | 'deadline-missed' | 'aborted';

export type DrainStepName =
  | 'resolve'
  | 'request-capacity'
  | 'set-draining'
  | 'deregister-targets'
  | 'move-standalone-tasks'
  | 'wait-for-tasks'
  | 'complete-lifecycle-action'
  | 'request-incident';

export interface DrainStep {
  name: DrainStepName;
  status: 'running' | 'done' | 'failed' | 'skipped';
  startedAt: string;
  endedAt?: string;
  detail?: string;
}

export interface DrainStatus extends WorkflowStatus {
  instanceId: string;
  /** The event kind that governs the drain: a warning outranks a lifecycle action outranks a rebalance. */
  mode?: DrainEventKind;
  cluster?: string;
  containerInstanceArn?: string;
  deadline?: string;
  secondsToDeadline?: number;
  tasksLeft?: number;
  steps: DrainStep[];
  events: { kind: DrainEventKind; eventId: string; eventTime: string; receivedAt: string }[];
  duplicateEvents: number;
  /** Events naming another instance (a routing bug upstream), counted and ignored. */
  foreignEvents: number;
  capacityRequested: boolean;
  lifecycleHeartbeats: number;
  outcome?: DrainOutcome;
}

export interface SpotDrainResult {
  outcome: DrainOutcome;
  instanceId: string;
  cluster?: string;
  deadline?: string;
  tasksLeft?: number;
  steps: DrainStep[];
  /** Steps that did not complete, for deadline-missed and aborted. */
  notDone: DrainStepName[];
  dryRunCalls: DryRunCall[];
  abortReason?: string;
  failure?: string;
}

// ---- timing, stated once ----
const WARNING_DEADLINE_MS = 120_000;
/** How long a run started without its signal waits for one (signal-with-start delivers it at once). */
const FIRST_EVENT_WAIT_MS = 60_000;
/** An activity is not scheduled with less time than this left: it could not finish. */
const MIN_ACTIVITY_BUDGET_MS = 1_000;
/** One wait activity covers at most this much, so status shows fresh `tasksLeft` during long drains. */
const WAIT_SLICE_MS = 30_000;
/** After the deadline: completing the lifecycle action and asking for an incident still must happen. */
const AFTER_DEADLINE_BUDGET_MS = 60_000;
/** Drain settings until the cluster is resolved (same as the config schema's defaults). */
const DEFAULT_DRAIN: DrainSettings = {
  rerunStandaloneTasks: true,
  rebalanceDeadlineSeconds: 600,
  lifecycleDeadlineSeconds: 900,
  maxDeregistrationDelaySeconds: 30,
  lifecycleHeartbeatSeconds: 60,
};

const RETRY: ActivityOptions['retry'] = {
  initialInterval: '250ms',
  backoffCoefficient: 2,
  maximumInterval: '2s',
  nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES,
};

/** Short AWS steps: one attempt may take 15 s; all attempts together fit the time left. */
function shortSteps(budgetMs: number) {
  return proxyActivities<DrainActivities>({
    scheduleToCloseTimeout: budgetMs,
    startToCloseTimeout: Math.min(15_000, budgetMs),
    retry: RETRY,
  });
}

/**
 * The way to DRAINING (resolve, then set DRAINING) runs as local activities, inside the drain's first
 * workflow task. In a storm the workflow task round trips, not AWS, dominated the time to DRAINING:
 * as regular activities each step cost a trip through a task queue that hundreds of drains share.
 * Both calls are batched across drains and short; both are safe to repeat, which is what happens if
 * the worker is lost in the middle (after the workflow task timeout, on another worker). The later
 * steps stay regular activities: they can be slow in a storm, and a local activity that outlives
 * the workflow task timeout makes the worker heartbeat the task, adding the very round trips this saves.
 * The price: a status query waits for the workflow task, so while a resolve is slow (AWS throttling)
 * it is answered at the task's next heartbeat, up to 8 s later.
 */
function fastSteps(budgetMs: number) {
  return proxyLocalActivities<DrainActivities>({
    scheduleToCloseTimeout: budgetMs,
    startToCloseTimeout: Math.min(15_000, budgetMs),
    retry: RETRY,
  });
}

/** The waiting activity heartbeats; a dead worker is noticed after 10 s and the wait resumes elsewhere. */
function waitStep(budgetMs: number, sliceMs: number) {
  return proxyActivities<DrainActivities>({
    scheduleToCloseTimeout: budgetMs,
    startToCloseTimeout: Math.min(sliceMs + 15_000, budgetMs),
    heartbeatTimeout: 10_000,
    retry: RETRY,
  });
}

function eventDeadlineMs(e: DrainEvent, drain: DrainSettings): number {
  const at = Date.parse(e.eventTime);
  const computed =
    e.kind === 'interruption-warning'
      ? at + WARNING_DEADLINE_MS
      : e.kind === 'lifecycle-terminate'
        ? at + drain.lifecycleDeadlineSeconds * 1000
        : // A scale-in has no deadline of its own; the relaxed rebalance budget bounds it.
          at + drain.rebalanceDeadlineSeconds * 1000;
  const stated = e.deadline ? Date.parse(e.deadline) : NaN;
  return Number.isFinite(stated) ? Math.min(stated, computed) : computed;
}

function errorMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return errorMessage(err.cause);
  if (err instanceof TimeoutFailure) return `timed out (${err.timeoutType})`;
  return err instanceof Error ? err.message : String(err);
}

function isTimeout(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof TimeoutFailure;
}

export async function spotDrain(input: SpotDrainInput): Promise<SpotDrainResult> {
  const { instanceId } = input;
  const dryRun = input.dryRun === true;
  const workflowId = workflowInfo().workflowId;

  const events: DrainEvent[] = [];
  const eventLog: DrainStatus['events'] = [];
  const seenEventIds = new Set<string>();
  let duplicateEvents = 0;
  let foreignEvents = 0;
  /** Bumped when an event moves the deadline, so a running wait is restarted against it. */
  let deadlineVersion = 0;
  let drain = DEFAULT_DRAIN;
  let target: Extract<ResolvedDrainTarget, { found: true }> | undefined;
  let tasksLeft: number | undefined;
  let capacityRequested = false;
  let lifecycleHeartbeats = 0;
  let drainFinished = false;
  let outcome: DrainOutcome | undefined;
  let failure: string | undefined;
  const steps: DrainStep[] = [];
  const dryRunCalls: DryRunCall[] = [];

  const mode = (): DrainEventKind | undefined => {
    if (events.some((e) => e.kind === 'interruption-warning')) return 'interruption-warning';
    if (events.some((e) => e.kind === 'lifecycle-terminate')) return 'lifecycle-terminate';
    if (events.some((e) => e.kind === 'rebalance-recommendation')) return 'rebalance-recommendation';
    return events.length > 0 ? 'scale-in' : undefined;
  };
  const lifecycle = (): DrainLifecycleAction | undefined => events.find((e) => e.lifecycle)?.lifecycle;
  /** Why fleetops asks for no replacement: the ASG replaces its own (lifecycle), or fleetops removes it on purpose. */
  const noReplacement = (): string | undefined =>
    lifecycle()
      ? 'the Auto Scaling group replaces its own instances'
      : mode() === 'scale-in'
        ? 'scale-in: the capacity workflow chose this instance to leave'
        : undefined;
  const deadlineMs = (): number | undefined =>
    events.length === 0 ? undefined : Math.min(...events.map((e) => eventDeadlineMs(e, drain)));
  const timeLeftMs = (): number => (deadlineMs() ?? Date.now()) - Date.now();

  const summary = (): string => {
    const head = `drain ${instanceId}${target ? ` on ${target.cluster}` : ''} (${mode() ?? 'no event yet'})${dryRun ? ' [dry run]' : ''}`;
    if (outcome) return `${head}: ${outcome}${failure ? ` — ${failure}` : ''}${tasksLeft ? `, ${tasksLeft} task(s) left` : ''}`;
    const left = deadlineMs() === undefined ? '' : `, ${Math.max(0, Math.round(timeLeftMs() / 1000))} s to deadline`;
    return `${head}: ${controls.phase}${tasksLeft !== undefined ? `, ${tasksLeft} task(s) left` : ''}${left}`;
  };

  const status = (): DrainStatus => {
    const d = deadlineMs();
    return {
      phase: controls.phase,
      summary: summary(),
      dryRun,
      dryRunCalls,
      instanceId,
      mode: mode(),
      cluster: target?.cluster,
      containerInstanceArn: target?.containerInstanceArn,
      deadline: d === undefined ? undefined : new Date(d).toISOString(),
      secondsToDeadline: d === undefined || outcome ? undefined : Math.max(0, Math.round((d - Date.now()) / 1000)),
      tasksLeft,
      steps,
      events: eventLog,
      duplicateEvents,
      foreignEvents,
      capacityRequested,
      lifecycleHeartbeats,
      outcome,
    };
  };

  const controls = installOperatorControls({
    initialPhase: 'waiting-for-event',
    status,
    // A drain cannot wait on a human: the instance dies at the deadline whether or not we are paused.
    pausable: false,
    // The way from the event to DRAINING is one workflow task (local activities), so FleetopsPhase
    // goes from unset to moving-work. (A scale-in child is signalled its event right after its start:
    // unset for that moment too.)
    transientPhases: ['waiting-for-event', 'resolving', 'setting-draining'],
    rejectAbort: () => (outcome ? `drain already ended: ${outcome}` : undefined),
  });

  setHandler(
    drainEventSignal,
    (e) => {
      if (e.instanceId !== instanceId) {
        foreignEvents += 1;
        return;
      }
      if (seenEventIds.has(e.eventId)) {
        duplicateEvents += 1;
        return;
      }
      const before = deadlineMs();
      seenEventIds.add(e.eventId);
      events.push(e);
      eventLog.push({ kind: e.kind, eventId: e.eventId, eventTime: e.eventTime, receivedAt: new Date(Date.now()).toISOString() });
      if (deadlineMs() !== before) deadlineVersion += 1;
    },
    { description: 'An interruption warning, rebalance recommendation or lifecycle action for this instance.' },
  );

  // ---- step bookkeeping ----
  const record = (r: MutationReport | undefined) => {
    if (r) dryRunCalls.push(...r.dryRunCalls);
  };
  const begin = (name: DrainStepName): DrainStep => {
    const s: DrainStep = { name, status: 'running', startedAt: new Date(Date.now()).toISOString() };
    steps.push(s);
    return s;
  };
  const end = (s: DrainStep, st: DrainStep['status'], detail?: string) => {
    s.status = st;
    s.endedAt = new Date(Date.now()).toISOString();
    if (detail !== undefined) s.detail = detail;
  };
  const skip = (name: DrainStepName, detail: string) => end(begin(name), 'skipped', detail);

  /** Runs one short step within the time left; a failure is recorded and returned, never thrown. */
  async function step<T>(
    name: DrainStepName,
    run: (acts: DrainActivities) => Promise<T>,
    describe: (r: T) => string,
    budgetMs = timeLeftMs(),
    proxy: (budgetMs: number) => DrainActivities = shortSteps,
  ): Promise<{ ok: true; value: T } | { ok: false; error: string }> {
    if (budgetMs < MIN_ACTIVITY_BUDGET_MS) {
      skip(name, 'no time left before the deadline');
      return { ok: false, error: 'no time left before the deadline' };
    }
    const s = begin(name);
    try {
      const value = await run(proxy(budgetMs));
      end(s, 'done', describe(value));
      return { ok: true, value };
    } catch (err) {
      if (isCancellation(err)) throw err;
      const error = errorMessage(err);
      end(s, 'failed', error);
      return { ok: false, error };
    }
  }

  const finish = (o: DrainOutcome): SpotDrainResult => {
    outcome = o;
    drainFinished = true;
    controls.setPhase(o);
    recordDrainFinished(o, deadlineMs() === undefined ? undefined : timeLeftMs() / 1000, target?.cluster);
    const done = new Set(steps.filter((s) => s.status === 'done').map((s) => s.name));
    const planned: DrainStepName[] = ['set-draining', 'deregister-targets', 'move-standalone-tasks', 'wait-for-tasks'];
    if (lifecycle()) planned.push('complete-lifecycle-action');
    if (!noReplacement()) planned.unshift('request-capacity');
    return {
      outcome: o,
      instanceId,
      cluster: target?.cluster,
      deadline: deadlineMs() === undefined ? undefined : new Date(deadlineMs()!).toISOString(),
      tasksLeft,
      steps,
      notDone: o === 'not-in-cluster' ? [] : planned.filter((n) => !done.has(n)),
      dryRunCalls,
      abortReason: controls.abortRequest?.reason,
      failure,
    };
  };

  // ---- the drain ----
  if (!(await condition(() => events.length > 0, FIRST_EVENT_WAIT_MS))) {
    throw ApplicationFailure.nonRetryable(`no drainEvent arrived within ${FIRST_EVENT_WAIT_MS / 1000} s of the start`, FailureType.InvalidRequest);
  }

  controls.setPhase('resolving');
  const resolved = await step(
    'resolve',
    (a) => a.resolveDrainTarget({ instanceId }),
    (r) =>
      r.found ? `${r.cluster} ${r.containerInstanceArn} (${r.status}, ${r.runningTasks + r.pendingTasks} tasks)` : `in no managed cluster (${r.searchedClusters.join(', ') || 'none configured'})`,
    timeLeftMs(),
    fastSteps,
  );
  if (!resolved.ok) {
    failure = `could not resolve the instance: ${resolved.error}`;
    return missed();
  }
  if (!resolved.value.found) return finish('not-in-cluster');
  target = resolved.value;
  const t = target;
  drain = t.drain;
  tasksLeft = t.runningTasks + t.pendingTasks;
  deadlineVersion += 1;
  upsertSearchAttributes([{ key: FleetopsCluster, value: t.cluster }]);

  const heartbeats = lifecycleHeartbeatLoop();

  /** `ownPhase`: asked before anything else (rebalance), not alongside moving work. */
  async function requestCapacity(ownPhase = false): Promise<void> {
    if (capacityRequested) return;
    const noNeed = noReplacement();
    if (noNeed) {
      skip('request-capacity', noNeed);
      return;
    }
    if (ownPhase) controls.setPhase('requesting-capacity');
    const r = await step(
      'request-capacity',
      (a) =>
        a.requestReplacementCapacity({
          cluster: t.cluster,
          instanceId,
          units: t.capacityUnits,
          reason: `${mode()} for ${instanceId}`,
          source: workflowId,
          dryRun,
        }),
      (v) => `${t.capacityUnits} unit(s) asked of ${v.workflowId}`,
    );
    if (r.ok) {
      capacityRequested = true;
      record(r.value);
    }
  }

  const aborted = () => controls.abortRequest !== undefined;

  if (mode() === 'rebalance-recommendation') await requestCapacity(true);
  if (aborted()) return finishAborted();

  controls.setPhase('setting-draining');
  const draining = await step(
    'set-draining',
    (a) => a.setContainerInstanceDraining({ cluster: t.cluster, containerInstanceArn: t.containerInstanceArn, dryRun }),
    (v) => (v.alreadyDraining ? 'was already DRAINING' : 'DRAINING'),
    timeLeftMs(),
    fastSteps,
  );
  if (!draining.ok) {
    failure = `could not set DRAINING: ${draining.error}`;
    return missed();
  }
  record(draining.value);
  if (aborted()) return finishAborted();

  controls.setPhase('moving-work');
  await Promise.all([
    step(
      'deregister-targets',
      (a) => a.deregisterInstanceTargets({ instanceId, maxDeregistrationDelaySeconds: drain.maxDeregistrationDelaySeconds, dryRun }),
      (v) => (v.targetGroups.length === 0 ? 'in no target group' : v.targetGroups.map((g) => `${g.targets} from ${g.targetGroupArn}`).join('; ')),
    ).then((r) => record(r.ok ? r.value : undefined)),
    step(
      'move-standalone-tasks',
      (a) =>
        a.moveStandaloneTasks({
          cluster: t.cluster,
          containerInstanceArn: t.containerInstanceArn,
          instanceId,
          rerun: drain.rerunStandaloneTasks,
          reason: `fleetops: ${mode()} for ${instanceId}`,
          idempotencyKey: `${workflowId}/${workflowInfo().runId}`,
          dryRun,
        }),
      (v) =>
        `stopped ${v.stopped.length}, rerun ${v.rerun.length}` +
        (v.rerunFailed.length ? `, rerun failed ${v.rerunFailed.length}` : '') +
        `; ${v.serviceTasks} service task(s) left to ECS`,
    ).then((r) => record(r.ok ? r.value : undefined)),
    requestCapacity(),
  ]);
  if (aborted()) return finishAborted();

  if (dryRun) {
    skip('wait-for-tasks', 'dry run: nothing was set DRAINING, so no task will leave');
  } else {
    controls.setPhase('waiting-for-tasks');
    await waitForTasks();
    if (aborted()) return finishAborted();
  }

  drainFinished = true;
  await heartbeats;
  const succeeded = dryRun || tasksLeft === 0;
  await completeLifecycleAction();
  if (!succeeded) return missed();
  return finish('drained');

  // ---- helpers that need the state above ----

  /** Waits until the instance runs no tasks, the deadline passes or an abort arrives. */
  async function waitForTasks(): Promise<void> {
    const s = begin('wait-for-tasks');
    while (!aborted()) {
      const left = timeLeftMs();
      if (left < MIN_ACTIVITY_BUDGET_MS) break;
      const version = deadlineVersion;
      const slice = Math.min(left, WAIT_SLICE_MS);
      const stopAt = Date.now() + slice;
      const scope = new CancellationScope();
      const waiting = scope.run(() =>
        waitStep(left, slice).waitForInstanceTasks({ cluster: t.cluster, containerInstanceArn: t.containerInstanceArn, stopAtEpochMs: stopAt }),
      );
      // Only an abort cancels a running wait. An escalation lets it run out its slice (at most
      // WAIT_SLICE_MS) and the next one is cut to the new deadline: cancelling an activity that may be
      // completing at the same moment is a race the history should not carry.
      const abortArrived = condition(aborted);
      let result: Awaited<typeof waiting> | undefined;
      try {
        result = await Promise.race([waiting, abortArrived.then(() => undefined)]);
      } catch (err) {
        if (isTimeout(err)) break; // the deadline arrived during the wait
        end(s, 'failed', errorMessage(err));
        failure = `waiting for tasks failed: ${errorMessage(err)}`;
        return;
      }
      if (result === undefined) {
        scope.cancel();
        await waiting.catch(() => undefined);
        break;
      }
      tasksLeft = result.tasksLeft;
      if (tasksLeft === 0) break;
      // A wait that returned before its stop time (e.g. a poller shutting down) must not spin.
      const rest = stopAt - Date.now();
      if (rest >= MIN_ACTIVITY_BUDGET_MS) await condition(() => deadlineVersion !== version || aborted(), rest);
    }
    if (aborted()) end(s, 'skipped', `aborted with ${tasksLeft} task(s) left`);
    else end(s, tasksLeft === 0 ? 'done' : 'failed', tasksLeft === 0 ? 'no tasks left' : `${tasksLeft} task(s) left at the deadline`);
  }

  /** Keeps the ASG lifecycle action alive on durable timers while the drain runs (survives worker restarts). */
  async function lifecycleHeartbeatLoop(): Promise<void> {
    // No timers at all for drains without a lifecycle action: a storm of warnings must not add a timer per drain.
    await condition(() => drainFinished || lifecycle() !== undefined);
    for (;;) {
      if (await condition(() => drainFinished, drain.lifecycleHeartbeatSeconds * 1000)) return;
      const action = lifecycle();
      if (!action) continue;
      try {
        const r = await shortSteps(AFTER_DEADLINE_BUDGET_MS).recordLifecycleHeartbeat({ lifecycle: action, instanceId, dryRun });
        record(r);
        lifecycleHeartbeats += 1;
      } catch (err) {
        if (isCancellation(err)) throw err;
        // A lost heartbeat is not fatal: the hook's timeout is longer than one interval; the next one may land.
      }
    }
  }

  async function completeLifecycleAction(): Promise<void> {
    const action = lifecycle();
    if (!action) return;
    controls.setPhase('completing-lifecycle-action');
    const r = await step(
      'complete-lifecycle-action',
      (a) => a.completeLifecycleAction({ lifecycle: action, instanceId, dryRun }),
      () => `${action.hookName} on ${action.asgName}: CONTINUE`,
      AFTER_DEADLINE_BUDGET_MS,
    );
    record(r.ok ? r.value : undefined);
  }

  async function missed(): Promise<SpotDrainResult> {
    drainFinished = true;
    const result = finish('deadline-missed');
    controls.setPhase('requesting-incident');
    const done = steps.filter((s) => s.status === 'done').map((s) => s.name);
    const r = await step(
      'request-incident',
      (a) =>
        a.requestDrainIncident({
          instanceId,
          cluster: target?.cluster,
          workflowId,
          kind: mode() ?? 'unknown',
          deadline: result.deadline ?? '',
          tasksLeft: tasksLeft ?? 0,
          done,
          notDone: result.notDone,
          failure,
        }),
      (v) => v.detail,
      AFTER_DEADLINE_BUDGET_MS,
    );
    controls.setPhase('deadline-missed');
    return { ...result, steps, notDone: result.notDone, failure: failure ?? (r.ok ? undefined : r.error) };
  }

  function finishAborted(): SpotDrainResult {
    drainFinished = true;
    failure = `aborted: ${controls.abortRequest?.reason}` +
      (steps.some((s) => s.name === 'set-draining' && s.status === 'done') ? '; the container instance stays DRAINING' : '') +
      (lifecycle() ? '; the lifecycle action is left to its hook timeout' : '');
    return finish('aborted');
  }
}
