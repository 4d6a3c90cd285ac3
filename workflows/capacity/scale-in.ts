import { ParentClosePolicy, startChild, workflowInfo } from '@temporalio/workflow';
import type { Market, PoolInstance } from '../../activities/capacity/types';
import { drainStartOptions } from '../../contracts/spot-drain/start';
import type { SpotDrainInput } from '../../contracts/spot-drain/input';
import { failureMessage } from '../lib/failure-message';
import { drainEventSignal } from '../../contracts/spot-drain/messages';
import { spotDrain } from '../spot-drain/workflow';
import { scaleInAllowance } from '../../common/readiness-floor';
import { runCleanups } from './cleanups';
import { currentFloor } from './floor';
import { chooseVictims } from './rules';
import { refresh, type CapacityRun } from './run';

/**
 * Scale-in: choose victims (rules.ts), drain each through a child `spotDrain`, then take the drained
 * ones out of their pools. An instance whose drain fails stays.
 */

export interface ScaleInOptions {
  /** Victims may run standalone tasks. */
  force: boolean;
  /** Take only instances of this market (return to spot). */
  market?: Market;
  /** Go below the cluster's min (return to spot: the spot units are already up). */
  ignoreMin?: boolean;
}

/** What a failed step leaves to do: units not yet chosen for removal (the plan puts them back). */
export interface ScaleInProgress {
  remaining: number;
}

export async function scaleIn(
  run: CapacityRun,
  units: number,
  why: string,
  opts: ScaleInOptions,
  progress: ScaleInProgress = { remaining: units },
): Promise<{ removed: number; aborted: boolean }> {
  const { state, controls } = run;
  progress.remaining = units;
  const snap = await refresh(run);
  const settings = snap.settings;
  // A readiness floor holds like a higher min while its window lasts (none: the min alone, as before).
  const floor = currentFloor(state);
  const allowed = opts.ignoreMin ? units : scaleInAllowance(units, state.totalUnits(snap), settings.minUnits, floor.units);
  if (allowed <= 0) {
    const at = floor.units > settings.minUnits ? `the readiness floor ${floor.units} units of ${floor.windowIds.join(', ')}` : `min ${settings.minUnits} units`;
    state.decide({ action: 'ignored', units, reason: `at ${at}: ${why}` });
    return { removed: 0, aborted: false };
  }
  const choice = chooseVictims(
    snap.state,
    snap.pools.map((p) => p.name),
    allowed,
    {
      force: opts.force,
      market: opts.market,
      exclude: state.carried.replacing,
      lowerMinimum: snap.pools.filter((p) => p.lowerMinSizeOnScaleIn).map((p) => p.name),
    },
  );
  const spared = [
    ...(choice.sparedStandalone.length ? [`spared for standalone tasks: ${choice.sparedStandalone.join(', ')}`] : []),
    ...(choice.sparedMinimum.length ? [`spared at their group's min size: ${choice.sparedMinimum.join(', ')}`] : []),
  ];
  if (choice.victims.length === 0) {
    state.decide({
      action: 'ignored',
      units: allowed,
      reason: `no instance to remove${spared.length ? ` (${spared.join('; ')})` : ''}: ${why}`,
    });
    return { removed: 0, aborted: false };
  }
  state.decide({
    action: 'scale-in',
    units: choice.units,
    reason: `${why}; victims ${choice.victims.map((v) => `${v.instanceId} (${v.pool}, ${v.market})`).join(', ')}${spared.map((x) => `; ${x}`).join('')}`,
  });
  if (await controls.checkpoint()) return { removed: 0, aborted: true };
  // From here on the victims are chosen: a later failure keeps them as owed steps, not as units to choose again.
  progress.remaining = 0;
  state.scaled();
  state.addScaleInVictims(choice.victims.map((v) => v.instanceId));
  controls.setPhase('draining');
  state.summary = `scaling in: draining ${choice.victims.map((v) => v.instanceId).join(', ')}`;

  const drained = await Promise.all(choice.victims.map((v) => drainVictim(run, v)));
  controls.setPhase('scaling-in');
  // Each drained victim is owed its removal until it goes through (a throttled call is retried later).
  for (const v of drained) if (v) state.addCleanup({ kind: 'remove', pool: v.pool, instanceId: v.instanceId, weight: v.weight });
  const removed = await runCleanups(run);
  state.scaled();
  return { removed, aborted: false };
}

/** Drains one victim through a child `spotDrain`; the victim when it drained, undefined when it stays. */
async function drainVictim(run: CapacityRun, v: PoolInstance): Promise<PoolInstance | undefined> {
  const { cluster, dryRun, state } = run;
  const childInput: SpotDrainInput = { instanceId: v.instanceId, ...(run.placement ? { placement: run.placement } : {}), ...(dryRun ? { dryRun } : {}) };
  try {
    const { workflowId, taskQueue, args, typedSearchAttributes, staticSummary } = drainStartOptions(childInput, {
      why: `scale-in of ${cluster}/${v.pool}`,
      cluster,
    });
    const child = await startChild(spotDrain, {
      workflowId,
      taskQueue,
      args,
      typedSearchAttributes,
      staticSummary,
      // A drain must finish even if this workflow is aborted or continues as new: no half-drained instance.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      // Not the router's ALLOW_DUPLICATE_FAILED_ONLY: an instance drained once before (a rebalance that
      // ended without termination) and chosen again must be drainable again.
    });
    await child.signal(drainEventSignal, {
      kind: 'scale-in',
      instanceId: v.instanceId,
      eventId: `scale-in/${workflowInfo().workflowId}/${state.carried.plans}/${v.instanceId}`,
      eventTime: new Date().toISOString(),
    });
    const result = await child.result();
    // not-in-cluster: nothing ran there any more, so it can go as well.
    if (result.outcome !== 'drained' && result.outcome !== 'not-in-cluster') {
      throw new Error(`drain ended ${result.outcome}`);
    }
    state.decide({ action: 'drain', pool: v.pool, units: v.weight, reason: `${v.instanceId} drained` });
    return v;
  } catch (err) {
    state.decide({ action: 'drain', pool: v.pool, units: 0, reason: `${v.instanceId} not removed: drain failed: ${failureMessage(err)}` });
    return undefined;
  }
}
