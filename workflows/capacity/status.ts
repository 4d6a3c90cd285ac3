import type { CapacityStatus } from '../../contracts/capacity/messages';
import { effectiveFloor } from '../../common/readiness-floor';
import { fallbackStatus } from './observed';
import { activeMarks, iso } from './rules';
import type { CapacityState } from './state';

/** What `status` answers (and the workflow returns), from the state as it is now. */
export function capacityStatus(state: CapacityState, phase: string): CapacityStatus {
  const st = state.carried;
  const now = state.now();
  const cooldownUntil = state.cooldownUntil();
  const f = st.failure;
  const floor = effectiveFloor(st.floors ?? [], now);
  const fallback = fallbackStatus(st, now);
  return {
    phase,
    summary: state.summary,
    cluster: state.cluster,
    ...(f
      ? {
          error: {
            step: f.step,
            message: f.message,
            since: iso(f.since),
            attempts: f.attempts,
            retryAt: iso(f.retryAt),
            notified: f.notified,
            ...(f.incident ? { incident: f.incident } : {}),
          },
        }
      : {}),
    cleanups: st.cleanups?.length ?? 0,
    booting: { units: (st.booting ?? []).reduce((s, b) => s + b.weight, 0), instances: st.booting?.length ?? 0 },
    dryRun: state.dryRun,
    dryRunCalls: st.dryRunCalls,
    pools: st.pools,
    ...(st.poolsAt !== undefined ? { poolsAt: iso(st.poolsAt) } : {}),
    unavailable: activeMarks(st.marks, now).map((m) => ({ ...m, until: iso(m.until) })),
    pending: {
      out: st.outNow.units + st.outDeferred.units,
      in: st.inNow.units + st.inDeferred.units,
      unmet: st.unmet?.units ?? 0,
      requests: st.outNow.requests + st.outDeferred.requests + st.inNow.requests + st.inDeferred.requests,
      ...(st.unmet && st.unmetSince !== undefined ? { unmetSince: iso(st.unmetSince) } : {}),
    },
    ...(fallback ? { fallback } : {}),
    ...(cooldownUntil > now ? { cooldownUntil: iso(cooldownUntil) } : {}),
    ...(st.nextReturnToSpotAt !== undefined ? { nextReturnToSpotAt: iso(st.nextReturnToSpotAt) } : {}),
    ...(floor.windowIds.length > 0 ? { floor: { units: floor.units, onDemandUnits: floor.onDemandUnits, windows: floor.windowIds } } : {}),
    decisions: st.decisions,
    signalsReceived: st.signalsReceived,
    duplicates: st.duplicates,
    plans: st.plans,
    continuedRuns: st.continuedRuns,
  };
}
