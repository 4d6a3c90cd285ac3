import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { CapacityStatus } from '../../contracts/capacity/messages';
import { cancelUpdate, type ReadinessStatus } from '../../contracts/readiness/messages';
import { FakeCloud } from '../capacity/fake-cloud';
import { createTimeSkippingEnv, recordHistory } from '../harness/temporal';
import { level, SEC, skipUntilStatus, units, untilStatus, withCluster } from './harness';

/**
 * Readiness windows on the time-skipping server, against the real capacity workflow over an
 * in-memory cluster: the floor is raised at start minus lead, ACTIVE before the start, held through
 * a spot reclaim, released after the end.
 */

// A server per test: what one test leaves running (the capacity workflow, the drains of its return
// to spot, whose queue no worker here polls) kept the next test's first sleep from ever ending on a
// shared server.
let env: TestWorkflowEnvironment;
beforeEach(async () => {
  env = await createTimeSkippingEnv();
});
afterEach(async () => {
  await env?.teardown();
});

const MIN = 60 * SEC;

describe('readiness window', () => {
  it('raises the floor at start minus lead, has it ACTIVE before the start, holds it through a spot reclaim, and releases it after the end', async () => {
    const cloud = new FakeCloud({ settings: { cooldownSeconds: 0, returnToSpotEverySeconds: 100000 } });
    cloud.addInstance('spot-fleet-instant');
    cloud.addInstance('spot-fleet-instant');
    await withCluster(env, cloud, async (c) => {
      const w = await c.window('sale', level(), 10 * MIN, 20 * MIN);
      const waiting = await untilStatus<ReadinessStatus>(w, 'the window to wait', (s) => s.phase === 'waiting');
      expect(units(cloud).all).toBe(2);
      expect(Date.parse(waiting.start) - Date.parse(waiting.raiseAt)).toBe(300 * SEC);

      await env.sleep(5 * MIN + SEC);
      const ready = await skipUntilStatus<ReadinessStatus>(env, w, 'the floor to be ACTIVE', (s) => s.phase === 'ready');
      expect(ready).toMatchObject({ floorUnits: 6, onDemandUnits: 3 });
      expect(Date.parse(ready.reachedAt!)).toBeLessThan(Date.parse(ready.start));
      expect(units(cloud)).toEqual({ all: 6, onDemand: 3 });
      expect(cloud.notifications.map((n) => n.title)).toContain('readiness ' + c.cluster + ' level 3: floor ACTIVE before the window');

      await env.sleep(5 * MIN);
      await untilStatus<ReadinessStatus>(w, 'the window to start, frozen', (s) => s.phase === 'holding-frozen');

      // A spot reclaim takes one unit away: the capacity's floor check brings it back.
      const spot = cloud.pool('spot-fleet-instant');
      spot.instances = spot.instances.slice(1);
      expect(units(cloud).all).toBe(5);
      await env.sleep(61 * SEC);
      await untilStatus<CapacityStatus>(c.capacity(), 'the floor back after the reclaim', () => units(cloud).all >= 6);
      expect(units(cloud).onDemand).toBe(3);

      await env.sleep(10 * MIN);
      const done = (await w.result()) as ReadinessStatus;
      expect(done.phase).toBe('released');
      const cap = await untilStatus<CapacityStatus>(c.capacity(), 'the floor released', (s) => s.floor === undefined);
      expect(cap.decisions.some((d) => d.action === 'floor' && /released its floor/.test(d.reason))).toBe(true);
      // Released, not torn down: capacity scales in as demand says, not at once.
      expect(units(cloud).all).toBeGreaterThanOrEqual(6);
      await recordHistory(w, 'readiness', 'whole-life');
    });
  });
  it('escalates when no pool can deliver the floor: a notification at half the lead time, then a sev2 incident', async () => {
    const cloud = new FakeCloud({ settings: { cooldownSeconds: 0 } });
    cloud.addInstance('spot-fleet-instant');
    for (const p of cloud.pools) p.mode = 'capacity-error';
    await withCluster(env, cloud, async (c) => {
      const w = await c.window('short', level({ notify: [] }), 10 * MIN, 20 * MIN);
      await untilStatus<ReadinessStatus>(w, 'the window to wait', (s) => s.phase === 'waiting');

      await env.sleep(5 * MIN + SEC);
      const raising = await untilStatus<ReadinessStatus>(w, 'the floor asked for', (s) => s.phase === 'raising' && s.floorUnits === 6);
      expect(raising.escalated).toBeUndefined();

      // Half the lead time (150 s) after the raise: people are told, no incident yet.
      await env.sleep(150 * SEC);
      const told = await untilStatus<ReadinessStatus>(w, 'the notification', (s) => s.escalated?.notifiedAt !== undefined);
      expect(told.escalated?.incident).toBeUndefined();
      expect(cloud.notifications.map((n) => n.title)).toContain(`readiness ${c.cluster} level 3: floor not reached at half the lead time`);

      await env.sleep(75 * SEC);
      const escalated = await untilStatus<ReadinessStatus>(w, 'the incident', (s) => s.escalated?.incident !== undefined);
      expect(escalated.phase).toBe('raising');
      expect(cloud.incidents).toContainEqual(expect.objectContaining({ severity: 'sev2', title: `Readiness floor of ${c.cluster} not reached before its window` }));
      expect(units(cloud).all).toBe(1);

      await w.executeUpdate(cancelUpdate, { args: [{ by: 'test', reason: 'no capacity' }] });
      const done = (await w.result()) as ReadinessStatus;
      expect(done.phase).toBe('cancelled');
      await recordHistory(w, 'readiness', 'floor-not-reached');
    });
  });

  it('overlapping windows: the highest floor holds, and releasing one keeps the other\'s', async () => {
    const cloud = new FakeCloud({ settings: { cooldownSeconds: 0 } });
    cloud.addInstance('spot-fleet-instant');
    await withCluster(env, cloud, async (c) => {
      // Both raise at the same moment (5 min from now): their floors reach capacity together.
      const low = await c.window('low', level({ level: 2, floor: { units: 4 }, onDemandShare: 0, freezeDeploys: false }), 10 * MIN, 30 * MIN);
      const high = await c.window('high', level({ level: 4, floor: { units: 8 }, onDemandShare: 0 }), 10 * MIN, 20 * MIN);
      await env.sleep(5 * MIN + SEC);
      await skipUntilStatus<ReadinessStatus>(env, high, 'the high floor ACTIVE', (s) => s.phase === 'ready');
      await skipUntilStatus<ReadinessStatus>(env, low, 'the low floor ACTIVE', (s) => s.phase === 'ready');
      const both = await untilStatus<CapacityStatus>(c.capacity(), 'both floors held', (s) => s.floor?.windows.length === 2);
      expect(both.floor).toMatchObject({ units: 8, windows: [high.workflowId, low.workflowId] });
      expect(units(cloud).all).toBe(8);

      await high.executeUpdate(cancelUpdate, { args: [{ by: 'test' }] });
      expect(((await high.result()) as ReadinessStatus).phase).toBe('cancelled');
      const left = await untilStatus<CapacityStatus>(c.capacity(), 'the low floor alone', (s) => s.floor?.windows.length === 1);
      expect(left.floor).toMatchObject({ units: 4, windows: [low.workflowId] });

      await env.sleep(25 * MIN);
      expect(((await low.result()) as ReadinessStatus).phase).toBe('released');
      await untilStatus<CapacityStatus>(c.capacity(), 'no floor', (s) => s.floor === undefined);
      await recordHistory(low, 'readiness', 'overlapping');
    });
  });
});
