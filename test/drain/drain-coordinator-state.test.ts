import type { InterruptionNotice } from '../../contracts/drain-coordinator/input';
import { CoordinatorState } from '../../workflows/drain-coordinator/state';

/** The coordinator's state without a server: duplicates, expiry, and what it carries stays bounded. */

const T0 = Date.parse('2026-12-02T12:00:00Z');
const notice = (n: number, deadlineMs = T0 + 120_000): InterruptionNotice => ({
  instanceId: `i-${n.toString(16).padStart(17, '0')}`,
  eventId: `ev-${n}`,
  eventTime: new Date(T0).toISOString(),
  deadline: new Date(deadlineMs).toISOString(),
});

describe('drain coordinator state', () => {
  it('counts a notice for an instance waiting or handled as a duplicate, until well after its deadline', () => {
    const s = new CoordinatorState();
    s.add([notice(1), notice(2), notice(1)]);
    expect(s.pending.map((p) => p.eventId)).toEqual(['ev-1', 'ev-2']);
    expect(s.take(10, T0)).toHaveLength(2);
    s.add([notice(2)]);
    expect(s.counts).toMatchObject({ received: 4, duplicates: 2 });
    // Ten minutes after its deadline the instance is forgotten (an instance id is never reused that soon).
    expect(s.take(10, T0 + 120_000 + 10 * 60_000 + 1)).toEqual([]);
    s.add([notice(2, T0 + 24 * 3_600_000)]);
    expect(s.pending).toHaveLength(1);
  });

  it('takes at most the batch size, oldest first, and drops what expired', () => {
    const s = new CoordinatorState();
    s.add([notice(1, T0 - 1), ...Array.from({ length: 5 }, (_, i) => notice(i + 2))]);
    expect(s.take(3, T0).map((n) => n.eventId)).toEqual(['ev-2', 'ev-3', 'ev-4']);
    expect(s.counts.expired).toBe(1);
    expect(s.take(3, T0).map((n) => n.eventId)).toEqual(['ev-5', 'ev-6']);
  });

  it('drops notices whose deadline passed from what it carries, counting them expired', () => {
    const s = new CoordinatorState();
    s.add([notice(1, T0 - 1), notice(2, T0 + 60_000)]);
    const carried = s.carry(T0, true, true);
    expect(carried.pending.map((n) => n.eventId)).toEqual(['ev-2']);
    expect(carried.counts.expired).toBe(1);
    // Runs recorded before carried every notice.
    expect(new CoordinatorState().carry(T0, true).pending).toEqual([]);
  });

  it('carries pending notices, counts, pause and only the instances it must still recognise', () => {
    const s = new CoordinatorState();
    s.add(Array.from({ length: 1_000 }, (_, i) => notice(i, T0 + 120_000)));
    s.take(1_000, T0);
    s.add([notice(5_000, T0 + 3_600_000)]);
    s.take(10, T0);
    s.add([notice(6_000, T0 + 3_600_000)]);
    const later = T0 + 120_000 + 10 * 60_000 + 1;
    const carried = s.carry(later, true);
    expect(carried.handled.map((h) => h.instanceId)).toEqual([notice(5_000).instanceId]);
    expect(carried.pending.map((p) => p.eventId)).toEqual(['ev-6000']);
    expect(carried).toMatchObject({ paused: true, counts: { received: 1_002 } });
    const next = new CoordinatorState(carried);
    next.add([notice(5_000, T0 + 3_600_000)]);
    expect(next.counts.duplicates).toBe(1);
    expect(JSON.stringify(carried).length).toBeLessThan(1_000);
  });
});
