import { allHandlersFinished, condition, continueAsNew, isCancellation, workflowInfo } from '@temporalio/workflow';
import { DEFAULT_MAX_CONCURRENT, DEFAULT_MAX_PER_CLUSTER, type ReleaseResult, type ReleaseWorkflow } from '../../contracts/release/messages';
import { failureMessage } from '../lib/failure-message';
import { findFrozenClusters } from './activity-options';
import { cancelActive, poll, startDeploy, toPoll } from './children';
import type { ReleaseContext } from './context';
import { counts, waveSummary } from './status';

/** How often deploys followed by polling and freezes are looked at again, unless the input says. */
const DEFAULT_POLL_SECONDS = 30;
/** Continue as new past this many history events (or when the server suggests it). */
const DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS = 10_000;

/**
 * The release's loop: each pass looks at the state and takes the one step it calls for (abort,
 * continue as new, a rollback step, a wave's start, the deploys that fit), then waits for something to
 * change: a deploy's end, an operator's message, or the next poll. Every step is decided from the
 * state alone, so a continued run carries on where the last one stopped.
 */
export async function runRelease(ctx: ReleaseContext): Promise<ReleaseResult> {
  const { state, controls } = ctx;
  const pollMs = (state.input.pollSeconds ?? DEFAULT_POLL_SECONDS) * 1000;
  const limit = state.input.continueAsNewAfterEvents ?? DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS;
  const historyFull = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= limit;
  let cancelled = false;
  for (;;) {
    // An update that woke the loop answers before anything it set off is scheduled.
    await condition(allHandlersFinished);
    const seen = state.version;
    const paused = controls.paused;
    const abort = controls.abortRequest;
    if (abort) {
      if (!cancelled) {
        cancelled = true;
        await cancelActive(ctx);
      }
      if (state.active().length === 0) return ctx.finish('aborted', `aborted${abort.by ? ` by ${abort.by}` : ''}: ${abort.reason}; ${tally(ctx)}`);
    } else if (historyFull()) {
      // Between steps: every child start has been answered, so none is started twice.
      await continueAsNew<ReleaseWorkflow>({ ...state.input, carried: state.carry(state.phase, controls.paused) });
    } else if (state.rollback) {
      if (await rollbackStep(ctx, paused)) return ctx.finish('rolled-back', `rolled back (${state.rollback.by}: ${state.rollback.reason}); ${tally(ctx)}`);
    } else if (state.phase === 'awaiting-approval') {
      // A wave whose services were all skipped while it waited has nothing to approve.
      if (!paused && (state.dryRun || state.approvalOf(state.waveIndex) || state.waveOver())) await beginWave(ctx);
    } else {
      const end = await forwardStep(ctx, paused, pollMs);
      if (end) return end;
    }
    if (state.version !== seen) continue;
    const polled = toPoll(ctx).length > 0 || state.phase === 'frozen';
    const changed = () => state.version !== seen || controls.paused !== paused || controls.abortRequest !== abort || historyFull();
    const woke = polled ? await condition(changed, pollMs) : (await condition(changed), true);
    if (!woke) await poll(ctx);
  }
}

const tally = (ctx: ReleaseContext): string => {
  const c = counts(ctx.state);
  return `${c.promoted} promoted, ${c['rolled-back']} rolled back, ${c.failed} failed, ${c.skipped} skipped, ${c.reverted} reverted, ${c['revert-failed']} revert failed, ${c.pending + c.waiting} not deployed`;
};

async function beginWave(ctx: ReleaseContext): Promise<void> {
  const { state } = ctx;
  const w = state.waveIndex;
  if (state.waveOver()) state.decide('skip', `wave ${w + 1} has nothing left to deploy`);
  else if (state.dryRun && !state.approvalOf(w)) state.decide('skip', `dry run: wave ${w + 1} starts without an approval`);
  // A new wave looks at its own clusters' freezes.
  state.freeze = undefined;
  await ctx.enterPhase('deploying', `wave ${w + 1} of ${state.waves.length}: ${state.waveMembers().length} services`);
}

/** A wave in progress: halt, start what fits, or move on once the wave is over. Returns the result when the release is done. */
async function forwardStep(ctx: ReleaseContext, paused: boolean, pollMs: number): Promise<ReleaseResult | undefined> {
  const { state } = ctx;
  state.checkBudget();
  if (state.halted) {
    await ctx.enterPhase('halted', state.halted.reason);
    return undefined;
  }
  if (state.phase === 'halted') await ctx.enterPhase('deploying', `wave ${state.waveIndex + 1} goes on`);
  if (!paused) await startWhatFits(ctx, pollMs);
  if (!state.waveOver()) return undefined;
  const done = waveSummary(state, state.waveIndex);
  // Waves whose services were all skipped before they began need no approval.
  do {
    if (state.isLastWave()) return ctx.finish('completed', `${state.waves.length} wave(s) done; ${tally(ctx)}`);
    state.waveIndex += 1;
    state.bump();
    if (state.waveOver()) state.decide('skip', `wave ${state.waveIndex + 1} has nothing left to deploy`);
  } while (state.waveOver());
  const next = state.waveIndex + 1;
  const said = `wave ${done.wave}: ${done.promoted.length} promoted, ${done.rolledBack.length} rolled back, ${done.failed.length} failed, ${done.skipped.length} skipped`;
  await ctx.enterPhase('awaiting-approval', `${said}; wave ${next} (${state.waveMembers().length} services) waits for approveWave`);
  return undefined;
}

/** Starts the wave's next deploys within its limits, unless a cluster it touches is frozen. */
async function startWhatFits(ctx: ReleaseContext, pollMs: number): Promise<void> {
  const { state } = ctx;
  const pending = state.inState(['pending'], state.waveMembers());
  if (pending.length === 0) {
    if (state.phase === 'frozen') await ctx.enterPhase('deploying', 'nothing left to start in the wave');
    return;
  }
  const clusters = [...new Set(pending.map((i) => state.services[i]!.cluster))].sort();
  let look = state.freeze;
  if (!look || state.nowMs() - look.at >= pollMs || clusters.some((c) => !look!.checked.includes(c))) {
    look = { frozen: await lookForFreezes(clusters), checked: clusters, at: state.nowMs() };
    state.freeze = look;
  }
  const frozen = look.frozen.filter((x) => clusters.includes(x.cluster));
  if (frozen.length > 0) {
    await ctx.enterPhase('frozen', `wave ${state.waveIndex + 1} touches a frozen cluster: ${frozen.map((x) => x.reason).join('; ')}`);
    return;
  }
  if (state.phase !== 'deploying') await ctx.enterPhase('deploying', `no cluster of wave ${state.waveIndex + 1} is frozen any more`);
  const picks = pick(ctx, pending);
  if (picks.length > 0) await Promise.all(picks.map((i) => startDeploy(ctx, i, state.waveApproval())));
}

/** The wave's pending services that fit under its limits: deploys at once in the wave, and per cluster. */
function pick(ctx: ReleaseContext, pending: number[]): number[] {
  const { state } = ctx;
  const active = state.active();
  let slots = (state.input.maxConcurrent ?? DEFAULT_MAX_CONCURRENT) - active.length;
  const perCluster = new Map<string, number>();
  for (const i of active) perCluster.set(state.services[i]!.cluster, (perCluster.get(state.services[i]!.cluster) ?? 0) + 1);
  const maxPer = state.input.maxPerCluster ?? DEFAULT_MAX_PER_CLUSTER;
  const out: number[] = [];
  for (const i of pending) {
    if (slots <= 0) break;
    const c = state.services[i]!.cluster;
    if ((perCluster.get(c) ?? 0) >= maxPer) continue;
    out.push(i);
    slots -= 1;
    perCluster.set(c, (perCluster.get(c) ?? 0) + 1);
  }
  return out;
}

/** The clusters frozen now; a look that fails counts as frozen (the deploy's preflight would refuse too), and is tried again at the next poll. */
async function lookForFreezes(clusters: string[]): Promise<{ cluster: string; reason: string }[]> {
  try {
    return await findFrozenClusters({ clusters });
  } catch (err) {
    if (isCancellation(err)) throw err;
    return clusters.map((cluster) => ({ cluster, reason: `cannot tell whether deploys to ${cluster} are frozen: ${failureMessage(err)}` }));
  }
}

/**
 * One step of a rollback: once no deploy of the release runs, the next promoted service (newest
 * first) is deployed back to the task definition it ran before, one service at a time. True when
 * nothing is left to revert.
 */
async function rollbackStep(ctx: ReleaseContext, paused: boolean): Promise<boolean> {
  const { state } = ctx;
  const { rollback } = state;
  if (!rollback) return false;
  await ctx.enterPhase('rolling-back', `asked by ${rollback.by}: ${rollback.reason}`);
  if (state.active().length > 0 || paused) return false;
  const next = state.toRevert()[0];
  if (next === undefined) return true;
  const s = state.services[next]!;
  if (s.blockedBy !== undefined) return false;
  if (s.previousTaskDefinition === undefined) {
    state.set(next, 'revert-failed', { reason: 'no previous task definition was recorded for it' });
    return false;
  }
  await startDeploy(ctx, next, { release: `release-${state.id}`, wave: 0, by: rollback.by, reason: rollback.reason }, true);
  return false;
}
