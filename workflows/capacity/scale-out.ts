import { condition, patched, workflowInfo } from '@temporalio/workflow';
import type { CapacitySettings, LaunchedInstance, Market, PoolSettings, PoolSnapshot } from '../../activities/capacity/types';
import { failureMessage } from '../lib/failure-message';
import { recordPoolFallback } from '../lib/metrics';
import { aws, waits } from './activity-options';
import type { Cleanup } from './carried';
import { runCleanup } from './cleanups';
import { fleetClientToken } from './rules';
import { capacityFailureCode, isTransientFailure, refresh, type CapacityRun } from './run';
import { iso } from './state';

/**
 * Scale-out: the pool ladder. Pools are asked in config order; a pool that answers with a capacity
 * error, or does not deliver within its fulfilment timeout, is marked unavailable for a TTL and the
 * rest of the shortfall goes to the next pool at once. New instances are then awaited as ACTIVE
 * container instances.
 */

export interface ScaleOutResult {
  delivered: number;
  unmet: number;
  aborted: boolean;
}

/** What a failed step leaves to do: the units not yet delivered (the plan puts them back). */
export interface ScaleOutProgress {
  remaining: number;
}

export interface ScaleOutOptions {
  /** Ask only pools of this market (return to spot). */
  market?: Market;
  /** Units the cluster may go over its max by (return to spot, before the on-demand units leave). */
  exceedMaxBy?: number;
  /** Wait until the new instances are ACTIVE before returning (return to spot). */
  awaitActive?: boolean;
}

const unitsOf = (instances: LaunchedInstance[]) => instances.reduce((s, i) => s + i.weight, 0);

export async function scaleOut(
  run: CapacityRun,
  units: number,
  why: string,
  opts: ScaleOutOptions = {},
  progress: ScaleOutProgress = { remaining: units },
): Promise<ScaleOutResult> {
  const { state, controls } = run;
  progress.remaining = units;
  const snap = await refresh(run);
  const settings = snap.settings;
  const headroom = settings.maxUnits + (opts.exceedMaxBy ?? 0) - state.totalUnits(snap);
  const ask = Math.min(units, headroom);
  // Units over the max are dropped on purpose (the decision says so), not kept for a retry.
  progress.remaining = Math.max(0, ask);
  if (ask <= 0) {
    state.decide({ action: 'ignored', units, reason: `at max ${settings.maxUnits} units: ${why}` });
    return { delivered: 0, unmet: 0, aborted: false };
  }
  state.decide({ action: 'scale-out', units: ask, reason: why + (ask < units ? ` (clipped from ${units} by max ${settings.maxUnits})` : '') });
  controls.setPhase('scaling-out');
  const planSeq = state.nextPlanSeq();
  let remaining = ask;
  let delivered = 0;
  const fresh: LaunchedInstance[] = [];
  const launchedBy = new Map<string, string>();

  for (const pool of snap.pools) {
    if (remaining <= 0) break;
    if (await controls.checkpoint()) return { delivered, unmet: remaining, aborted: true };
    if (opts.market && pool.market !== opts.market) continue;
    const blocked = state.blockedBy(pool);
    if (blocked) {
      state.decide({ action: 'pool-skipped', pool: pool.name, reason: `unavailable until ${iso(blocked.until)}: ${blocked.reason}` });
      continue;
    }
    const ps = snap.state.find((p) => p.name === pool.name);
    const target = ps?.targetUnits ?? 0;
    // The config's maxCapacity, and the pool's own limit (ASG MaxSize: SetDesiredCapacity above it is refused).
    const max = Math.min(pool.maxUnits ?? Infinity, ps?.maxUnits ?? Infinity);
    const room = max - target;
    if (room <= 0) {
      state.decide({ action: 'pool-skipped', pool: pool.name, reason: `pool at its max ${max} units` });
      continue;
    }
    const poolAsk = Math.min(remaining, room);
    state.summary = `scaling out: asking ${pool.name} for ${poolAsk} of ${ask} units`;
    const before = fresh.length;
    const got = await askPool(run, { pool, ps, target, units: poolAsk, settings, planSeq }, fresh);
    for (const i of fresh.slice(before)) launchedBy.set(i.instanceId, pool.name);
    if (got > 0) state.decide({ action: 'pool-delivered', pool: pool.name, units: got, reason: `for: ${why}` });
    delivered += got;
    remaining = Math.max(0, remaining - got);
    progress.remaining = remaining;
  }
  state.scaled();

  if (fresh.length > 0 && !run.dryRun) {
    // The next request must not wait behind this plan's boot (minutes in a storm): instances boot
    // beside the loop (booting.ts). Return to spot still waits: it takes on-demand out only for spot
    // units that are ACTIVE. Runs recorded before this waited inline; patched() keeps them replaying.
    if (!opts.awaitActive && patched('capacity-boot-beside-the-loop')) {
      run.boot.add(fresh, (i) => launchedBy.get(i.instanceId) ?? 'unknown', settings.registrationTimeoutSeconds * 1000);
      state.summary = `${fresh.length} new instance(s) booting; requests are served meanwhile`;
    } else if (await awaitRegistration(run, fresh, settings)) return { delivered, unmet: remaining, aborted: true };
  }
  return { delivered, unmet: remaining, aborted: false };
}

interface PoolAsk {
  pool: PoolSettings;
  /** The pool as the plan's snapshot saw it. */
  ps: PoolSnapshot | undefined;
  target: number;
  units: number;
  settings: CapacitySettings;
  planSeq: number;
}

/**
 * Asks one pool and returns the units it delivered (all of them in dryRun); launched instances are
 * added to `fresh`. Whatever the pool could not deliver is marked unavailable, and a target raised
 * for it is withdrawn.
 */
async function askPool(run: CapacityRun, a: PoolAsk, fresh: LaunchedInstance[]): Promise<number> {
  const { cluster, dryRun, state } = run;
  const { pool, ps, target, units: poolAsk, settings } = a;
  const ttlMs = settings.unavailableTtlSeconds * 1000;
  const info = workflowInfo();
  const markPool = (reason: string, kind: 'capacity-error' | 'timeout' | 'error') => {
    state.markUnavailable(pool.name, reason, ttlMs);
    recordPoolFallback(cluster, pool.name, kind);
    state.decide({ action: 'pool-failed', pool: pool.name, units: poolAsk, reason: `${reason}; unavailable for ${settings.unavailableTtlSeconds}s` });
  };

  let got = 0;
  let raised = false;
  const known = ps?.instances.map((i) => i.instanceId) ?? [];
  const requestedAt = iso(Date.now());
  try {
    const res = await aws.requestPoolCapacity({
      cluster,
      pool: pool.name,
      units: poolAsk,
      newTargetUnits: target + poolAsk,
      excludeOverrides: state.markedOverrides(pool),
      clientToken: fleetClientToken(info.workflowId, info.firstExecutionRunId, a.planSeq, pool.name),
      dryRun,
    });
    state.recordDryRun(res.dryRunCall);
    if (dryRun) {
      got = poolAsk;
    } else if (res.kind === 'instant') {
      for (const e of res.errors) {
        state.markUnavailable(pool.name, `${e.code}: ${e.message}`, ttlMs, { ...e, market: pool.market });
      }
      fresh.push(...res.launched);
      got = res.launchedUnits;
      if (got < poolAsk) {
        const codes = [...new Set(res.errors.map((e) => `${e.code} ${e.instanceType}${e.availabilityZone ? `/${e.availabilityZone}` : ''}`))];
        if (res.errors.length === 0) markPool(`CreateFleet delivered ${got} of ${poolAsk} units without errors`, 'capacity-error');
        else {
          recordPoolFallback(cluster, pool.name, 'capacity-error');
          state.decide({
            action: 'pool-failed',
            pool: pool.name,
            units: poolAsk - got,
            reason: `delivered ${got} of ${poolAsk}: ${codes.join(', ')}; those types/zones unavailable for ${settings.unavailableTtlSeconds}s`,
          });
        }
      }
    } else {
      raised = true;
      const f = await waits.awaitPoolFulfilment({
        cluster,
        pool: pool.name,
        knownInstanceIds: known,
        units: poolAsk,
        timeoutSeconds: pool.fulfilmentTimeoutSeconds,
        requestedAt,
      });
      fresh.push(...f.instances);
      got = f.deliveredUnits;
      if (got < poolAsk) {
        // The types/zones the pool named go in the shared cache: other pools of the market skip them too.
        for (const o of f.capacityError?.offerings ?? []) {
          state.markUnavailable(pool.name, `${f.capacityError?.code}: reported by ${pool.name}`, ttlMs, { ...o, market: pool.market });
        }
        markPool(
          f.capacityError
            ? `${f.capacityError.code}: ${f.capacityError.message} (delivered ${got} of ${poolAsk})`
            : `delivered ${got} of ${poolAsk} units within ${pool.fulfilmentTimeoutSeconds}s`,
          f.capacityError ? 'capacity-error' : 'timeout',
        );
        // Withdraw the undelivered part so the pool does not fill it later, on top of the next pool.
        // Owed until it goes through: a throttled withdrawal is retried before the next plan.
        const withdraw: Cleanup = { kind: 'withdraw', pool: pool.name, targetUnits: target + got, keepInstanceIds: [...known, ...f.instances.map((i) => i.instanceId)] };
        state.addCleanup(withdraw);
        await runCleanup(run, withdraw);
      }
    }
  } catch (err) {
    const capacityError = capacityFailureCode(err);
    if (capacityError) markPool(capacityError, 'capacity-error');
    else if (isTransientFailure(err)) {
      // Not the pool's fault: the plan stops, keeps what it has not delivered, and is retried whole.
      // A raise already sent is withdrawn first, so the retry does not stack on it.
      if (raised && got === 0) state.addCleanup({ kind: 'withdraw', pool: pool.name, targetUnits: target, keepInstanceIds: known });
      throw err;
    } else markPool(`request failed: ${failureMessage(err)}`, 'error');
  }
  return got;
}

/** Waits for new instances to become ACTIVE container instances; true when an abort ended the wait. */
async function awaitRegistration(run: CapacityRun, fresh: LaunchedInstance[], settings: CapacitySettings): Promise<boolean> {
  const { cluster, state, controls } = run;
  controls.setPhase('waiting-for-instances');
  state.summary = `waiting for ${fresh.length} new instance(s) to become ACTIVE container instances`;
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
  if (outcome === undefined) return true;
  state.decide({
    action: 'registered',
    units: unitsOf(fresh.filter((i) => outcome.active.includes(i.instanceId))),
    reason:
      outcome.missing.length === 0
        ? `${outcome.active.length} new instance(s) ACTIVE in ${cluster}`
        : `${outcome.missing.length} instance(s) not ACTIVE after ${settings.registrationTimeoutSeconds}s: ${outcome.missing.join(', ')}`,
  });
  return false;
}
