import type { CapacitySnapshot, PoolInstance } from '../../activities/capacity/types';
import type { CapacityRequest } from '../../contracts/capacity/input';
import type { CapacityDecision } from '../../contracts/capacity/messages';
import { PLAN_STEP, recordFailure, recovered } from '../../workflows/capacity/failure';
import { CapacityState } from '../../workflows/capacity/state';
import { DEFAULT_SETTINGS, ladder } from './fake-cloud';

/**
 * The capacity workflow's state (workflows/capacity/state.ts) driven directly: no Temporal server,
 * no workflow sandbox, a clock the test moves.
 */

const T0 = Date.parse('2026-01-01T00:00:00Z');
const SEC = 1_000;

function make(opts: { dryRun?: boolean } = {}) {
  let now = T0;
  const logged: Omit<CapacityDecision, 'at'>[] = [];
  const state = new CapacityState('demo', opts.dryRun === true, undefined, { now: () => now, onDecision: (d) => logged.push(d) });
  return { state, logged, advance: (ms: number) => void (now += ms), now: () => now };
}

const alarm = (direction: 'out' | 'in', units: number, eventId?: string): CapacityRequest => ({
  direction,
  units,
  reason: `scale-${direction} alarm`,
  source: { kind: 'alarm', alarmName: `demo-scale-${direction}`, ...(eventId ? { eventId } : {}) },
});
const drain = (instanceId: string, units = 1): CapacityRequest => ({
  direction: 'out',
  units,
  reason: 'interruption-warning',
  source: { kind: 'drain', instanceId, eventId: `drain-${instanceId}` },
});

function instance(instanceId: string, pool: string, weight = 1): PoolInstance {
  return { instanceId, pool, instanceType: 'm5.large', market: 'spot', weight, state: 'running', containerStatus: 'ACTIVE', standaloneTasks: 0 };
}

function snapshot(instances: PoolInstance[], settings = DEFAULT_SETTINGS): CapacitySnapshot {
  const pools = ladder();
  return {
    cluster: 'demo',
    settings,
    pools,
    state: pools.map((p) => {
      const mine = instances.filter((i) => i.pool === p.name);
      const units = mine.reduce((s, i) => s + i.weight, 0);
      return { name: p.name, kind: p.kind, market: p.market, targetUnits: units, actualUnits: units, activeUnits: units, instances: mine };
    }),
  };
}

describe('capacity state', () => {
  it('starts fresh, or says which continued run it is', () => {
    const { state } = make();
    expect(state.summary).toBe('starting');
    expect(state.runnable()).toBe(false);
    expect(state.nextWakeAt()).toBe(Infinity);
    const carried = { ...state.carried, continuedRuns: 2 };
    expect(new CapacityState('demo', false, carried).summary).toBe('continued (run 3)');
  });

  it('sums requests into buckets: alarms wait for the cooldown, drains and forced requests do not', () => {
    const { state, advance } = make();
    state.applySnapshot(snapshot([]));
    state.scaled(); // cooldown runs from now
    expect(state.receive(alarm('out', 2, 'a1'))).toBe('accepted');
    expect(state.receive(alarm('out', 1, 'a2'))).toBe('accepted');
    expect(state.runnable()).toBe(false);
    expect(state.waitingForCooldown()).toBe(true);
    expect(state.nextWakeAt()).toBe(state.cooldownUntil());
    expect(state.status('cooldown').pending).toEqual({ out: 3, in: 0, unmet: 0, requests: 2 });

    expect(state.receive(drain('i-0123456789abcdef0'))).toBe('accepted');
    expect(state.runnable()).toBe(true);
    expect(state.carried.replacing).toEqual(['i-0123456789abcdef0']);

    // Before the cooldown a plan takes only what does not wait for it.
    expect(state.takePending()).toMatchObject({ out: 1, in: 0, force: false });
    expect(state.status('idle').pending).toMatchObject({ out: 3, requests: 2 });

    advance(DEFAULT_SETTINGS.cooldownSeconds * SEC);
    expect(state.runnable()).toBe(true);
    const plan = state.takePending();
    expect(plan).toMatchObject({ out: 3, in: 0 });
    expect(plan.why).toMatch(/^2 request\(s\): alarm demo-scale-out: scale-out alarm; alarm demo-scale-out: scale-out alarm$/);
    expect(state.status('idle').pending).toEqual({ out: 0, in: 0, unmet: 0, requests: 0 });
    expect(state.carried.plans).toBe(2);
  });

  it('nets out and in, and keeps force for a scale-in still waiting', () => {
    const { state } = make();
    state.receive({ ...alarm('in', 2), force: true });
    state.receive(alarm('out', 1));
    const plan = state.takePending();
    expect(plan).toMatchObject({ out: 1, in: 2, force: true });
    expect(state.carried.forceIn).toBe(false);
  });

  it('counts a repeated event id once, and keeps the id window bounded', () => {
    const { state } = make();
    expect(state.receive(alarm('out', 1, 'same'))).toBe('accepted');
    expect(state.receive(alarm('out', 1, 'same'))).toBe('duplicate');
    expect(state.carried).toMatchObject({ signalsReceived: 2, duplicates: 1 });
    for (let i = 0; i < 1_001; i++) state.receive(alarm('out', 1, `e${i}`));
    expect(state.carried.recentEventIds.length).toBeLessThanOrEqual(1_000);
    // Ids still in the window are still recognised after the trim.
    expect(state.receive(alarm('out', 1, 'e1000'))).toBe('duplicate');
  });

  it('ignores malformed requests and the replacement asked by its own scale-in drains, with a decision', () => {
    const { state, logged } = make();
    expect(state.receive({ ...alarm('out', 1), units: 0 })).toBe('ignored');
    state.addScaleInVictims(['i-0000000000000000a']);
    expect(state.receive(drain('i-0000000000000000a'))).toBe('ignored');
    expect(logged.map((d) => d.action)).toEqual(['ignored', 'ignored']);
    expect(state.carried.decisions.map((d) => d.reason)).toEqual([
      expect.stringMatching(/^malformed request from alarm/),
      expect.stringMatching(/scale-in drain of i-0000000000000000a: it leaves on purpose/),
    ]);
    expect(state.runnable()).toBe(false);
  });

  it('marks pools and overrides unavailable for a TTL; an ec2-fleet pool is blocked once every override is marked', () => {
    const { state, advance } = make();
    const [fleet, spotFleet] = ladder();
    state.markUnavailable(spotFleet!.name, 'SpotFleetUnfulfilled', 180 * SEC);
    expect(state.blockedBy(spotFleet!)).toMatchObject({ pool: 'spot-diversified', reason: 'SpotFleetUnfulfilled' });

    state.markUnavailable(fleet!.name, 'InsufficientInstanceCapacity: m5.large', 180 * SEC, { instanceType: 'm5.large', availabilityZone: 'us-east-1a', market: 'spot' });
    expect(state.blockedBy(fleet!)).toBeUndefined();
    expect(state.markedOverrides(fleet!)).toEqual([{ instanceType: 'm5.large', availabilityZone: 'us-east-1a' }]);
    advance(10 * SEC);
    state.markUnavailable(fleet!.name, 'InsufficientInstanceCapacity: m5a.large', 180 * SEC, { instanceType: 'm5a.large', market: 'spot' });
    expect(state.blockedBy(fleet!)?.reason).toMatch(/^every instance type and zone unavailable/);
    expect(state.status('idle').unavailable).toHaveLength(3);

    advance(175 * SEC); // the first two marks expire, the last one is still live
    expect(state.blockedBy(spotFleet!)).toBeUndefined();
    expect(state.blockedBy(fleet!)).toBeUndefined();
    expect(state.status('idle').unavailable).toEqual([
      { pool: fleet!.name, market: 'spot', instanceType: 'm5a.large', until: new Date(T0 + 190 * SEC).toISOString(), reason: 'InsufficientInstanceCapacity: m5a.large' },
    ]);
  });

  it('remembers unavailable capacity per instance type, zone and market: every pool of that market skips it, whichever pool found it', () => {
    const { state } = make();
    const [fleet] = ladder();
    const other = { ...fleet!, name: 'spot-other', overrides: [{ instanceType: 'm5.large', availabilityZone: 'us-east-1a', weight: 1 }, { instanceType: 'c5.large', availabilityZone: 'us-east-1a', weight: 1 }] };
    const onDemand = { ...other, name: 'od-fleet', market: 'on-demand' as const };
    // The Spot Fleet's history names m5.large in us-east-1a.
    state.markUnavailable('spot-diversified', 'allLaunchSpecsTemporarilyBlacklisted', 180 * SEC, { instanceType: 'm5.large', availabilityZone: 'us-east-1a', market: 'spot' });
    expect(state.markedOverrides(fleet!)).toEqual([{ instanceType: 'm5.large', availabilityZone: 'us-east-1a' }]);
    expect(state.markedOverrides(other)).toEqual([{ instanceType: 'm5.large', availabilityZone: 'us-east-1a' }]);
    // On-demand capacity of the same type is another offering.
    expect(state.markedOverrides(onDemand)).toEqual([]);
    state.markUnavailable('spot-other', 'InsufficientInstanceCapacity', 180 * SEC, { instanceType: 'c5.large', availabilityZone: 'us-east-1a', market: 'spot' });
    expect(state.blockedBy(other)?.reason).toMatch(/^every instance type and zone unavailable/);
    // One entry per offering in status, whichever pool reported it last.
    state.markUnavailable('spot-fleet-instant', 'InsufficientInstanceCapacity', 180 * SEC, { instanceType: 'm5.large', availabilityZone: 'us-east-1a', market: 'spot' });
    expect(state.status('idle').unavailable.map((u) => [u.market, u.instanceType, u.availabilityZone, u.pool])).toEqual([
      ['spot', 'c5.large', 'us-east-1a', 'spot-other'],
      ['spot', 'm5.large', 'us-east-1a', 'spot-fleet-instant'],
    ]);
  });

  it('backs off a failing AWS step (10 s doubling to 5 min) and ends the episode only when the failed step or a plan goes through, or nothing waits', () => {
    const { state, advance, now } = make();
    state.applySnapshot(snapshot([]));
    state.receive(drain('i-0000000000000000b', 2));
    state.takePending();
    state.restorePending('out', 2, 'replacement');
    const waits: number[] = [];
    for (let i = 0; i < 7; i++) {
      const f = recordFailure(state, PLAN_STEP, 'describeCapacity: RequestLimitExceeded');
      waits.push((f.retryAt - now()) / SEC);
      expect(state.runnable()).toBe(false);
      advance(f.retryAt - now());
      expect(state.runnable()).toBe(true);
    }
    expect(waits).toEqual([10, 20, 40, 80, 160, 300, 300]);
    expect(state.status('backing-off').error).toMatchObject({ attempts: 7, since: new Date(T0).toISOString() });
    expect(state.status('backing-off').pending.out).toBe(2);
    // An owed withdrawal going through while the 2 units still wait does not end the episode.
    recovered(state, 'finishing an earlier plan');
    expect(state.carried.failure?.attempts).toBe(7);
    recovered(state, PLAN_STEP);
    expect(state.carried.failure).toBeUndefined();
    expect(state.carried.decisions.at(-1)).toMatchObject({ action: 'recovered' });
  });

  it('retries an unmet shortfall when the first mark expires', () => {
    const { state, advance } = make();
    state.applySnapshot(snapshot([]));
    state.markUnavailable('on-demand', 'timeout', 60 * SEC);
    const retryAt = state.deferUnmet(3);
    expect(retryAt).toBe(T0 + 60 * SEC);
    expect(state.runnable()).toBe(false);
    expect(state.nextWakeAt()).toBe(retryAt);
    advance(60 * SEC);
    expect(state.runnable()).toBe(true);
    const plan = state.takePending();
    expect(plan).toMatchObject({ out: 3, why: 'retrying 3 unmet units' });
    expect(state.carried.unmet).toBeUndefined();
  });

  it('keeps how long a shortfall has been unmet across its retries, until a plan leaves none', () => {
    const { state, advance } = make();
    state.applySnapshot(snapshot([]));
    state.deferUnmet(3);
    expect(state.status('idle').pending).toMatchObject({ unmet: 3, unmetSince: '2026-01-01T00:00:00.000Z' });
    advance(180 * SEC);
    state.takePending();
    // The retry delivered 1 of 3: the 2 left are as old as the first shortfall.
    state.deferUnmet(2);
    expect(state.status('idle').pending).toMatchObject({ unmet: 2, unmetSince: '2026-01-01T00:00:00.000Z' });
    advance(180 * SEC);
    state.takePending();
    state.unmetSettled();
    expect(state.status('idle').pending.unmetSince).toBeUndefined();
    state.deferUnmet(1);
    expect(state.status('idle').pending.unmetSince).toBe('2026-01-01T00:06:00.000Z');
  });

  it('shows what each pool runs by type and zone with its spot price, when it read the pools, and on-demand fallback since when', () => {
    const { state, advance } = make();
    const spot = (id: string, zone: string, price: number, status = 'ACTIVE'): PoolInstance => ({ ...instance(id, 'spot-fleet-instant'), availabilityZone: zone, hourlyPrice: price, containerStatus: status });
    const od = (id: string): PoolInstance => ({ ...instance(id, 'on-demand'), market: 'on-demand' });
    state.applySnapshot(snapshot([spot('i-0000000000000000a', 'us-east-1a', 0.03), spot('i-0000000000000000b', 'us-east-1a', 0.03, 'REGISTERING'), spot('i-0000000000000000c', 'us-east-1b', 0.031)]));
    const s = state.status('idle');
    expect(s.poolsAt).toBe('2026-01-01T00:00:00.000Z');
    expect(s.pools[0]!.offerings).toEqual([
      { instanceType: 'm5.large', availabilityZone: 'us-east-1a', instances: 2, units: 2, activeInstances: 1, activeUnits: 1, spotPrice: 0.03 },
      { instanceType: 'm5.large', availabilityZone: 'us-east-1b', instances: 1, units: 1, activeInstances: 1, activeUnits: 1, spotPrice: 0.031 },
    ]);
    expect(s.fallback).toBeUndefined();
    advance(60 * SEC);
    state.applySnapshot(snapshot([od('i-0000000000000000d'), od('i-0000000000000000e')]));
    expect(state.status('idle').fallback).toEqual({ onDemandUnits: 2, floorUnits: 0, movableUnits: 2, since: '2026-01-01T00:01:00.000Z' });
    advance(60 * SEC);
    // Still on demand at the next read: the fallback keeps its start.
    state.applySnapshot(snapshot([od('i-0000000000000000d'), od('i-0000000000000000e')]));
    expect(state.status('idle').fallback?.since).toBe('2026-01-01T00:01:00.000Z');
    state.applySnapshot(snapshot([spot('i-0000000000000000a', 'us-east-1a', 0.03)]));
    expect(state.status('idle').fallback).toBeUndefined();
  });

  it('counts units without the instances being replaced, and forgets those that are gone', () => {
    const { state } = make();
    state.receive(drain('i-0000000000000000a'));
    const snap = snapshot([instance('i-0000000000000000a', 'spot-fleet-instant'), instance('i-0000000000000000b', 'on-demand', 2)]);
    state.applySnapshot(snap);
    expect(state.totalUnits(snap)).toBe(2);
    expect(state.status('idle').pools.map((p) => [p.name, p.actualUnits])).toEqual([
      ['spot-fleet-instant', 1],
      ['spot-diversified', 0],
      ['on-demand', 2],
    ]);
    state.applySnapshot(snapshot([instance('i-0000000000000000b', 'on-demand', 2)]));
    expect(state.carried.replacing).toEqual([]);
  });

  it('schedules return to spot from the settings, and shows cooldown and next check in status', () => {
    const { state, advance } = make({ dryRun: true });
    state.scheduleFirstReturnToSpot();
    expect(state.carried.nextReturnToSpotAt).toBeUndefined(); // no settings yet
    state.applySnapshot(snapshot([]));
    state.scheduleFirstReturnToSpot();
    expect(state.carried.nextReturnToSpotAt).toBe(T0 + DEFAULT_SETTINGS.returnToSpotEverySeconds * SEC);
    state.scaled();
    expect(state.status('idle')).toMatchObject({
      cluster: 'demo',
      dryRun: true,
      cooldownUntil: new Date(T0 + DEFAULT_SETTINGS.cooldownSeconds * SEC).toISOString(),
      nextReturnToSpotAt: new Date(T0 + DEFAULT_SETTINGS.returnToSpotEverySeconds * SEC).toISOString(),
    });
    advance(DEFAULT_SETTINGS.returnToSpotEverySeconds * SEC);
    expect(state.returnToSpotDue()).toBe(true);
    state.scheduleNextReturnToSpot();
    expect(state.returnToSpotDue()).toBe(false);
    expect(state.status('idle').cooldownUntil).toBeUndefined();
  });

  it('keeps the last 25 decisions and the last 100 dry-run calls', () => {
    const { state } = make();
    for (let i = 0; i < 30; i++) state.decide({ action: 'ignored', reason: `r${i}` });
    for (let i = 0; i < 120; i++) state.recordDryRun({ action: 'ec2:CreateFleet', params: { i } });
    state.recordDryRun(undefined);
    expect(state.carried.decisions).toHaveLength(25);
    expect(state.carried.decisions[0]).toMatchObject({ at: new Date(T0).toISOString(), reason: 'r5' });
    expect(state.carried.dryRunCalls).toHaveLength(100);
  });
});
