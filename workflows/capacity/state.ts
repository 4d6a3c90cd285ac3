import type { CapacitySnapshot, Market, PoolSettings } from '../../activities/capacity/types';
import type { DryRunCall } from '../../contracts/controls';
import type { CapacityRequest } from '../../contracts/capacity/input';
import { freshState, type CapacityCarriedState, type Cleanup } from './carried';
import type { CapacityDecision, CapacityStatus } from '../../contracts/capacity/messages';
import { observePools } from './observed';
import { capacityStatus } from './status';
import { activeMarks, addMark, addToBucket, describeBucket, emptyBucket, iso, markedOverrides, poolBlockedBy, type UnavailableMark } from './rules';

/**
 * The capacity workflow's long-lived state: pending requests (summed in buckets), unavailable marks,
 * counts, decisions. A plain class with no Temporal in it (the model is the samples'
 * `safe-message-handlers` ClusterManager): the workflow's handlers and phases call it, and
 * test/capacity/capacity-state.test.ts drives it without a server. Everything a continued run needs
 * is `carried` (carried.ts), plain JSON handed to continue-as-new.
 */

const KEEP_DECISIONS = 25;
const KEEP_DRY_RUN_CALLS = 100;
const KEEP_EVENT_IDS = 500;
/** Instances remembered as being replaced, or as chosen for scale-in. */
const KEEP_INSTANCE_IDS = 200;

export { iso };

/** What one plan acts on, taken out of the pending buckets. */
export interface PendingPlan {
  out: number;
  in: number;
  why: string;
  force: boolean;
}

export type RequestOutcome = 'accepted' | 'duplicate' | 'ignored';

export interface CapacityStateOptions {
  /** Epoch ms; Date.now() (workflow time inside the workflow). */
  now?: () => number;
  /** Called with every decision as it is recorded (the workflow logs it). */
  onDecision?: (d: Omit<CapacityDecision, 'at'>) => void;
}

export class CapacityState {
  readonly carried: CapacityCarriedState;
  /** The human-readable line `status` shows; set by the phases. */
  summary: string;
  /** The carried event ids as a set: 10,000 signals must each cost O(1). */
  private readonly seenEventIds: Set<string>;
  readonly now: () => number;

  constructor(
    readonly cluster: string,
    readonly dryRun: boolean,
    carried: CapacityCarriedState | undefined,
    private readonly opts: CapacityStateOptions = {},
  ) {
    // Runs recorded before a field existed carry none: the fresh defaults fill in.
    this.carried = carried ? { ...freshState(), ...carried } : freshState();
    this.summary = carried ? `continued (run ${this.carried.continuedRuns + 1})` : 'starting';
    this.seenEventIds = new Set(this.carried.recentEventIds);
    this.now = opts.now ?? (() => Date.now());
  }

  // ---- requests ----

  /** The `capacityRequest` handler: dedupes by event id, validates, and adds to a pending bucket. */
  receive(req: CapacityRequest): RequestOutcome {
    const st = this.carried;
    st.signalsReceived += 1;
    const eventId = req.source?.eventId;
    if (eventId) {
      if (this.seenEventIds.has(eventId)) {
        st.duplicates += 1;
        return 'duplicate';
      }
      this.seenEventIds.add(eventId);
      st.recentEventIds.push(eventId);
      if (st.recentEventIds.length > KEEP_EVENT_IDS * 2) {
        st.recentEventIds = st.recentEventIds.slice(-KEEP_EVENT_IDS);
        this.seenEventIds.clear();
        st.recentEventIds.forEach((id) => this.seenEventIds.add(id));
      }
    }
    const units = Number(req.units);
    if (!Number.isInteger(units) || units <= 0 || (req.direction !== 'out' && req.direction !== 'in')) {
      this.decide({ action: 'ignored', reason: `malformed request from ${req.source?.kind ?? 'unknown'}: ${JSON.stringify(req).slice(0, 200)}` });
      return 'ignored';
    }
    if (req.source.kind === 'drain' && req.source.instanceId && st.scaleInVictims.includes(req.source.instanceId)) {
      this.decide({ action: 'ignored', units, reason: `replacement asked by the scale-in drain of ${req.source.instanceId}: it leaves on purpose` });
      return 'ignored';
    }
    const who = `${req.source.kind}${req.source.alarmName ? ` ${req.source.alarmName}` : ''}${req.source.instanceId ? ` ${req.source.instanceId}` : ''}`;
    const reason = `${who}: ${req.reason}`;
    // Replacements for drains and forced requests do not wait for the cooldown: an instance is leaving.
    const now = req.source.kind === 'drain' || req.force === true;
    if (req.direction === 'out') {
      if (now) st.outNow = addToBucket(st.outNow, units, reason);
      else st.outDeferred = addToBucket(st.outDeferred, units, reason);
      if (req.source.kind === 'drain' && req.source.instanceId && !st.replacing.includes(req.source.instanceId)) {
        st.replacing = [...st.replacing, req.source.instanceId].slice(-KEEP_INSTANCE_IDS);
      }
    } else {
      if (now) st.inNow = addToBucket(st.inNow, units, reason);
      else st.inDeferred = addToBucket(st.inDeferred, units, reason);
      if (req.force) st.forceIn = true;
    }
    return 'accepted';
  }

  /** Takes what is runnable out of the buckets for one plan (deferred requests only after the cooldown). */
  takePending(): PendingPlan {
    const st = this.carried;
    st.plans += 1;
    const takeDeferred = this.cooledDown();
    const unmetDue = this.unmetDue();
    const out = st.outNow.units + (takeDeferred ? st.outDeferred.units : 0) + (unmetDue ? (st.unmet?.units ?? 0) : 0);
    const inn = st.inNow.units + (takeDeferred ? st.inDeferred.units : 0);
    const reasons = [st.outNow, takeDeferred ? st.outDeferred : emptyBucket(), st.inNow, takeDeferred ? st.inDeferred : emptyBucket()]
      .filter((b) => b.requests > 0)
      .map(describeBucket);
    if (unmetDue) reasons.push(`retrying ${st.unmet?.units} unmet units`);
    const force = st.forceIn;
    st.outNow = emptyBucket();
    st.inNow = emptyBucket();
    if (takeDeferred) {
      st.outDeferred = emptyBucket();
      st.inDeferred = emptyBucket();
    }
    if (unmetDue) st.unmet = undefined;
    if (st.inDeferred.units === 0 && st.inNow.units === 0) st.forceIn = false;
    return { out, in: inn, why: reasons.join(' | '), force };
  }

  /**
   * Puts units a failed plan had taken back into the pending buckets (as due now: they had passed
   * their cooldown), so a failed AWS step loses no request.
   */
  restorePending(direction: 'out' | 'in', units: number, why: string, force = false): void {
    if (units <= 0) return;
    const st = this.carried;
    const reason = `kept after a failed AWS step: ${why}`.slice(0, 300);
    if (direction === 'out') st.outNow = addToBucket(st.outNow, units, reason);
    else {
      st.inNow = addToBucket(st.inNow, units, reason);
      if (force) st.forceIn = true;
    }
  }

  /** Asks a scale-in, due now, of units a pool holds over what the plans asked (a withdrawn raise it filled anyway). */
  scaleInSurplus(units: number, reason: string): void {
    this.carried.inNow = addToBucket(this.carried.inNow, units, reason);
  }

  /** Keeps a shortfall no pool could deliver, to retry when the first unavailable mark expires. */
  deferUnmet(units: number): number {
    const now = this.now();
    const st = this.carried;
    const firstExpiry = Math.min(...activeMarks(st.marks, now).map((m) => m.until), now + (st.settings?.unavailableTtlSeconds ?? 180) * 1000);
    st.unmet = { units: (st.unmet?.units ?? 0) + units, notBefore: firstExpiry };
    st.unmetSince ??= now;
    return firstExpiry;
  }
  /** A plan ended with nothing unmet kept: the shortfall's age starts again at the next one. */
  unmetSettled(): void {
    if (this.carried.unmet === undefined) this.carried.unmetSince = undefined;
  }

  // ---- what is runnable when ----

  cooldownUntil(): number {
    const st = this.carried;
    return st.lastScaleAt !== undefined && st.settings ? st.lastScaleAt + st.settings.cooldownSeconds * 1000 : 0;
  }
  cooledDown(): boolean {
    return this.now() >= this.cooldownUntil();
  }
  unmetDue(): boolean {
    return this.carried.unmet !== undefined && this.now() >= this.carried.unmet.notBefore;
  }
  hasDeferred(): boolean {
    return this.carried.outDeferred.units > 0 || this.carried.inDeferred.units > 0;
  }
  /** Whether a plan can run now (not while a failing AWS step backs off). */
  runnable(): boolean {
    const st = this.carried;
    if (this.backingOff()) return false;
    return st.outNow.units > 0 || st.inNow.units > 0 || this.unmetDue() || (this.cooledDown() && this.hasDeferred());
  }
  /** A failing AWS step waits for its retry time. */
  backingOff(): boolean {
    return this.carried.failure !== undefined && this.now() < this.carried.failure.retryAt;
  }
  /** Earlier plans still owe steps, and they may run now. */
  cleanupsDue(): boolean {
    return (this.carried.cleanups?.length ?? 0) > 0 && !this.backingOff();
  }
  /** Requests are pending but must wait for the cooldown. */
  waitingForCooldown(): boolean {
    return !this.runnable() && this.hasDeferred();
  }
  returnToSpotDue(): boolean {
    return this.carried.nextReturnToSpotAt !== undefined && this.now() >= this.carried.nextReturnToSpotAt && !this.backingOff();
  }
  /** When the next thing is due without a new request (Infinity: nothing). */
  nextWakeAt(): number {
    const st = this.carried;
    // While backing off, nothing runs before the retry time.
    if (this.backingOff()) return st.failure!.retryAt;
    const times = [st.nextReturnToSpotAt ?? Infinity];
    if (this.hasDeferred()) times.push(this.cooldownUntil());
    if (st.unmet) times.push(st.unmet.notBefore);
    if (st.failure) times.push(st.failure.retryAt);
    return Math.min(...times);
  }
  /** The first return-to-spot check of a fresh workflow (a continued run keeps its own). */
  scheduleFirstReturnToSpot(): void {
    const st = this.carried;
    if (st.nextReturnToSpotAt === undefined && st.settings) st.nextReturnToSpotAt = this.now() + st.settings.returnToSpotEverySeconds * 1000;
  }
  scheduleNextReturnToSpot(): void {
    this.carried.nextReturnToSpotAt = this.now() + (this.carried.settings?.returnToSpotEverySeconds ?? 600) * 1000;
  }

  // ---- pools ----

  /** Takes in a fresh describeCapacity: settings, pool counts, and drops replaced instances that are gone. */
  applySnapshot(snap: CapacitySnapshot): void {
    const st = this.carried;
    st.settings = snap.settings;
    observePools(st, snap, this.now());
    // An instance that is gone no longer needs to be discounted.
    const present = new Set(snap.state.flatMap((p) => p.instances.map((i) => i.instanceId)));
    st.replacing = st.replacing.filter((id) => present.has(id));
  }
  /** Units in the cluster, not counting instances being replaced for drains. */
  totalUnits(snap: CapacitySnapshot): number {
    const st = this.carried;
    return snap.state.reduce((s, p) => s + p.instances.filter((i) => !st.replacing.includes(i.instanceId)).reduce((a, i) => a + i.weight, 0), 0);
  }
  /** The mark that keeps a pool from being asked now, if any. */
  blockedBy(pool: PoolSettings): UnavailableMark | undefined {
    return poolBlockedBy(pool, this.carried.marks, this.now());
  }
  markedOverrides(pool: PoolSettings) {
    return markedOverrides(pool, this.carried.marks, this.now());
  }
  /**
   * Marks a pool unavailable for `ttlMs`, or, given an offering (instance type, zone) and its market,
   * that offering for every pool of the market.
   */
  markUnavailable(pool: string, reason: string, ttlMs: number, offering?: { instanceType: string; availabilityZone?: string; market: Market }): void {
    const until = this.now() + ttlMs;
    const mark: UnavailableMark = offering
      ? { pool, market: offering.market, instanceType: offering.instanceType, ...(offering.availabilityZone ? { availabilityZone: offering.availabilityZone } : {}), until, reason }
      : { pool, until, reason };
    this.carried.marks = addMark(this.carried.marks, mark);
  }
  scaled(): void {
    this.carried.lastScaleAt = this.now();
  }
  /** The next scale-out step over the chain of runs (carried, so continue-as-new does not restart it). */
  nextPlanSeq(): number {
    this.carried.planSteps = (this.carried.planSteps ?? 0) + 1;
    return this.carried.planSteps;
  }
  addScaleInVictims(instanceIds: string[]): void {
    this.carried.scaleInVictims = [...this.carried.scaleInVictims, ...instanceIds].slice(-KEEP_INSTANCE_IDS);
  }

  // ---- steps owed by earlier plans ----

  addCleanup(c: Cleanup): void {
    const st = this.carried;
    const same = (x: Cleanup) => x.kind === c.kind && x.pool === c.pool && (c.kind !== 'remove' || (x.kind === 'remove' && x.instanceId === c.instanceId));
    st.cleanups = [...(st.cleanups ?? []).filter((x) => !same(x)), c];
  }
  doneCleanup(c: Cleanup): void {
    this.carried.cleanups = (this.carried.cleanups ?? []).filter((x) => x !== c);
  }

  // ---- record ----

  decide(d: Omit<CapacityDecision, 'at'>): void {
    this.carried.decisions = [...this.carried.decisions, { at: iso(this.now()), ...d }].slice(-KEEP_DECISIONS);
    this.opts.onDecision?.(d);
  }
  recordDryRun(call: DryRunCall | undefined): void {
    if (call) this.carried.dryRunCalls = [...this.carried.dryRunCalls, call].slice(-KEEP_DRY_RUN_CALLS);
  }

  status(phase: string): CapacityStatus {
    return capacityStatus(this, phase);
  }
}
