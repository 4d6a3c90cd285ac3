import type { Market, OverrideRef, PoolInstance, PoolSettings, PoolSnapshot } from '../../activities/capacity/types';

/**
 * Pure planning rules of the capacity workflow (unavailable marks, scale-in victims, pending
 * buckets), kept apart so they are tested without Temporal and the phases read as steps.
 */

export { iso } from '../../common/time';

/**
 * Capacity found unavailable, skipped until `until`. With `market` and `instanceType` it is an
 * offering (instance type, zone, market: Karpenter's insufficient-capacity cache) that every pool
 * of that market skips, whichever pool found it; without them, the pool `pool` as a whole. (Marks
 * recorded before offerings existed have a type but no market: they stay the pool's own.)
 */
export interface UnavailableMark {
  /** The pool that found it (and, for a pool-wide mark, the pool skipped). */
  pool: string;
  market?: Market;
  instanceType?: string;
  availabilityZone?: string;
  /** Epoch ms (workflow time). */
  until: number;
  reason: string;
}

export function activeMarks(marks: UnavailableMark[], now: number): UnavailableMark[] {
  return marks.filter((m) => m.until > now);
}

const isOffering = (m: UnavailableMark) => m.market !== undefined && m.instanceType !== undefined;

/** Adds or extends a mark; one mark per offering (market, type, zone), and one per pool otherwise. */
export function addMark(marks: UnavailableMark[], mark: UnavailableMark): UnavailableMark[] {
  const same = (m: UnavailableMark) =>
    isOffering(mark)
      ? isOffering(m) && m.market === mark.market && m.instanceType === mark.instanceType && m.availabilityZone === mark.availabilityZone
      : !isOffering(m) && m.pool === mark.pool && m.instanceType === mark.instanceType && m.availabilityZone === mark.availabilityZone;
  return [...marks.filter((m) => !same(m)), mark];
}

function overrideMarked(m: UnavailableMark, pool: PoolSettings, o: OverrideRef): boolean {
  const mine = isOffering(m) ? m.market === pool.market : m.pool === pool.name;
  return (
    mine &&
    m.instanceType === o.instanceType &&
    // A mark without a zone (the error did not name one) covers the type in every zone.
    (m.availabilityZone === undefined || m.availabilityZone === o.availabilityZone)
  );
}

/** Overrides of a pool (ec2-fleet's) that are marked unavailable now, by this pool or any pool of its market. */
export function markedOverrides(pool: PoolSettings, marks: UnavailableMark[], now: number): OverrideRef[] {
  const live = activeMarks(marks, now);
  return pool.overrides
    .filter((o) => live.some((m) => overrideMarked(m, pool, o)))
    .map((o) => ({ instanceType: o.instanceType, availabilityZone: o.availabilityZone }));
}

/**
 * Whether a pool can be asked now: no pool-wide mark, and for a pool with overrides (ec2-fleet) at
 * least one override left.
 * Returns the mark that blocks it, or undefined when usable.
 */
export function poolBlockedBy(pool: PoolSettings, marks: UnavailableMark[], now: number): UnavailableMark | undefined {
  const live = activeMarks(marks, now);
  const poolWide = live.find((m) => m.pool === pool.name && m.instanceType === undefined);
  if (poolWide) return poolWide;
  // Only kinds with overrides have any (describeCapacity gives the others none).
  if (pool.overrides.length > 0) {
    const marked = markedOverrides(pool, live, now);
    if (marked.length >= pool.overrides.length) {
      const last = live.filter((m) => pool.overrides.some((o) => overrideMarked(m, pool, o))).sort((a, b) => b.until - a.until)[0];
      return last ? { ...last, reason: `every instance type and zone unavailable (${last.reason})` } : undefined;
    }
  }
  return undefined;
}

export interface VictimChoice {
  victims: PoolInstance[];
  units: number;
  /** Instances passed over because they run standalone tasks. */
  sparedStandalone: string[];
  /** Instances passed over because their pool is at its minimum (an ASG's MinSize) and may not go lower. */
  sparedMinimum: string[];
}

/**
 * Scale-in victims: on-demand first, then the priciest spot (price per unit), never an instance that
 * runs standalone (batch) tasks unless forced. Only ACTIVE container instances are candidates: one
 * already DRAINING is leaving anyway. Takes whole instances whose weight fits what is left, so
 * scale-in never removes more than asked.
 */
export function chooseVictims(
  state: PoolSnapshot[],
  poolOrder: string[],
  units: number,
  opts: { force: boolean; market?: Market; exclude?: string[]; lowerMinimum?: string[] },
): VictimChoice {
  const exclude = new Set(opts.exclude ?? []);
  const candidates = state
    .flatMap((p) => p.instances)
    .filter((i) => i.containerStatus === 'ACTIVE' && i.state === 'running' && !exclude.has(i.instanceId))
    .filter((i) => !opts.market || i.market === opts.market);
  const sparedStandalone = opts.force ? [] : candidates.filter((i) => i.standaloneTasks > 0).map((i) => i.instanceId);
  const eligible = candidates.filter((i) => opts.force || i.standaloneTasks === 0);
  const poolRank = (i: PoolInstance) => poolOrder.indexOf(i.pool);
  const unitPrice = (i: PoolInstance) => (i.hourlyPrice ?? 0) / i.weight;
  eligible.sort(
    (a, b) =>
      (a.market === 'on-demand' ? 0 : 1) - (b.market === 'on-demand' ? 0 : 1) ||
      unitPrice(b) - unitPrice(a) ||
      // Without prices, later pools in the ladder are the dearer ones.
      poolRank(b) - poolRank(a) ||
      a.instanceId.localeCompare(b.instanceId),
  );
  // What each pool with a minimum may still give (Auto Scaling refuses to go below MinSize).
  const budget = new Map(
    state.filter((p) => p.minUnits !== undefined && !opts.lowerMinimum?.includes(p.name)).map((p) => [p.name, p.targetUnits - (p.minUnits ?? 0)]),
  );
  const victims: PoolInstance[] = [];
  const sparedMinimum: string[] = [];
  let left = units;
  for (const i of eligible) {
    if (left <= 0) break;
    if (i.weight > left) continue;
    const room = budget.get(i.pool);
    if (room !== undefined && i.weight > room) {
      sparedMinimum.push(i.instanceId);
      continue;
    }
    if (room !== undefined) budget.set(i.pool, room - i.weight);
    victims.push(i);
    left -= i.weight;
  }
  return { victims, units: units - left, sparedStandalone, sparedMinimum };
}

/** Requests waiting for a plan, summed per direction: 10,000 signals stay a few numbers. */
export interface PendingBucket {
  units: number;
  requests: number;
  /** The latest few reasons, for status and decisions. */
  reasons: string[];
}

export const emptyBucket = (): PendingBucket => ({ units: 0, requests: 0, reasons: [] });

export function addToBucket(b: PendingBucket, units: number, reason: string, keepReasons = 5): PendingBucket {
  return { units: b.units + units, requests: b.requests + 1, reasons: [...b.reasons, reason].slice(-keepReasons) };
}

export function describeBucket(b: PendingBucket): string {
  const more = b.requests > b.reasons.length ? ` (+${b.requests - b.reasons.length} more)` : '';
  return `${b.requests} request(s): ${b.reasons.join('; ')}${more}`;
}

/** FNV-1a, 32 bits, from `seed`: a stable digest workflow code can compute (no Node crypto in the sandbox). */
function fnv1a(text: string, seed: number): string {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/**
 * The CreateFleet ClientToken of one plan step in one pool: unique per plan across runs. EC2 answers
 * a repeated token with the first request's result (its instances), so a token reused by a later run
 * would bring back an old fleet's instances instead of launching new ones. The chain (workflow id and
 * the first run's id, which continue-as-new keeps and a new execution changes) and the pool go in
 * as a 64-bit digest, the step counter (carried across continue-as-new) in clear; at most 64
 * characters whatever the names' lengths (CreateFleet's limit).
 */
export function fleetClientToken(workflowId: string, firstRunId: string, step: number, pool: string): string {
  const key = `${workflowId}\u0000${firstRunId}\u0000${pool}`;
  return `fleetops-${fnv1a(key, 0x811c9dc5)}${fnv1a(key, 0x9747b28c)}-${step}`;
}
