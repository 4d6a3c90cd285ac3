import { CancellationScope, condition } from '@temporalio/workflow';
import { failureMessage } from '../lib/failure-message';
import { AFTER_DEADLINE_BUDGET_MS, MIN_ACTIVITY_BUDGET_MS, WAIT_SLICE_MS, waitStep } from './activity-options';
import type { DrainTarget } from './state';
import { aborted, isTimeout, step, type DrainContext } from './steps';

/**
 * The relaxed drains that give time (rebalance recommendation, scheduled change): the replacement
 * first, then the drain, then the instance goes. docs/contract.md, Events: "replace first, then drain".
 *  - waitForReplacement: after asking for capacity, wait (durably, in heartbeating slices) until a
 *    container instance that registered since the request is ACTIVE, at most REPLACEMENT_WAIT_MAX_MS
 *    and half the time left; a warning (the two-minute deadline) or an abort ends the wait at once.
 *    Any new ACTIVE instance counts: drains waiting together may be released by one arrival.
 *  - terminateThroughPool: a drained instance must not sit DRAINING and billed; its pool takes it out
 *    (an ASG terminates it and lowers its desired count, a Spot Fleet lowers its target first), so the
 *    replacement keeps the count right. A pool that replaced it itself (Capacity Rebalancing) keeps
 *    its target: an ASG terminates without decrementing (at MinSize a decrement is refused), and
 *    the pool's replacement is the count.
 */

export const REPLACEMENT_WAIT_MAX_MS = 300_000;

export async function waitForReplacement(ctx: DrainContext, t: DrainTarget): Promise<void> {
  const { state, controls } = ctx;
  if (!(state.capacityRequested || state.poolReplaces) || state.capacityRequestedAt === undefined || state.onDeadline()) return;
  if (state.dryRun) {
    state.skip('wait-for-replacement', 'dry run: no replacement was asked for');
    return;
  }
  controls.setPhase('waiting-for-replacement');
  const s = state.begin('wait-for-replacement');
  const until = Date.now() + Math.min(REPLACEMENT_WAIT_MAX_MS, state.timeLeftMs() / 2);
  // A deadline moved in (a warning, the instance gone) ends the wait at once.
  const interrupted = () => aborted(ctx) || state.onDeadline() || state.timeLeftMs() < MIN_ACTIVITY_BUDGET_MS;
  while (!interrupted()) {
    const left = Math.min(until - Date.now(), state.timeLeftMs());
    if (left < MIN_ACTIVITY_BUDGET_MS) break;
    const slice = Math.min(left, WAIT_SLICE_MS);
    const stopAt = Date.now() + slice;
    const scope = new CancellationScope();
    const waiting = scope.run(() =>
      waitStep(left, slice).waitForReplacement({ cluster: t.cluster, instanceId: state.instanceId, sinceEpochMs: state.capacityRequestedAt!, stopAtEpochMs: stopAt }),
    );
    let result: Awaited<typeof waiting> | undefined;
    try {
      result = await Promise.race([waiting, condition(interrupted).then(() => undefined)]);
    } catch (err) {
      if (isTimeout(err)) break;
      state.end(s, 'failed', `${failureMessage(err)}: draining without it`);
      return;
    }
    if (result === undefined) {
      scope.cancel();
      await waiting.catch(() => undefined);
      break;
    }
    if (result.arrived) {
      state.end(s, 'done', `${result.instanceId} is ACTIVE (${result.containerInstanceArn})`);
      return;
    }
    // A wait that returned before its stop time (e.g. a poller shutting down) must not spin.
    const rest = stopAt - Date.now();
    if (rest >= MIN_ACTIVITY_BUDGET_MS) await condition(interrupted, rest);
  }
  if (aborted(ctx)) state.end(s, 'skipped', 'aborted');
  else if (state.onDeadline()) state.end(s, 'skipped', `${state.mode()}: draining at once`);
  else if (state.timeLeftMs() < MIN_ACTIVITY_BUDGET_MS) state.end(s, 'skipped', 'the deadline arrived');
  else state.end(s, 'failed', `no replacement ACTIVE within ${Math.round((Date.now() - Date.parse(s.startedAt)) / 1000)} s: draining without it`);
}

export async function terminateThroughPool(ctx: DrainContext, t: DrainTarget): Promise<void> {
  const { state, controls } = ctx;
  const pool = state.pool;
  if (!pool?.found) {
    state.skip('terminate-instance', 'in no configured pool: left DRAINING for its owner');
    return;
  }
  controls.setPhase('terminating');
  const r = await step(
    ctx,
    'terminate-instance',
    (a) =>
      a.terminateDrainedInstance({
        cluster: t.cluster,
        pool: pool.pool,
        instanceId: state.instanceId,
        weight: t.capacityUnits,
        ...(state.poolReplaces ? { keepTarget: true } : {}),
        dryRun: state.dryRun,
      }),
    () => `taken out of pool ${pool.pool} (${pool.kind})${state.poolReplaces ? ', its own replacement keeping its count' : ''}`,
    AFTER_DEADLINE_BUDGET_MS,
  );
  state.record(r.ok ? r.value : undefined);
}
