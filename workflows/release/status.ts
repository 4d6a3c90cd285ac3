import {
  RELEASE_SERVICE_STATES,
  type ReleaseOutcome,
  type ReleaseResult,
  type ReleaseServiceState,
  type ReleaseStatus,
  type WaveSummary,
} from '../../contracts/release/messages';
import type { ReleaseState } from './state';

/** What the release shows: its status (counts, the wave, the last wave's result), its summary line and its result. */

export function counts(state: ReleaseState): Record<ReleaseServiceState, number> {
  const out = Object.fromEntries(RELEASE_SERVICE_STATES.map((s) => [s, 0])) as Record<ReleaseServiceState, number>;
  for (const s of state.services) out[s.state] += 1;
  return out;
}

/** Wave `w` (0-based) as it stands: promoted, rolled back, failed and skipped services, with why. */
export function waveSummary(state: ReleaseState, w: number): WaveSummary {
  const members = state.waveMembers(w);
  const listed = (st: ReleaseServiceState) => state.inState([st], members).map((i) => ({ service: state.name(i), reason: state.services[i]!.reason ?? '' }));
  const approvedBy = state.approvalOf(w)?.by;
  return {
    wave: w + 1,
    size: members.length,
    ...(approvedBy ? { approvedBy } : {}),
    promoted: state.inState(['promoted', 'reverting', 'reverted', 'revert-failed'], members).map((i) => state.name(i)),
    rolledBack: listed('rolled-back'),
    failed: listed('failed'),
    skipped: listed('skipped'),
  };
}

const line = (w: WaveSummary): string =>
  `wave ${w.wave}: ${w.promoted.length} promoted, ${w.rolledBack.length} rolled back, ${w.failed.length} failed, ${w.skipped.length} skipped of ${w.size}`;

/** Why nothing new starts now, if something holds the release. */
export function waitingFor(state: ReleaseState, paused: boolean): string | undefined {
  if (paused) return 'paused: resume to go on';
  const frozen = state.freeze?.frozen ?? [];
  if (state.phase === 'frozen' && frozen.length > 0) return frozen.map((f) => f.reason).join('; ');
  const busy = state.inState(['waiting']);
  if (busy.length > 0) return busy.map((i) => `${state.name(i)}: ${state.services[i]!.reason ?? ''}`).slice(0, 5).join('; ');
  return undefined;
}

export function summary(state: ReleaseState, paused: boolean): string {
  const c = counts(state);
  const head = `${state.dryRun ? '[dry run] ' : ''}release ${state.id}`;
  const wave = `wave ${state.waveIndex + 1}/${state.waves.length}`;
  const why = waitingFor(state, paused);
  const last = state.waveIndex > 0 ? `; ${line(waveSummary(state, state.waveIndex - 1))}` : '';
  switch (state.phase) {
    case 'awaiting-approval': {
      // Between an accepted approval and the workflow's next step, say what happens next, not what it waited for.
      const given = state.approvalOf(state.waveIndex);
      if (given) return `${head}: ${wave} (${state.waveMembers().length} services) approved by ${given.by}; ${paused ? 'starts when resumed' : 'starts now'}${last}`;
      return `${head}: ${wave} (${state.waveMembers().length} services) waits for approveWave${last}`;
    }
    case 'deploying':
      return `${head}: ${wave} deploying: ${c.running} running, ${c.promoted} promoted, ${c.pending} pending${why ? `; waiting: ${why}` : ''}`;
    case 'frozen':
      return `${head}: ${wave} waits: ${why ?? 'a cluster is frozen'}`;
    case 'halted':
      return `${head} halted in ${wave}: ${state.halted?.reason ?? ''}; continue, skip <service>, rollback or abort`;
    case 'rolling-back':
      return `${head} rolling back (${state.rollback?.by ?? ''}: ${state.rollback?.reason ?? ''}): ${c.reverted} reverted, ${c['revert-failed']} failed, ${c.promoted} to go`;
    default:
      return `${head} ${state.phase}: ${c.promoted} promoted, ${c['rolled-back']} rolled back, ${c.failed} failed, ${c.skipped} skipped, ${c.reverted} reverted of ${state.services.length}`;
  }
}

export function releaseStatus(state: ReleaseState, paused: boolean, outcome?: ReleaseOutcome): ReleaseStatus {
  const current = state.phase === 'awaiting-approval' ? state.waveIndex - 1 : state.waveIndex;
  const why = waitingFor(state, paused);
  return {
    phase: state.phase,
    summary: summary(state, paused),
    dryRun: state.dryRun,
    release: state.id,
    change: state.input.change,
    ...(state.input.requestedBy !== undefined ? { requestedBy: state.input.requestedBy } : {}),
    wave: { current: state.waveIndex + 1, total: state.waves.length },
    counts: counts(state),
    ...(current >= 0 ? { lastWave: waveSummary(state, current) } : {}),
    ...(state.halted ? { halted: state.halted } : {}),
    ...(why ? { waitingFor: why } : {}),
    ...(state.rollback ? { rollback: state.rollback } : {}),
    services: state.services,
    decisions: state.decisions,
    continuedRuns: state.continuedRuns,
    ...(outcome ? { outcome } : {}),
  };
}

export function releaseResult(state: ReleaseState, outcome: ReleaseOutcome, reason: string): ReleaseResult {
  return { outcome, reason, release: state.id, counts: counts(state), services: state.services };
}
