import type { DrainBudgetCarried, DrainSlotHolder, DrainSlotRelease, DrainSlotRequest, DrainSlotWaiter } from '../../contracts/drain-budget/input';
import type { DrainBudgetCount, DrainBudgetStatus, DrainSlotAnswer } from '../../contracts/drain-budget/messages';

/**
 * What a cluster's drain budget knows: the drains holding a slot, the drains waiting for one (in the
 * order they first asked), and the budget the last request named. No Temporal calls, so
 * test/drain/drain-budget-state.test.ts drives it without a server; workflow.ts wires the messages to it.
 *
 * A request is granted while holders + others + the waiters ahead of it stay below the budget.
 * `others` are the DRAINING container instances the request's sweep found that no holder has (an
 * interruption warning's, one an aborted drain left DRAINING): they count as they did when the budget
 * was a per-worker check. Holders count whether or not their instance is DRAINING yet, which is what
 * makes two drains racing from two workers unable to both take the last slot.
 */

/** A waiter that has not asked again for this long is gone (its drain asks every 5 or 15 s while it waits). */
export const WAITER_GONE_MS = 60_000;

export class BudgetState {
  readonly holders = new Map<string, DrainSlotHolder>();
  waiters: DrainSlotWaiter[] = [];
  budget: number | undefined;
  readonly counts: Partial<Record<DrainBudgetCount, number>>;

  constructor(
    readonly cluster: string,
    carried?: DrainBudgetCarried,
  ) {
    for (const h of carried?.holders ?? []) this.holders.set(h.workflowId, h);
    this.waiters = [...(carried?.waiters ?? [])];
    this.budget = carried?.budget;
    this.counts = { ...(carried?.counts ?? {}) };
  }

  private count(c: DrainBudgetCount, n = 1): void {
    this.counts[c] = (this.counts[c] ?? 0) + n;
  }

  /** The `acquireDrainSlot` update: grant, or say wait and remember the place in the queue. */
  acquire(req: DrainSlotRequest, now: number): DrainSlotAnswer {
    this.budget = req.budget;
    this.dropGoneWaiters(now);
    const iso = new Date(now).toISOString();
    const held = this.holders.get(req.workflowId);
    if (held && held.runId === req.runId) {
      // A retried activity, or the same drain asking again: the slot is its already.
      held.containerInstanceArn = req.containerInstanceArn;
      return this.answer(true, req);
    }
    // Only one run of a workflow id is open at a time: an older run's slot is this run's now.
    if (held) this.holders.delete(req.workflowId);
    const others = this.othersOf(req);
    const room = req.budget - this.holders.size - others;
    const place = this.waiters.findIndex((w) => w.workflowId === req.workflowId);
    const ahead = place < 0 ? this.waiters.length : place;
    if (ahead < room) {
      if (place >= 0) this.waiters.splice(place, 1);
      this.holders.set(req.workflowId, { workflowId: req.workflowId, runId: req.runId, instanceId: req.instanceId, containerInstanceArn: req.containerInstanceArn, grantedAt: iso });
      this.count('granted');
      return this.answer(true, req);
    }
    if (place >= 0) this.waiters[place]!.lastAskedAt = iso;
    else this.waiters.push({ workflowId: req.workflowId, instanceId: req.instanceId, firstAskedAt: iso, lastAskedAt: iso });
    this.count('refused');
    return { ...this.answer(false, req), ahead };
  }

  /** The `releaseDrainSlot` signal: the run's slot is free, and it waits no more. */
  release(r: DrainSlotRelease): void {
    const held = this.holders.get(r.workflowId);
    if (held && held.runId === r.runId) {
      this.holders.delete(r.workflowId);
      this.count('released');
    }
    this.waiters = this.waiters.filter((w) => w.workflowId !== r.workflowId);
  }

  /** Slots of runs that closed without giving them back (terminated, timed out, lost). */
  reclaim(workflowIds: string[]): void {
    for (const id of workflowIds) if (this.holders.delete(id)) this.count('reclaimed');
  }

  /** Holders checked: their runs are still open as of `now`. */
  checked(holders: DrainSlotHolder[], now: number): void {
    const iso = new Date(now).toISOString();
    for (const h of holders) {
      const cur = this.holders.get(h.workflowId);
      if (cur && cur.runId === h.runId) cur.checkedAt = iso;
    }
    this.count('checks');
  }

  dropGoneWaiters(now: number): void {
    this.waiters = this.waiters.filter((w) => Date.parse(w.lastAskedAt) + WAITER_GONE_MS > now);
  }

  /**
   * When the next holder check is due: only while a drain waits (a slot nobody waits for costs
   * nothing), at the earliest last check (or grant) plus `checkAfterMs`; undefined when none is.
   */
  nextCheckAt(checkAfterMs: number): number | undefined {
    if (this.waiters.length === 0 || this.holders.size === 0) return undefined;
    return Math.min(...[...this.holders.values()].map((h) => Date.parse(h.checkedAt ?? h.grantedAt) + checkAfterMs));
  }

  /** Holders whose check is due at `now`. */
  dueForCheck(now: number, checkAfterMs: number): DrainSlotHolder[] {
    return [...this.holders.values()].filter((h) => Date.parse(h.checkedAt ?? h.grantedAt) + checkAfterMs <= now);
  }

  carry(): DrainBudgetCarried {
    return { holders: [...this.holders.values()], waiters: this.waiters, ...(this.budget !== undefined ? { budget: this.budget } : {}), counts: this.counts };
  }

  status(phase: string): DrainBudgetStatus {
    const budget = this.budget === undefined ? 'no request yet' : `budget ${this.budget}`;
    return {
      phase,
      summary: `drain budget of ${this.cluster}: ${this.holders.size} slot(s) held, ${this.waiters.length} waiting (${budget})`,
      cluster: this.cluster,
      ...(this.budget !== undefined ? { budget: this.budget } : {}),
      holders: [...this.holders.values()],
      waiters: this.waiters,
      counts: this.counts,
    };
  }

  private othersOf(req: DrainSlotRequest): number {
    const held = new Set([...this.holders.values()].map((h) => h.containerInstanceArn));
    return new Set(req.draining.filter((arn) => arn !== req.containerInstanceArn && !held.has(arn))).size;
  }

  private answer(granted: boolean, req: DrainSlotRequest): DrainSlotAnswer {
    return { granted, holders: this.holders.size, others: this.othersOf(req), budget: req.budget };
  }
}
