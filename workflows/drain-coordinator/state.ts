import type { DrainCoordinatorCarried, InterruptionNotice } from '../../contracts/drain-coordinator/input';
import type { SetDrainingAtOnceResult } from '../../activities/drain/types';
import type { CoordinatorCount, DrainCoordinatorStatus } from '../../contracts/drain-coordinator/messages';

/** Batches shown in status. */
const RECENT_BATCHES = 10;
/** An instance is remembered this long after its deadline, so a late copy of its warning is still a duplicate. */
const REMEMBER_AFTER_DEADLINE_MS = 10 * 60_000;

/**
 * What the coordinator knows: notices waiting, instances already handled (until shortly after their
 * deadline), and counts. No Temporal calls (test/drain/drain-coordinator-state.test.ts drives it).
 */
export class CoordinatorState {
  pending: InterruptionNotice[];
  inFlight = 0;
  private readonly handled: Map<string, number>;
  readonly counts: Partial<Record<CoordinatorCount, number>>;
  readonly recentBatches: DrainCoordinatorStatus['recentBatches'] = [];

  constructor(carried?: DrainCoordinatorCarried) {
    this.pending = [...(carried?.pending ?? [])];
    this.handled = new Map((carried?.handled ?? []).map((h) => [h.instanceId, Date.parse(h.deadline)]));
    this.counts = { ...(carried?.counts ?? {}) };
  }

  private count(what: CoordinatorCount, n = 1): void {
    this.counts[what] = (this.counts[what] ?? 0) + n;
  }

  /** Takes a batch's notices; an instance handled or waiting already is a duplicate. */
  add(notices: InterruptionNotice[]): void {
    const waiting = new Set(this.pending.map((p) => p.instanceId));
    for (const n of notices) {
      this.count('received');
      if (this.handled.has(n.instanceId) || waiting.has(n.instanceId)) this.count('duplicates');
      else {
        this.pending.push(n);
        waiting.add(n.instanceId);
      }
    }
  }

  /**
   * Up to `max` notices to send now, marked handled. One whose deadline has passed is dropped: the
   * instance is gone, and its drain has recorded the miss.
   */
  take(max: number, nowMs: number): InterruptionNotice[] {
    this.forget(nowMs);
    const live = this.pending.filter((n) => Date.parse(n.deadline) > nowMs);
    this.count('expired', this.pending.length - live.length);
    const batch = live.slice(0, max);
    this.pending = live.slice(max);
    for (const n of batch) this.handled.set(n.instanceId, Date.parse(n.deadline));
    return batch;
  }

  record(result: SetDrainingAtOnceResult, nowMs: number): void {
    this.count('batches');
    for (const i of result.instances) this.count(i.outcome);
    const of = (o: string) => result.instances.filter((i) => i.outcome === o).length;
    this.remember({ at: new Date(nowMs).toISOString(), instances: result.instances.length, draining: of('draining'), failed: of('failed') });
  }

  /** The batch's call failed after its retries: every instance is left to its own drain. */
  recordFailure(size: number, error: string, nowMs: number): void {
    this.count('batches');
    this.count('failed', size);
    this.remember({ at: new Date(nowMs).toISOString(), instances: size, draining: 0, failed: size, error });
  }

  private remember(batch: DrainCoordinatorStatus['recentBatches'][number]): void {
    this.recentBatches.unshift(batch);
    this.recentBatches.length = Math.min(this.recentBatches.length, RECENT_BATCHES);
  }

  /** Drops instances whose deadline is long past, so the carried state stays bounded. */
  private forget(nowMs: number): void {
    for (const [id, deadline] of this.handled) if (deadline + REMEMBER_AFTER_DEADLINE_MS < nowMs) this.handled.delete(id);
  }

  /**
   * What the next run needs. `dropExpired`: notices whose deadline passed are left behind and counted
   * expired (their instances are gone), so a paused coordinator does not carry them through every
   * continue-as-new; runs recorded before carried them all.
   */
  carry(nowMs: number, paused: boolean, dropExpired = false): DrainCoordinatorCarried {
    this.forget(nowMs);
    if (dropExpired) {
      const live = this.pending.filter((n) => Date.parse(n.deadline) > nowMs);
      this.count('expired', this.pending.length - live.length);
      this.pending = live;
    }
    return {
      pending: this.pending,
      handled: [...this.handled].map(([instanceId, deadline]) => ({ instanceId, deadline: new Date(deadline).toISOString() })),
      counts: this.counts as Record<string, number>,
      ...(paused ? { paused } : {}),
    };
  }

  status(phase: string, paused: boolean): DrainCoordinatorStatus {
    const c = this.counts;
    const state = paused ? 'paused: warnings wait here while each drain sets its own instance DRAINING' : `${this.pending.length} waiting, ${this.inFlight} batch(es) in flight`;
    return {
      phase,
      summary: `${state}; ${c.draining ?? 0} set DRAINING ahead of their drains, ${c['already-draining'] ?? 0} were already, ${c.failed ?? 0} left to their drains, ${c.duplicates ?? 0} duplicates of ${c.received ?? 0} warnings`,
      pending: this.pending.length,
      inFlight: this.inFlight,
      counts: { ...c },
      recentBatches: [...this.recentBatches],
    };
  }
}
