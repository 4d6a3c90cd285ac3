import type { DrainSlotRequest } from '../../contracts/drain-budget/input';
import { BudgetState, WAITER_GONE_MS } from '../../workflows/drain-budget/state';

/** The budget's bookkeeping without a server: grants, the wait queue, others DRAINING, releases, checks, carry. */

const T0 = Date.parse('2026-01-01T00:00:00Z');
const arn = (n: number) => `arn:aws:ecs:us-east-1:123456789012:container-instance/demo/${n}`;
const iid = (n: number) => `i-${n.toString(16).padStart(17, '0')}`;
const req = (n: number, extra: Partial<DrainSlotRequest> = {}): DrainSlotRequest => ({
  workflowId: `drain-${iid(n)}`,
  runId: `run-${n}`,
  instanceId: iid(n),
  containerInstanceArn: arn(n),
  budget: 2,
  draining: [],
  ...extra,
});

describe('drain budget state', () => {
  it('grants up to the budget, then queues in order and grants the first waiter first', () => {
    const s = new BudgetState('demo');
    expect(s.acquire(req(1), T0)).toMatchObject({ granted: true, holders: 1 });
    expect(s.acquire(req(2), T0)).toMatchObject({ granted: true, holders: 2 });
    expect(s.acquire(req(3), T0)).toMatchObject({ granted: false, ahead: 0 });
    expect(s.acquire(req(4), T0)).toMatchObject({ granted: false, ahead: 1 });
    s.release({ workflowId: req(1).workflowId, runId: 'run-1' });
    // One slot free: the second waiter asking first still waits behind the first.
    expect(s.acquire(req(4), T0 + 1000)).toMatchObject({ granted: false, ahead: 1 });
    expect(s.acquire(req(3), T0 + 2000)).toMatchObject({ granted: true, holders: 2 });
    expect(s.waiters.map((w) => w.instanceId)).toEqual([iid(4)]);
    expect(s.counts).toEqual({ granted: 3, refused: 3, released: 1 });
  });

  it('asking again while holding is granted (a retried activity); a new run of the same drain takes the old run\'s slot', () => {
    const s = new BudgetState('demo');
    s.acquire(req(1), T0);
    s.acquire(req(2), T0);
    expect(s.acquire(req(1), T0 + 10)).toMatchObject({ granted: true, holders: 2 });
    expect(s.acquire(req(2, { runId: 'run-2b' }), T0 + 20)).toMatchObject({ granted: true, holders: 2 });
    expect(s.holders.get(req(2).workflowId)?.runId).toBe('run-2b');
    // The old run's release does not free the new run's slot.
    s.release({ workflowId: req(2).workflowId, runId: 'run-2' });
    expect(s.holders.size).toBe(2);
  });

  it('counts DRAINING instances no holder has against the budget, but not the holders\' own', () => {
    const s = new BudgetState('demo');
    s.acquire(req(1), T0);
    // 1 holds (its instance DRAINING), one warning's instance DRAINING: the budget of 2 is spent.
    expect(s.acquire(req(2, { draining: [arn(1), arn(99)] }), T0)).toMatchObject({ granted: false, holders: 1, others: 1 });
    expect(s.acquire(req(2, { draining: [arn(1)] }), T0 + 1)).toMatchObject({ granted: true, holders: 2, others: 0 });
    // Its own instance already DRAINING (a retried attempt) is not another.
    expect(s.acquire(req(2, { draining: [arn(2)] }), T0 + 2)).toMatchObject({ granted: true, others: 0 });
  });

  it('drops waiters that stopped asking; release withdraws a waiter', () => {
    const s = new BudgetState('demo');
    s.acquire(req(1, { budget: 1 }), T0);
    s.acquire(req(2, { budget: 1 }), T0);
    s.acquire(req(3, { budget: 1 }), T0);
    s.release({ workflowId: req(2).workflowId, runId: 'run-2' });
    expect(s.waiters.map((w) => w.instanceId)).toEqual([iid(3)]);
    s.dropGoneWaiters(T0 + WAITER_GONE_MS + 1);
    expect(s.waiters).toEqual([]);
  });

  it('checks holders only while a drain waits, each after checkAfter since its grant or last check; reclaims closed runs', () => {
    const s = new BudgetState('demo');
    s.acquire(req(1, { budget: 1 }), T0);
    expect(s.nextCheckAt(120_000)).toBeUndefined();
    s.acquire(req(2, { budget: 1 }), T0 + 5_000);
    expect(s.nextCheckAt(120_000)).toBe(T0 + 120_000);
    expect(s.dueForCheck(T0 + 119_999, 120_000)).toEqual([]);
    const due = s.dueForCheck(T0 + 120_000, 120_000);
    expect(due.map((h) => h.instanceId)).toEqual([iid(1)]);
    s.checked(due, T0 + 120_000);
    expect(s.nextCheckAt(120_000)).toBe(T0 + 240_000);
    s.reclaim([req(1).workflowId]);
    expect(s.acquire(req(2, { budget: 1 }), T0 + 240_000)).toMatchObject({ granted: true });
    expect(s.counts).toMatchObject({ reclaimed: 1, checks: 1 });
  });

  it('carries holders, waiters, budget and counts through continue-as-new', () => {
    const s = new BudgetState('demo');
    s.acquire(req(1, { budget: 1 }), T0);
    s.acquire(req(2, { budget: 1 }), T0);
    const next = new BudgetState('demo', JSON.parse(JSON.stringify(s.carry())));
    expect(next.status('holding')).toEqual(s.status('holding'));
    expect(next.acquire(req(2, { budget: 1 }), T0 + 1)).toMatchObject({ granted: false, ahead: 0 });
  });
});
