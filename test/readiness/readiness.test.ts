import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { CapacityStatus } from '../../contracts/capacity/messages';
import type { ReadinessStatus } from '../../contracts/readiness/messages';
import { FakeCloud } from '../capacity/fake-cloud';
import { createTimeSkippingEnv, recordHistory } from '../harness/temporal';
import { level, SEC, units, untilStatus, withCluster } from './harness';

/**
 * Readiness windows on the time-skipping server, against the real capacity workflow over an
 * in-memory cluster: the floor is raised at start minus lead, ACTIVE before the start, held through
 * a spot reclaim, released after the end.
 */

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

const MIN = 60 * SEC;

describe('readiness window', () => {
  it('raises the floor at start minus lead, has it ACTIVE before the start, holds it through a spot reclaim, and releases it after the end', async () => {
    const cloud = new FakeCloud({ settings: { cooldownSeconds: 0 } });
    cloud.addInstance('spot-fleet-instant');
    cloud.addInstance('spot-fleet-instant');
    await withCluster(env, cloud, async (c) => {
      const w = await c.window('sale', level(), 10 * MIN, 20 * MIN);
      const waiting = await untilStatus<ReadinessStatus>(w, 'the window to wait', (s) => s.phase === 'waiting');
      expect(units(cloud).all).toBe(2);
      expect(Date.parse(waiting.start) - Date.parse(waiting.raiseAt)).toBe(300 * SEC);

      await env.sleep(5 * MIN + SEC);
      const ready = await untilStatus<ReadinessStatus>(w, 'the floor to be ACTIVE', (s) => s.phase === 'ready');
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
});
