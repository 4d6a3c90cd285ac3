import {
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowFailure,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineSignal,
  type ActivityOptions,
  log,
  proxyActivities,
  setHandler,
  sleep,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { CapacityActivities } from '../activities/capacity';
import type {
  CapacitySettings,
  CapacitySnapshot,
  LaunchedInstance,
  Market,
  PoolSettings,
} from '../activities/capacity/types';
import type { DryRunCall, WorkflowStatus } from '../common/controls';
import { FailureType, NON_RETRYABLE_FAILURE_TYPES } from '../common/failures';
import { FleetopsCluster, FleetopsInstanceId, FleetopsKind } from '../common/search-attributes';
import { TASK_QUEUE_CRITICAL } from '../common/task-queues';
import { drainWorkflowId } from '../common/workflow-ids';
import type { CapacityInput, CapacityRequest, SpotDrainInput } from '../common/workflow-inputs';
import {
  activeMarks,
  addMark,
  addToBucket,
  chooseVictims,
  describeBucket,
  emptyBucket,
  markedOverrides,
  poolBlockedBy,
  type PendingBucket,
  type UnavailableMark,
} from './lib/capacity-plan';
import { recordPoolFallback } from './lib/metrics';
import { installOperatorControls } from './lib/operator-controls';
import { drainEventSignal, spotDrain } from './spot-drain';

/**
 * `capacity-<cluster>`: the one long-running owner of a cluster's capacity (issue 5).
 *
 * Requests (alarm routes, drains wanting a replacement, operators) arrive as `capacityRequest`
 * signals and are summed, so requests that arrive together become one plan. Scale-out walks the pool
 * ladder in config order: a pool that answers with a capacity error, or does not deliver within its
 * fulfilment timeout, is marked unavailable for a TTL and the rest of the shortfall goes to the next
 * pool at once. Scale-in drains its victims through child `spotDrain` workflows before shrinking their
 * pools. A durable timer moves on-demand capacity back to spot one step at a time.
 * History stays bounded by continue-as-new between plans; everything the next run needs is carried.
 */

// ---- activity options: stated once ----
const RETRY: ActivityOptions['retry'] = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '20s',
  maximumAttempts: 6,
  nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES,
};
/** Single AWS calls (describe, CreateFleet, ModifySpotFleetRequest, SetDesiredCapacity, terminate). */
const aws = proxyActivities<CapacityActivities>({ startToCloseTimeout: '60s', retry: RETRY });
/** Polling waits; each returns at its own timeout argument, and heartbeats every poll. */
const waits = proxyActivities<CapacityActivities>({ startToCloseTimeout: '30m', heartbeatTimeout: '30s', retry: RETRY });

/** Requests arriving within this window of the first one join its plan. */
const COALESCE_MS = 1_000;
/** Continue-as-new between plans once history passes this many events (or the server suggests it). */
// Small on purpose: a continue-as-new that races new signals is retried by replaying the run, so a short run keeps that cheap.
const CONTINUE_AS_NEW_AFTER_EVENTS = 1_000;
const KEEP_DECISIONS = 25;
const KEEP_DRY_RUN_CALLS = 100;
const KEEP_EVENT_IDS = 500;

export const capacityRequestSignal = defineSignal<[CapacityRequest]>('capacityRequest');

export interface CapacityDecision {
  at: string;
  action: 'scale-out' | 'scale-in' | 'pool-skipped' | 'pool-failed' | 'pool-delivered' | 'return-to-spot' | 'deferred' | 'ignored' | 'drain' | 'registered';
  units?: number;
  pool?: string;
  reason: string;
}

export interface PoolStatus {
  name: string;
  kind: PoolSettings['kind'];
  market: Market;
  targetUnits: number;
  actualUnits: number;
  activeUnits: number;
}

/** Everything a continued run needs; kept small (sums, not request lists). */
export interface CapacityCarriedState {
  outNow: PendingBucket;
  outDeferred: PendingBucket;
  inNow: PendingBucket;
  inDeferred: PendingBucket;
  /** Force seen on a pending scale-in: victims may run standalone tasks. */
  forceIn: boolean;
  /** Instances being replaced for drains: not counted as capacity while they drain. */
  replacing: string[];
  /** Instances this workflow chose to scale in: their drains' replacement requests are not acted on. */
  scaleInVictims: string[];
  /** Shortfall no pool could deliver; retried when the first mark expires. */
  unmet: { units: number; notBefore: number } | undefined;
  marks: UnavailableMark[];
  lastScaleAt: number | undefined;
  nextReturnToSpotAt: number | undefined;
  settings: CapacitySettings | undefined;
  pools: PoolStatus[];
  decisions: CapacityDecision[];
  dryRunCalls: DryRunCall[];
  recentEventIds: string[];
  signalsReceived: number;
  duplicates: number;
  plans: number;
  continuedRuns: number;
}

export interface CapacityWorkflowInput extends CapacityInput {
  /** Set by continue-as-new only. */
  carried?: CapacityCarriedState;
}

export interface CapacityStatus extends WorkflowStatus {
  cluster: string;
  pools: PoolStatus[];
  unavailable: Array<Omit<UnavailableMark, 'until'> & { until: string }>;
  pending: { out: number; in: number; unmet: number; requests: number };
  cooldownUntil?: string;
  nextReturnToSpotAt?: string;
  decisions: CapacityDecision[];
  signalsReceived: number;
  duplicates: number;
  plans: number;
  continuedRuns: number;
}

function freshState(): CapacityCarriedState {
  return {
    outNow: emptyBucket(),
    outDeferred: emptyBucket(),
    inNow: emptyBucket(),
    inDeferred: emptyBucket(),
    forceIn: false,
    replacing: [],
    scaleInVictims: [],
    unmet: undefined,
    marks: [],
    lastScaleAt: undefined,
    nextReturnToSpotAt: undefined,
    settings: undefined,
    pools: [],
    decisions: [],
    dryRunCalls: [],
    recentEventIds: [],
    signalsReceived: 0,
    duplicates: 0,
    plans: 0,
    continuedRuns: 0,
  };
}

function capacityFailureCode(err: unknown): string | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure && cause.type === FailureType.AwsCapacityUnavailable) return cause.message;
  return undefined;
}

function errorMessage(err: unknown): string {
  if (err instanceof ActivityFailure || err instanceof ChildWorkflowFailure) return err.cause?.message ?? err.message;
  return err instanceof Error ? err.message : String(err);
}

const iso = (ms: number) => new Date(ms).toISOString();
const unitsOf = (instances: LaunchedInstance[]) => instances.reduce((s, i) => s + i.weight, 0);

export async function capacity(input: CapacityWorkflowInput): Promise<CapacityStatus> {
  const { cluster } = input;
  const dryRun = input.dryRun === true;
  const st: CapacityCarriedState = input.carried ?? freshState();
  let summary = input.carried ? `continued (run ${st.continuedRuns + 1})` : 'starting';
  let planning = false;
  // The carried list, as a set: 10,000 signals must each cost O(1).
  const seenEventIds = new Set(st.recentEventIds);
  let planSeq = 0;

  const decide = (d: Omit<CapacityDecision, 'at'>) => {
    st.decisions = [...st.decisions, { at: iso(Date.now()), ...d }].slice(-KEEP_DECISIONS);
    log.info('capacity decision', { cluster, ...d });
  };
  const recordDryRun = (call: DryRunCall | undefined) => {
    if (call) st.dryRunCalls = [...st.dryRunCalls, call].slice(-KEEP_DRY_RUN_CALLS);
  };
  const cooldownUntil = () => (st.lastScaleAt !== undefined && st.settings ? st.lastScaleAt + st.settings.cooldownSeconds * 1000 : 0);

  const status = (): CapacityStatus => {
    const now = Date.now();
    return {
      phase: controls?.phase ?? 'starting',
      summary,
      cluster,
      dryRun,
      dryRunCalls: st.dryRunCalls,
      pools: st.pools,
      unavailable: activeMarks(st.marks, now).map((m) => ({ ...m, until: iso(m.until) })),
      pending: {
        out: st.outNow.units + st.outDeferred.units,
        in: st.inNow.units + st.inDeferred.units,
        unmet: st.unmet?.units ?? 0,
        requests: st.outNow.requests + st.outDeferred.requests + st.inNow.requests + st.inDeferred.requests,
      },
      ...(cooldownUntil() > now ? { cooldownUntil: iso(cooldownUntil()) } : {}),
      ...(st.nextReturnToSpotAt !== undefined ? { nextReturnToSpotAt: iso(st.nextReturnToSpotAt) } : {}),
      decisions: st.decisions,
      signalsReceived: st.signalsReceived,
      duplicates: st.duplicates,
      plans: st.plans,
      continuedRuns: st.continuedRuns,
    };
  };
  const controls = installOperatorControls({ initialPhase: 'idle', status });

  setHandler(
    capacityRequestSignal,
    (req) => {
      st.signalsReceived += 1;
      const eventId = req.source?.eventId;
      if (eventId) {
        if (seenEventIds.has(eventId)) {
          st.duplicates += 1;
          return;
        }
        seenEventIds.add(eventId);
        st.recentEventIds.push(eventId);
        if (st.recentEventIds.length > KEEP_EVENT_IDS * 2) {
          st.recentEventIds = st.recentEventIds.slice(-KEEP_EVENT_IDS);
          seenEventIds.clear();
          st.recentEventIds.forEach((id) => seenEventIds.add(id));
        }
      }
      const units = Number(req.units);
      if (!Number.isInteger(units) || units <= 0 || (req.direction !== 'out' && req.direction !== 'in')) {
        decide({ action: 'ignored', reason: `malformed request from ${req.source?.kind ?? 'unknown'}: ${JSON.stringify(req).slice(0, 200)}` });
        return;
      }
      if (req.source.kind === 'drain' && req.source.instanceId && st.scaleInVictims.includes(req.source.instanceId)) {
        decide({ action: 'ignored', units, reason: `replacement asked by the scale-in drain of ${req.source.instanceId}: it leaves on purpose` });
        return;
      }
      const who = `${req.source.kind}${req.source.alarmName ? ` ${req.source.alarmName}` : ''}${req.source.instanceId ? ` ${req.source.instanceId}` : ''}`;
      const reason = `${who}: ${req.reason}`;
      // Replacements for drains and forced requests do not wait for the cooldown: an instance is leaving.
      const now = req.source.kind === 'drain' || req.force === true;
      if (req.direction === 'out') {
        if (now) st.outNow = addToBucket(st.outNow, units, reason);
        else st.outDeferred = addToBucket(st.outDeferred, units, reason);
        if (req.source.kind === 'drain' && req.source.instanceId && !st.replacing.includes(req.source.instanceId)) {
          st.replacing = [...st.replacing, req.source.instanceId].slice(-200);
        }
      } else {
        if (now) st.inNow = addToBucket(st.inNow, units, reason);
        else st.inDeferred = addToBucket(st.inDeferred, units, reason);
        if (req.force) st.forceIn = true;
      }
    },
    { description: 'Ask for units of capacity out or in; requests that arrive together coalesce into one plan.' },
  );

  // ---- what is runnable when ----
  const cooledDown = () => Date.now() >= cooldownUntil();
  const unmetDue = () => st.unmet !== undefined && Date.now() >= st.unmet.notBefore;
  const runnable = () =>
    st.outNow.units > 0 || st.inNow.units > 0 || unmetDue() || (cooledDown() && (st.outDeferred.units > 0 || st.inDeferred.units > 0));
  const returnToSpotDue = () => st.nextReturnToSpotAt !== undefined && Date.now() >= st.nextReturnToSpotAt;
  const nextWakeAt = () => {
    const times = [st.nextReturnToSpotAt ?? Infinity];
    if (st.outDeferred.units > 0 || st.inDeferred.units > 0) times.push(cooldownUntil());
    if (st.unmet) times.push(st.unmet.notBefore);
    return Math.min(...times);
  };

  // ---- snapshots ----
  let snapshot: CapacitySnapshot | undefined;
  const refresh = async (): Promise<CapacitySnapshot> => {
    snapshot = await aws.describeCapacity({ cluster });
    st.settings = snapshot.settings;
    st.pools = snapshot.state.map((p) => ({
      name: p.name,
      kind: p.kind,
      market: p.market,
      targetUnits: p.targetUnits,
      actualUnits: p.actualUnits,
      activeUnits: p.activeUnits,
    }));
    // An instance that is gone no longer needs to be discounted.
    const present = new Set(snapshot.state.flatMap((p) => p.instances.map((i) => i.instanceId)));
    st.replacing = st.replacing.filter((id) => present.has(id));
    return snapshot;
  };
  const totalUnits = (snap: CapacitySnapshot) =>
    snap.state.reduce((s, p) => s + p.instances.filter((i) => !st.replacing.includes(i.instanceId)).reduce((a, i) => a + i.weight, 0), 0);

  // ---- scale-out: the pool ladder ----
  interface ScaleOutResult {
    delivered: number;
    unmet: number;
    aborted: boolean;
  }
  const scaleOut = async (units: number, why: string, opts: { market?: Market; exceedMaxBy?: number } = {}): Promise<ScaleOutResult> => {
    const snap = await refresh();
    const settings = snap.settings;
    const headroom = settings.maxUnits + (opts.exceedMaxBy ?? 0) - totalUnits(snap);
    const ask = Math.min(units, headroom);
    if (ask <= 0) {
      decide({ action: 'ignored', units, reason: `at max ${settings.maxUnits} units: ${why}` });
      return { delivered: 0, unmet: 0, aborted: false };
    }
    decide({ action: 'scale-out', units: ask, reason: why + (ask < units ? ` (clipped from ${units} by max ${settings.maxUnits})` : '') });
    controls.setPhase('scaling-out');
    planSeq += 1;
    const info = workflowInfo();
    let remaining = ask;
    let delivered = 0;
    const fresh: LaunchedInstance[] = [];
    const ttlMs = settings.unavailableTtlSeconds * 1000;

    for (const pool of snap.pools) {
      if (remaining <= 0) break;
      if (await controls.checkpoint()) return { delivered, unmet: remaining, aborted: true };
      if (opts.market && pool.market !== opts.market) continue;
      const now = Date.now();
      const blocked = poolBlockedBy(pool, st.marks, now);
      if (blocked) {
        decide({ action: 'pool-skipped', pool: pool.name, reason: `unavailable until ${iso(blocked.until)}: ${blocked.reason}` });
        continue;
      }
      const ps = snap.state.find((p) => p.name === pool.name);
      const target = ps?.targetUnits ?? 0;
      const room = pool.maxUnits !== undefined ? pool.maxUnits - target : Infinity;
      if (room <= 0) {
        decide({ action: 'pool-skipped', pool: pool.name, reason: `pool at its max ${pool.maxUnits} units` });
        continue;
      }
      const poolAsk = Math.min(remaining, room);
      summary = `scaling out: asking ${pool.name} for ${poolAsk} of ${ask} units`;
      const markPool = (reason: string, kind: 'capacity-error' | 'timeout' | 'error') => {
        st.marks = addMark(st.marks, { pool: pool.name, until: Date.now() + ttlMs, reason });
        recordPoolFallback(cluster, pool.name, kind);
        decide({ action: 'pool-failed', pool: pool.name, units: poolAsk, reason: `${reason}; unavailable for ${settings.unavailableTtlSeconds}s` });
      };

      let got = 0;
      const requestedAt = iso(Date.now());
      try {
        const res = await aws.requestPoolCapacity({
          cluster,
          pool: pool.name,
          units: poolAsk,
          newTargetUnits: target + poolAsk,
          excludeOverrides: markedOverrides(pool, st.marks, now),
          clientToken: `${info.workflowId}/${info.runId}/${planSeq}/${pool.name}`.slice(-64),
          dryRun,
        });
        recordDryRun(res.dryRunCall);
        if (dryRun) {
          got = poolAsk;
        } else if (res.kind === 'instant') {
          for (const e of res.errors) {
            st.marks = addMark(st.marks, {
              pool: pool.name,
              instanceType: e.instanceType,
              availabilityZone: e.availabilityZone,
              until: Date.now() + ttlMs,
              reason: `${e.code}: ${e.message}`,
            });
          }
          fresh.push(...res.launched);
          got = res.launchedUnits;
          if (got < poolAsk) {
            const codes = [...new Set(res.errors.map((e) => `${e.code} ${e.instanceType}${e.availabilityZone ? `/${e.availabilityZone}` : ''}`))];
            if (res.errors.length === 0) markPool(`CreateFleet delivered ${got} of ${poolAsk} units without errors`, 'capacity-error');
            else {
              recordPoolFallback(cluster, pool.name, 'capacity-error');
              decide({ action: 'pool-failed', pool: pool.name, units: poolAsk - got, reason: `delivered ${got} of ${poolAsk}: ${codes.join(', ')}; those types/zones unavailable for ${settings.unavailableTtlSeconds}s` });
            }
          }
        } else {
          const f = await waits.awaitPoolFulfilment({
            cluster,
            pool: pool.name,
            knownInstanceIds: ps?.instances.map((i) => i.instanceId) ?? [],
            units: poolAsk,
            timeoutSeconds: pool.fulfilmentTimeoutSeconds,
            requestedAt,
          });
          fresh.push(...f.instances);
          got = f.deliveredUnits;
          if (got < poolAsk) {
            markPool(
              f.capacityError
                ? `${f.capacityError.code}: ${f.capacityError.message} (delivered ${got} of ${poolAsk})`
                : `delivered ${got} of ${poolAsk} units within ${pool.fulfilmentTimeoutSeconds}s`,
              f.capacityError ? 'capacity-error' : 'timeout',
            );
            // Withdraw the undelivered part so the pool does not fill it later, on top of the next pool.
            const withdrawn = await aws.setPoolTarget({ cluster, pool: pool.name, targetUnits: target + got, dryRun });
            withdrawn.dryRunCalls.forEach(recordDryRun);
          }
        }
      } catch (err) {
        const capacityError = capacityFailureCode(err);
        if (capacityError) markPool(capacityError, 'capacity-error');
        else markPool(`request failed: ${errorMessage(err)}`, 'error');
      }
      if (got > 0) decide({ action: 'pool-delivered', pool: pool.name, units: got, reason: `for: ${why}` });
      delivered += got;
      remaining = Math.max(0, remaining - got);
    }
    st.lastScaleAt = Date.now();

    if (fresh.length > 0 && !dryRun) {
      controls.setPhase('waiting-for-instances');
      summary = `waiting for ${fresh.length} new instance(s) to become ACTIVE container instances`;
      const wait = waits.awaitContainerInstancesActive({
        cluster,
        instanceIds: fresh.map((i) => i.instanceId),
        timeoutSeconds: settings.registrationTimeoutSeconds,
      });
      // Waits for the activity or an abort; the condition resolves either way, so no waiter outlives the plan.
      const settled: { outcome?: Awaited<typeof wait>; failure?: unknown } = {};
      wait.then(
        (r) => void (settled.outcome = r),
        (e: unknown) => void (settled.failure = e ?? new Error('wait failed')),
      );
      await condition(() => settled.outcome !== undefined || settled.failure !== undefined || controls.abortRequest !== undefined);
      if (settled.failure !== undefined) throw settled.failure;
      const outcome = settled.outcome;
      if (outcome === undefined) return { delivered, unmet: remaining, aborted: true };
      decide({
        action: 'registered',
        units: unitsOf(fresh.filter((i) => outcome.active.includes(i.instanceId))),
        reason:
          outcome.missing.length === 0
            ? `${outcome.active.length} new instance(s) ACTIVE in ${cluster}`
            : `${outcome.missing.length} instance(s) not ACTIVE after ${settings.registrationTimeoutSeconds}s: ${outcome.missing.join(', ')}`,
      });
    }
    return { delivered, unmet: remaining, aborted: false };
  };

  // ---- scale-in: drain victims, then shrink their pools ----
  const scaleIn = async (units: number, why: string, opts: { force: boolean; market?: Market; ignoreMin?: boolean }): Promise<{ removed: number; aborted: boolean }> => {
    const snap = await refresh();
    const settings = snap.settings;
    const allowed = opts.ignoreMin ? units : Math.min(units, totalUnits(snap) - settings.minUnits);
    if (allowed <= 0) {
      decide({ action: 'ignored', units, reason: `at min ${settings.minUnits} units: ${why}` });
      return { removed: 0, aborted: false };
    }
    const choice = chooseVictims(snap.state, snap.pools.map((p) => p.name), allowed, { force: opts.force, market: opts.market, exclude: st.replacing });
    if (choice.victims.length === 0) {
      decide({
        action: 'ignored',
        units: allowed,
        reason: `no instance to remove${choice.sparedStandalone.length ? ` (spared for standalone tasks: ${choice.sparedStandalone.join(', ')})` : ''}: ${why}`,
      });
      return { removed: 0, aborted: false };
    }
    decide({
      action: 'scale-in',
      units: choice.units,
      reason: `${why}; victims ${choice.victims.map((v) => `${v.instanceId} (${v.pool}, ${v.market})`).join(', ')}${
        choice.sparedStandalone.length ? `; spared for standalone tasks: ${choice.sparedStandalone.join(', ')}` : ''
      }`,
    });
    if (await controls.checkpoint()) return { removed: 0, aborted: true };
    st.lastScaleAt = Date.now();
    st.scaleInVictims = [...st.scaleInVictims, ...choice.victims.map((v) => v.instanceId)].slice(-200);
    controls.setPhase('draining');
    summary = `scaling in: draining ${choice.victims.map((v) => v.instanceId).join(', ')}`;

    const drained = await Promise.all(
      choice.victims.map(async (v) => {
        const childInput: SpotDrainInput = { instanceId: v.instanceId, ...(dryRun ? { dryRun } : {}) };
        try {
          const child = await startChild(spotDrain, {
            workflowId: drainWorkflowId(v.instanceId),
            taskQueue: TASK_QUEUE_CRITICAL,
            args: [childInput],
            // A drain must finish even if this workflow is aborted or continues as new: no half-drained instance.
            parentClosePolicy: ParentClosePolicy.ABANDON,
            typedSearchAttributes: [
              { key: FleetopsKind, value: 'drain' },
              { key: FleetopsCluster, value: cluster },
              { key: FleetopsInstanceId, value: v.instanceId },
            ],
            staticSummary: `scale-in drain of ${v.instanceId} (${cluster}/${v.pool})`,
          });
          await child.signal(drainEventSignal, {
            kind: 'scale-in',
            instanceId: v.instanceId,
            eventId: `scale-in/${workflowInfo().workflowId}/${st.plans}/${v.instanceId}`,
            eventTime: new Date().toISOString(),
          });
          const result = await child.result();
          // not-in-cluster: nothing ran there any more, so it can go as well.
          if (result.outcome !== 'drained' && result.outcome !== 'not-in-cluster') {
            throw new Error(`drain ended ${result.outcome}`);
          }
          decide({ action: 'drain', pool: v.pool, units: v.weight, reason: `${v.instanceId} drained` });
          return v;
        } catch (err) {
          decide({ action: 'drain', pool: v.pool, units: 0, reason: `${v.instanceId} not removed: drain failed: ${errorMessage(err)}` });
          return undefined;
        }
      }),
    );
    controls.setPhase('scaling-in');
    let removed = 0;
    for (const v of drained) {
      if (!v) continue;
      const res = await aws.removePoolInstance({ cluster, pool: v.pool, instanceId: v.instanceId, weight: v.weight, dryRun });
      res.dryRunCalls.forEach(recordDryRun);
      removed += v.weight;
    }
    st.lastScaleAt = Date.now();
    return { removed, aborted: false };
  };

  // ---- return to spot: one step per timer ----
  const returnToSpot = async (): Promise<boolean> => {
    const snap = await refresh();
    const settings = snap.settings;
    const onDemand = snap.state.filter((p) => p.market === 'on-demand').reduce((s, p) => s + p.actualUnits, 0);
    if (onDemand <= 0) return false;
    const now = Date.now();
    const spotPools = snap.pools.filter((p) => p.market === 'spot');
    if (spotPools.every((p) => poolBlockedBy(p, st.marks, now))) {
      decide({ action: 'return-to-spot', units: 0, reason: `${onDemand} on-demand units running; every spot pool still unavailable` });
      return false;
    }
    const step = Math.min(onDemand, settings.stepUnits);
    controls.setPhase('returning-to-spot');
    const out = await scaleOut(step, `return to spot: ${onDemand} on-demand units running`, { market: 'spot', exceedMaxBy: step });
    if (out.aborted) return true;
    if (out.delivered <= 0) return false;
    const back = await scaleIn(Math.min(out.delivered, onDemand), `return to spot: ${out.delivered} spot units now ACTIVE`, {
      force: false,
      market: 'on-demand',
      ignoreMin: true,
    });
    decide({ action: 'return-to-spot', units: back.removed, reason: `moved ${back.removed} units from on-demand to spot` });
    return back.aborted;
  };

  // ---- one plan from whatever is pending ----
  const plan = async (): Promise<boolean> => {
    st.plans += 1;
    const takeDeferred = cooledDown();
    const out = st.outNow.units + (takeDeferred ? st.outDeferred.units : 0) + (unmetDue() ? (st.unmet?.units ?? 0) : 0);
    const inn = st.inNow.units + (takeDeferred ? st.inDeferred.units : 0);
    const reasons = [st.outNow, takeDeferred ? st.outDeferred : emptyBucket(), st.inNow, takeDeferred ? st.inDeferred : emptyBucket()]
      .filter((b) => b.requests > 0)
      .map(describeBucket);
    if (unmetDue()) reasons.push(`retrying ${st.unmet?.units} unmet units`);
    const force = st.forceIn;
    st.outNow = emptyBucket();
    st.inNow = emptyBucket();
    if (takeDeferred) {
      st.outDeferred = emptyBucket();
      st.inDeferred = emptyBucket();
    }
    if (unmetDue()) st.unmet = undefined;
    if (st.inDeferred.units === 0 && st.inNow.units === 0) st.forceIn = false;
    const why = reasons.join(' | ');
    const net = out - inn;
    if (net > 0) {
      const r = await scaleOut(net, why);
      if (r.unmet > 0 && !r.aborted) {
        const firstExpiry = Math.min(...activeMarks(st.marks, Date.now()).map((m) => m.until), Date.now() + (st.settings?.unavailableTtlSeconds ?? 180) * 1000);
        st.unmet = { units: (st.unmet?.units ?? 0) + r.unmet, notBefore: firstExpiry };
        decide({ action: 'ignored', units: r.unmet, reason: `no pool could deliver ${r.unmet} units; retrying at ${iso(firstExpiry)}` });
      }
      return r.aborted;
    }
    if (net < 0) return (await scaleIn(-net, why, { force })).aborted;
    decide({ action: 'ignored', units: 0, reason: `out ${out} and in ${inn} cancel out: ${why}` });
    return false;
  };

  const finishAborted = (): CapacityStatus => {
    const req = controls.abortRequest;
    controls.setPhase('aborted');
    const pools = st.pools.map((p) => `${p.name} ${p.actualUnits}/${p.targetUnits}`).join(', ');
    summary = `aborted${req?.by ? ` by ${req.by}` : ''}: ${req?.reason ?? ''}. No capacity request in flight; pools (actual/target) ${pools || 'unknown'}; scale-in drains already started finish on their own.`;
    return status();
  };

  // ---- main loop ----
  if (!st.settings) await refresh();
  if (st.nextReturnToSpotAt === undefined && st.settings) {
    st.nextReturnToSpotAt = Date.now() + st.settings.returnToSpotEverySeconds * 1000;
  }
  for (;;) {
    if (controls.abortRequest) return finishAborted();
    const info = workflowInfo();
    if (!planning && (info.continueAsNewSuggested || info.historyLength >= CONTINUE_AS_NEW_AFTER_EVENTS)) {
      await condition(allHandlersFinished);
      st.continuedRuns += 1;
      await continueAsNew<typeof capacity>({ cluster, ...(input.dryRun !== undefined ? { dryRun: input.dryRun } : {}), carried: st });
    }
    const waitingCooldown = !runnable() && (st.outDeferred.units > 0 || st.inDeferred.units > 0);
    controls.setPhase(waitingCooldown ? 'cooldown' : 'idle');
    summary = waitingCooldown
      ? `waiting for the cooldown until ${iso(cooldownUntil())} before ${st.outDeferred.units} out / ${st.inDeferred.units} in units`
      : `idle: ${st.pools.map((p) => `${p.name} ${p.actualUnits}`).join(', ')} units`;
    const wake = nextWakeAt();
    const wakeIn = wake === Infinity ? undefined : Math.max(1, wake - Date.now());
    // A new request wakes the loop even when it must wait (cooldown), so phase and summary say so.
    const signalsAtWait = st.signalsReceived;
    const woke = () => runnable() || returnToSpotDue() || controls.abortRequest !== undefined || st.signalsReceived !== signalsAtWait;
    if (wakeIn === undefined) await condition(woke);
    else await condition(woke, wakeIn);

    if (await controls.checkpoint()) return finishAborted();
    planning = true;
    try {
      if (runnable()) {
        // Let requests sent together (an alarm storm, several drains) land in the same plan.
        await sleep(COALESCE_MS);
        if (await plan()) return finishAborted();
        // Status shows pools as they are after the plan, not as they were before it.
        await refresh();
      } else if (returnToSpotDue()) {
        st.nextReturnToSpotAt = Date.now() + (st.settings?.returnToSpotEverySeconds ?? 600) * 1000;
        if (await returnToSpot()) return finishAborted();
        await refresh();
      }
    } finally {
      planning = false;
    }
  }
}
