import type { WorkflowHandle, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';

import { abortUpdate, pauseUpdate, resumeUpdate, statusQuery } from '../../contracts/controls';
import { TASK_QUEUE_CRITICAL } from '../../common/task-queues';
import { capacityWorkflowId, drainWorkflowId } from '../../common/workflow-ids';
import type { CapacityRequest } from '../../contracts/capacity/input';
import { CAPACITY_WORKFLOW_TYPE } from '../../contracts/capacity/start';
import { capacityRequestSignal, type CapacityStatus, type CapacityWorkflow } from '../../contracts/capacity/messages';
import type { SpotDrainResult } from '../../contracts/spot-drain/messages';
import { FakeCloud, ladder } from './fake-cloud';
import { fakeDrainActivities } from './fake-drain';
import * as poll from '../../testkit/poll';
import { bundledWorkflows, createTimeSkippingEnv, recordHistory, uniqueTaskQueue } from '../harness/temporal';
import { createWorker } from '../harness/workers';

/**
 * The capacity workflow against an in-memory cluster (fake-cloud.ts beside this file) on the
 * time-skipping server. Scale-in victims are drained by the real `spotDrain` child on the
 * `fleetops-critical` queue, with its AWS steps faked here.
 */

const SEC = 1_000;
let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await createTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

let seq = 0;
const uniqueCluster = (name: string) => `${name}-${Date.now().toString(36)}-${++seq}`;

interface Run {
  handle: WorkflowHandleWithFirstExecutionRunId<CapacityWorkflow>;
  cluster: string;
  replacementRequests: string[];
}

async function withCapacity(cloud: FakeCloud, opts: { dryRun?: boolean; name: string; cluster?: string }, body: (run: Run) => Promise<void>): Promise<void> {
  const cluster = opts.cluster ?? uniqueCluster(opts.name);
  const taskQueue = uniqueTaskQueue('capacity');
  const replacementRequests: string[] = [];
  cloud.now = () => Date.now();
  const main = await createWorker({ connection: env.nativeConnection, taskQueue, ...bundledWorkflows(), activities: cloud.activities() });
  const critical = await createWorker({
    connection: env.nativeConnection,
    taskQueue: TASK_QUEUE_CRITICAL,
    ...bundledWorkflows(),
    activities: fakeDrainActivities(env.client, cluster, replacementRequests),
  });
  await main.runUntil(() =>
    critical.runUntil(async () => {
      const handle = await env.client.workflow.start<CapacityWorkflow>(CAPACITY_WORKFLOW_TYPE, {
        workflowId: capacityWorkflowId(cluster),
        taskQueue,
        args: [{ cluster, ...(opts.dryRun ? { dryRun: true } : {}) }],
      });
      await body({ handle, cluster, replacementRequests });
    }),
  );
}

/**
 * A query that lands while the run hands over to its continuation is asked again. Each ask has a
 * deadline: on the time-skipping server such a query was seen to go unanswered for 60-90 s (then
 * reset by the server) in full-suite runs, which made the continue-as-new case take minutes.
 */
async function status(handle: WorkflowHandle): Promise<CapacityStatus> {
  const ask = () => env.connection.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query(statusQuery)) as Promise<CapacityStatus>;
  return poll.until('the status query to answer', ask, { timeoutMs: 10 * SEC, intervalMs: 100 });
}

const QUERY_DEADLINE_MS = 3_000;

/** Polls `status` until `pred` holds (real time; activities run in real time). A status that cannot be read even after status()'s retries ends the wait. */
function until(handle: WorkflowHandle, pred: (s: CapacityStatus) => boolean, what: string, timeoutMs = 30 * SEC): Promise<CapacityStatus> {
  return poll.untilValue(what, () => status(handle), pred, { timeoutMs, intervalMs: 50, failOnError: true });
}

const hasDecision = (s: CapacityStatus, action: string, n = 1) => s.decisions.filter((d) => d.action === action).length >= n;

const alarm = (direction: 'out' | 'in', units: number, eventId: string): CapacityRequest => ({
  direction,
  units,
  reason: `scale-${direction} alarm`,
  source: { kind: 'alarm', alarmName: `demo-scale-${direction}`, eventId },
});

async function abortAndRecord(handle: WorkflowHandle<CapacityWorkflow>, caseName: string): Promise<CapacityStatus> {
  await handle.executeUpdate(abortUpdate, { args: [{ reason: 'test over', by: 'jest' }] });
  const result = await handle.result();
  expect(result.phase).toBe('aborted');
  expect(result.summary).toMatch(/No capacity request in flight/);
  await recordHistory(handle, 'capacity', caseName);
  return result;
}

describe('capacity workflow', () => {
  it('falls back down the pool ladder within seconds, marks failed pools, and tries spot again after the TTL', async () => {
    const cloud = new FakeCloud({ settings: { cooldownSeconds: 60 } });
    cloud.pool('spot-fleet-instant').mode = 'capacity-error';
    cloud.pool('spot-diversified').mode = 'no-fulfilment';
    await withCapacity(cloud, { name: 'fallback' }, async ({ handle }) => {
      await handle.signal(capacityRequestSignal, alarm('out', 3, 'evt-1'));
      // The pool's counts are refreshed right after the registration decision; wait for both.
      const s = await until(
        handle,
        (x) => hasDecision(x, 'registered') && x.pools.find((p) => p.name === 'on-demand')?.activeUnits === 3,
        'new instances ACTIVE',
      );

      expect(cloud.requests().map((c) => [c.pool, c.units])).toEqual([
        ['spot-fleet-instant', 3],
        ['spot-diversified', 3],
        ['on-demand', 3],
      ]);
      // The unfulfilled Spot Fleet raise is withdrawn so it cannot land on top of on-demand later.
      expect(cloud.calls.filter((c) => c.activity === 'setPoolTarget')).toEqual([expect.objectContaining({ pool: 'spot-diversified', target: 0 })]);
      expect(cloud.units('on-demand')).toBe(3);
      expect(s.unavailable.map((m) => [m.pool, m.instanceType ?? '*', m.availabilityZone ?? '*'])).toEqual(
        expect.arrayContaining([
          ['spot-fleet-instant', 'm5.large', 'us-east-1a'],
          ['spot-fleet-instant', 'm5a.large', 'us-east-1b'],
          ['spot-diversified', '*', '*'],
        ]),
      );
      const decided = (a: string, pool: string) => Date.parse(s.decisions.find((d) => d.action === a && d.pool === pool)!.at);
      // Fallback happens at once (the fake answers at once): on-demand is asked within seconds of spot's errors.
      expect(decided('pool-delivered', 'on-demand') - decided('pool-failed', 'spot-diversified')).toBeLessThan(5 * SEC);
      for (const m of s.unavailable) {
        expect(Date.parse(m.until) - decided('pool-failed', 'spot-diversified')).toBeLessThanOrEqual(180 * SEC + 5 * SEC);
      }
      expect(s.pools.find((p) => p.name === 'on-demand')).toMatchObject({ actualUnits: 3, activeUnits: 3 });

      // Still marked: the next request skips both spot pools without asking them.
      await handle.signal(capacityRequestSignal, { ...alarm('out', 1, 'evt-2'), force: true });
      await until(handle, (x) => hasDecision(x, 'registered', 2), 'second scale-out');
      expect(cloud.requests().slice(3).map((c) => c.pool)).toEqual(['on-demand']);

      // After the TTL, spot is tried again, with no override left out.
      cloud.pool('spot-fleet-instant').mode = 'ok';
      await env.sleep(181 * SEC);
      await handle.signal(capacityRequestSignal, alarm('out', 2, 'evt-3'));
      const after = await until(handle, (x) => hasDecision(x, 'registered', 3), 'scale-out after the TTL');
      expect(cloud.requests().slice(4)).toEqual([expect.objectContaining({ pool: 'spot-fleet-instant', units: 2, excluded: [] })]);
      expect(cloud.units('spot-fleet-instant')).toBe(2);
      expect(after.unavailable).toEqual([]);
      await abortAndRecord(handle, 'fallback-and-ttl');
    });
  });

  it('moves the rest to the next pool when a pool delivers part of the request', async () => {
    const cloud = new FakeCloud({ settings: { cooldownSeconds: 0 } });
    cloud.pool('spot-fleet-instant').mode = 'capacity-error';
    cloud.pool('spot-diversified').mode = 'fleet-error';
    await withCapacity(cloud, { name: 'fleet-error' }, async ({ handle }) => {
      await handle.signal(capacityRequestSignal, alarm('out', 2, 'e1'));
      const s = await until(handle, (x) => hasDecision(x, 'registered'), 'instances ACTIVE');
      expect(cloud.requests().map((c) => c.pool)).toEqual(['spot-fleet-instant', 'spot-diversified', 'on-demand']);
      expect(s.decisions.find((d) => d.action === 'pool-failed' && d.pool === 'spot-diversified')?.reason).toMatch(/allLaunchSpecsTemporarilyBlacklisted/);
      await abortAndRecord(handle, 'spot-fleet-error');
    });
  });

  it('keeps a shortfall no pool can deliver and retries it when the first mark expires', async () => {
    const cloud = new FakeCloud({ settings: { cooldownSeconds: 0 } });
    for (const p of cloud.pools) p.mode = 'capacity-error';
    await withCapacity(cloud, { name: 'unmet' }, async ({ handle }) => {
      await handle.signal(capacityRequestSignal, alarm('out', 2, 'e1'));
      const s = await until(handle, (x) => x.pending.unmet === 2, 'unmet shortfall');
      expect(s.unavailable).toHaveLength(4);
      expect(cloud.requests()).toHaveLength(3);
      cloud.pool('spot-fleet-instant').mode = 'ok';
      await env.sleep(181 * SEC);
      await until(handle, (x) => x.pending.unmet === 0 && hasDecision(x, 'registered'), 'retried shortfall');
      expect(cloud.units('spot-fleet-instant')).toBe(2);
      await abortAndRecord(handle, 'unmet-retried-after-ttl');
    });
  });

  it('gives every plan its own CreateFleet client token, also in a later execution and with a long pool name', async () => {
    const pools = ladder();
    pools[0]!.name = `spot-${'x'.repeat(70)}`;
    const cloud = new FakeCloud({ settings: { cooldownSeconds: 0 }, pools });
    const tokens: string[] = [];
    const cluster = uniqueCluster('token');
    for (const attempt of [1, 2]) {
      await withCapacity(cloud, { name: 'token', cluster }, async ({ handle }) => {
        await handle.signal(capacityRequestSignal, alarm('out', 1, `t${attempt}-1`));
        await until(handle, (x) => hasDecision(x, 'registered'), 'first plan');
        await handle.signal(capacityRequestSignal, alarm('out', 1, `t${attempt}-2`));
        await until(handle, (x) => hasDecision(x, 'registered', 2), 'second plan');
        await handle.executeUpdate(abortUpdate, { args: [{ reason: 'next execution', by: 'jest' }] });
        await handle.result();
      });
    }
    for (const r of cloud.requests()) tokens.push(r.clientToken ?? '');
    expect(tokens).toHaveLength(4);
    expect(new Set(tokens).size).toBe(4);
    for (const t of tokens) expect(t.length).toBeLessThanOrEqual(64);
  });

  it('never fails on a failing AWS step: shows the error, keeps the requests, backs off, notifies, opens an incident, and delivers once AWS answers', async () => {
    const cloud = new FakeCloud({ settings: { cooldownSeconds: 0, errorNotifyAfterSeconds: 60, errorIncidentAfterSeconds: 300 } });
    await withCapacity(cloud, { name: 'aws-error' }, async ({ handle }) => {
      await until(handle, (x) => x.pools.length === 3, 'first describe');
      cloud.failing = [{ activity: 'describeCapacity', type: 'AwsThrottled', message: 'ec2:DescribeInstances: RequestLimitExceeded (HTTP 503): Request limit exceeded.' }];
      await handle.signal(capacityRequestSignal, alarm('out', 2, 'e1'));
      const failing = await until(handle, (x) => x.error !== undefined, 'the error on status');
      expect(failing.phase).toBe('backing-off');
      expect(failing.pending.out).toBe(2);
      expect(failing.error?.message).toMatch(/describeCapacity: .*RequestLimitExceeded/);
      expect(Date.parse(failing.error!.retryAt) - Date.parse(failing.error!.since)).toBe(10 * SEC);
      expect((await handle.describe()).status.name).toBe('RUNNING');

      // The failure persists: retries back off (10, 20, 40, 80, 160 s), one notification after 60 s, an incident after 300 s.
      await env.sleep(320 * SEC);
      const stuck = await until(handle, (x) => x.error?.incident !== undefined, 'the incident', 60 * SEC);
      expect(stuck.error?.attempts).toBeGreaterThanOrEqual(5);
      expect(stuck.error?.notified).toBe(true);
      expect(cloud.notifications).toHaveLength(1);
      expect(cloud.incidents).toEqual([expect.objectContaining({ severity: 'sev2', title: expect.stringMatching(/cannot make progress/) })]);
      expect(stuck.pending.out).toBe(2);
      expect(cloud.requests()).toHaveLength(0);
      expect((await handle.describe()).status.name).toBe('RUNNING');

      cloud.failing = [];
      await env.sleep(301 * SEC);
      const done = await until(handle, (x) => hasDecision(x, 'registered') && x.error === undefined && x.phase === 'idle', 'capacity after recovery', 60 * SEC);
      expect(cloud.requests().map((c) => [c.pool, c.units])).toEqual([['spot-fleet-instant', 2]]);
      expect(done.pending.out).toBe(0);
      expect(hasDecision(done, 'recovered')).toBe(true);
      expect(cloud.notifications).toHaveLength(1);
      expect(cloud.incidents).toHaveLength(1);
      await abortAndRecord(handle, 'aws-error-backoff');
    });
  }, 180_000);

  it('stops a plan on a throttled pool request, keeps the undelivered units, and asks again after the backoff', async () => {
    const cloud = new FakeCloud({ settings: { cooldownSeconds: 0 } });
    cloud.pool('spot-fleet-instant').mode = 'capacity-error';
    await withCapacity(cloud, { name: 'throttled-pool' }, async ({ handle }) => {
      await until(handle, (x) => x.pools.length === 3, 'first describe');
      cloud.failing = [{ activity: 'requestPoolCapacity', type: 'AwsThrottled', message: 'ec2:ModifySpotFleetRequest: RequestLimitExceeded (HTTP 503)' }];
      await handle.signal(capacityRequestSignal, alarm('out', 2, 'e1'));
      const failing = await until(handle, (x) => x.error !== undefined, 'the error on status');
      expect(failing.pending.out).toBe(2);
      // Throttling is not the pool's fault: no pool is marked for it.
      expect(failing.unavailable).toEqual([]);
      cloud.failing = [];
      await env.sleep(11 * SEC);
      await until(handle, (x) => hasDecision(x, 'registered') && x.error === undefined, 'capacity after the backoff');
      expect(cloud.requests().map((c) => [c.pool, c.units])).toEqual([
        ['spot-fleet-instant', 2],
        ['spot-diversified', 2],
      ]);
      expect(cloud.units('spot-diversified')).toBe(2);
      await abortAndRecord(handle, 'aws-error-throttled-pool');
    });
  });

  it('keeps a drained victim owed when its removal fails, and takes it out once AWS answers', async () => {
    const cloud = new FakeCloud({ settings: { cooldownSeconds: 0, minUnits: 0 } });
    const od = cloud.addInstance('on-demand');
    await withCapacity(cloud, { name: 'owed-removal' }, async ({ handle }) => {
      cloud.failing = [{ activity: 'removePoolInstance', type: 'AwsThrottled', message: 'autoscaling:TerminateInstanceInAutoScalingGroup: Throttling (HTTP 400)' }];
      await handle.signal(capacityRequestSignal, { direction: 'in', units: 1, reason: 'quiet', source: { kind: 'cli' } });
      const failing = await until(handle, (x) => x.error !== undefined && x.cleanups === 1, 'the owed removal');
      expect(failing.decisions.some((d) => d.action === 'drain' && d.reason === `${od.instanceId} drained`)).toBe(true);
      expect(failing.pending.in).toBe(0);
      expect(cloud.units('on-demand')).toBe(1);
      cloud.failing = [];
      await env.sleep(11 * SEC);
      const done = await until(handle, (x) => x.cleanups === 0 && x.error === undefined && x.phase === 'idle', 'the removal after the backoff');
      expect(cloud.calls.filter((c) => c.activity === 'removePoolInstance').map((c) => c.instanceId)).toEqual([od.instanceId]);
      expect(cloud.units('on-demand')).toBe(0);
      expect(done.decisions.filter((d) => d.action === 'removed')).toHaveLength(1);
      await abortAndRecord(handle, 'aws-error-owed-removal');
    });
  });

  it('skips the instance types and zones a Spot Fleet reported blocked in every other spot pool', async () => {
    const [instant, fleet, od] = ladder();
    const cloud = new FakeCloud({ settings: { cooldownSeconds: 0 }, pools: [fleet!, instant!, od!] });
    cloud.pool('spot-diversified').mode = 'fleet-error';
    await withCapacity(cloud, { name: 'offering-cache' }, async ({ handle }) => {
      await handle.signal(capacityRequestSignal, alarm('out', 2, 'e1'));
      const s = await until(handle, (x) => hasDecision(x, 'registered'), 'instances ACTIVE');
      expect(cloud.requests().map((c) => [c.pool, c.excluded])).toEqual([
        ['spot-diversified', []],
        ['spot-fleet-instant', ['m5.large/us-east-1a']],
      ]);
      expect(s.unavailable.map((u) => [u.pool, u.market ?? '*', u.instanceType ?? '*', u.availabilityZone ?? '*'])).toEqual(
        expect.arrayContaining([
          ['spot-diversified', 'spot', 'm5.large', 'us-east-1a'],
          ['spot-diversified', '*', '*', '*'],
        ]),
      );
      await abortAndRecord(handle, 'offering-cache');
    });
  });

  it("serves a new request while the previous plan's instances boot", async () => {
    const cloud = new FakeCloud({ settings: { cooldownSeconds: 0 } });
    let release: () => void = () => undefined;
    cloud.bootGate = new Promise<void>((r) => (release = r));
    await withCapacity(cloud, { name: 'boot' }, async ({ handle }) => {
      await handle.signal(capacityRequestSignal, alarm('out', 2, 'b1'));
      await until(handle, (x) => x.booting?.units === 2, 'the first plan booting');
      await handle.signal(capacityRequestSignal, {
        direction: 'out',
        units: 1,
        reason: 'interruption-warning',
        source: { kind: 'drain', instanceId: 'i-0123456789abcdef0', eventId: 'd1' },
      });
      const s = await until(handle, (x) => x.booting?.units === 3, 'the second plan while the first boots', 10 * SEC);
      expect(cloud.requests().map((c) => c.units)).toEqual([2, 1]);
      expect(hasDecision(s, 'registered')).toBe(false);
      release();
      const done = await until(handle, (x) => hasDecision(x, 'registered', 2) && x.booting.units === 0 && x.phase === 'idle', 'both ACTIVE');
      expect(done.pools.find((p) => p.name === 'spot-fleet-instant')?.activeUnits).toBe(3);
      await abortAndRecord(handle, 'boot-beside-the-loop');
    });
  });

  it('coalesces requests that arrive together into one plan and records repeats once', async () => {
    const cloud = new FakeCloud();
    await withCapacity(cloud, { name: 'coalesce' }, async ({ handle }) => {
      const reqs: CapacityRequest[] = [1, 2, 3, 4, 5].map((n) => ({
        direction: 'out',
        units: 1,
        reason: `replacement ${n}`,
        source: { kind: 'drain', instanceId: `i-0000000000000000${n}`, eventId: `drain-${n}` },
      }));
      await Promise.all([...reqs, reqs[0]!, reqs[1]!].map((r) => handle.signal(capacityRequestSignal, r)));
      const s = await until(handle, (x) => hasDecision(x, 'registered'), 'coalesced scale-out');
      expect(cloud.requests().map((c) => [c.pool, c.units])).toEqual([['spot-fleet-instant', 5]]);
      expect(s.signalsReceived).toBe(7);
      expect(s.duplicates).toBe(2);
      expect(s.plans).toBe(1);
      await abortAndRecord(handle, 'coalescing');
    });
  });

  it('defers alarm requests until the cooldown ends but serves drain replacements at once', async () => {
    const cloud = new FakeCloud({ settings: { cooldownSeconds: 300 } });
    await withCapacity(cloud, { name: 'cooldown' }, async ({ handle }) => {
      await handle.signal(capacityRequestSignal, alarm('out', 2, 'a1'));
      await until(handle, (x) => hasDecision(x, 'registered'), 'first scale-out');
      await handle.signal(capacityRequestSignal, alarm('in', 1, 'a2'));
      const waiting = await until(handle, (x) => x.phase === 'cooldown', 'cooldown phase');
      expect(waiting.pending.in).toBe(1);
      expect(waiting.cooldownUntil).toBeDefined();

      await handle.signal(capacityRequestSignal, {
        direction: 'out',
        units: 1,
        reason: 'interruption-warning',
        source: { kind: 'drain', instanceId: 'i-0123456789abcdef0', eventId: 'd1' },
      });
      await until(handle, (x) => hasDecision(x, 'registered', 2), 'replacement during cooldown');
      expect(cloud.calls.filter((c) => c.activity === 'removePoolInstance')).toHaveLength(0);
      const replacementAt = cloud.requests()[1]!.at;

      await env.sleep(301 * SEC);
      const done = await until(handle, (x) => hasDecision(x, 'scale-in') && x.pending.in === 0 && x.phase === 'idle', 'deferred scale-in');
      const removed = cloud.calls.filter((c) => c.activity === 'removePoolInstance');
      expect(removed).toHaveLength(1);
      expect(done.decisions.find((d) => d.action === 'scale-in')?.reason).toMatch(/demo-scale-in/);
      expect(cloud.requests()[1]!.at).toBe(replacementAt);
      await abortAndRecord(handle, 'cooldown');
    });
  });

  it('scales in on-demand first, then the priciest spot, spares standalone tasks unless forced, and drains each victim as a child', async () => {
    const cloud = new FakeCloud({ settings: { cooldownSeconds: 0, minUnits: 0 } });
    const od = cloud.addInstance('on-demand', { instanceType: 'm5.large' });
    const cheap = cloud.addInstance('spot-diversified', { hourlyPrice: 0.03 });
    const pricey = cloud.addInstance('spot-fleet-instant', { hourlyPrice: 0.05 });
    const batch = cloud.addInstance('spot-diversified', { hourlyPrice: 0.08, standaloneTasks: 2 });
    await withCapacity(cloud, { name: 'scale-in' }, async ({ handle, replacementRequests }) => {
      await handle.signal(capacityRequestSignal, { direction: 'in', units: 3, reason: 'low utilisation', source: { kind: 'cli' } });
      const s = await until(handle, (x) => cloud.calls.filter((c) => c.activity === 'removePoolInstance').length === 3 && x.phase === 'idle', 'three victims removed');
      const removed = cloud.calls.filter((c) => c.activity === 'removePoolInstance').map((c) => c.instanceId);
      expect(new Set(removed)).toEqual(new Set([od.instanceId, pricey.instanceId, cheap.instanceId]));
      const scaleIn = s.decisions.find((d) => d.action === 'scale-in')!;
      expect(scaleIn.reason.indexOf(od.instanceId)).toBeLessThan(scaleIn.reason.indexOf(pricey.instanceId));
      expect(scaleIn.reason.indexOf(pricey.instanceId)).toBeLessThan(scaleIn.reason.indexOf(cheap.instanceId));
      expect(scaleIn.reason).toContain(`spared for standalone tasks: ${batch.instanceId}`);
      for (const v of [od, pricey, cheap]) {
        const drain = env.client.workflow.getHandle(drainWorkflowId(v.instanceId));
        const d = await drain.describe();
        expect(d.status.name).toBe('COMPLETED');
        expect(d.parentExecution?.workflowId).toBe(handle.workflowId);
        // A scale-in drain asks for no replacement: the instance leaves on purpose.
        const r = (await drain.result()) as SpotDrainResult;
        expect(r).toMatchObject({ outcome: 'drained', notDone: [] });
        expect(r.steps.find((st) => st.name === 'request-capacity')).toMatchObject({
          status: 'skipped',
          detail: 'scale-in: the capacity workflow chose this instance to leave',
        });
      }
      expect(replacementRequests).toEqual([]);
      expect(cloud.requests()).toHaveLength(0);
      // A victim that then gets a real rebalance or warning does ask; the capacity workflow does not re-add it.
      await handle.signal(capacityRequestSignal, {
        direction: 'out',
        units: 1,
        reason: `interruption-warning for ${od.instanceId}`,
        source: { kind: 'drain', instanceId: od.instanceId, eventId: `drain-${od.instanceId}` },
      });
      await until(handle, (x) => x.decisions.some((d) => d.reason.startsWith(`replacement asked by the scale-in drain of ${od.instanceId}`)), 'the ignored replacement');
      expect(cloud.requests()).toHaveLength(0);

      await handle.signal(capacityRequestSignal, { direction: 'in', units: 1, reason: 'empty the pool', source: { kind: 'cli' }, force: true });
      await until(handle, () => cloud.calls.filter((c) => c.activity === 'removePoolInstance').length === 4, 'forced victim');
      expect(cloud.calls.filter((c) => c.activity === 'removePoolInstance').at(-1)?.instanceId).toBe(batch.instanceId);
      await abortAndRecord(handle, 'scale-in-victims-and-child-drains');
    });
  });

  it("does not choose victims an ASG's min size keeps, and reports a removal the group refuses instead of counting it", async () => {
    const cloud = new FakeCloud({ settings: { cooldownSeconds: 0, minUnits: 0 } });
    cloud.pool('on-demand').minUnits = 1;
    const odA = cloud.addInstance('on-demand');
    const odB = cloud.addInstance('on-demand');
    const spot = cloud.addInstance('spot-diversified');
    await withCapacity(cloud, { name: 'asg-min' }, async ({ handle }) => {
      await handle.signal(capacityRequestSignal, { direction: 'in', units: 3, reason: 'quiet night', source: { kind: 'cli' } });
      const s = await until(handle, (x) => x.decisions.filter((d) => d.action === 'removed').length === 2 && x.phase === 'idle', 'two victims removed');
      const removed = cloud.calls.filter((c) => c.activity === 'removePoolInstance').map((c) => c.instanceId);
      expect(new Set(removed)).toEqual(new Set([odA.instanceId, spot.instanceId]));
      expect(s.decisions.find((d) => d.action === 'scale-in')?.reason).toContain(`spared at their group's min size: ${odB.instanceId}`);

      // The group's minimum went up behind fleetops's back: the removal is refused, reported, and not counted.
      cloud.pool('on-demand').minUnits = 0;
      cloud.failing = [{ activity: 'removePoolInstance', type: 'PoolAtMinimum', message: `Auto Scaling group demo-on-demand is at its min size: ${odB.instanceId} stays` }];
      await handle.signal(capacityRequestSignal, { direction: 'in', units: 1, reason: 'quieter', source: { kind: 'cli' } });
      const refused = await until(handle, (x) => x.decisions.some((d) => d.action === 'pool-failed' && d.reason.startsWith('scale-in step refused')) && x.phase === 'idle', 'the refusal');
      expect(refused.error).toBeUndefined();
      expect(refused.cleanups).toBe(0);
      expect(refused.decisions.filter((d) => d.action === 'removed')).toHaveLength(2);
      expect(cloud.units('on-demand')).toBe(1);
      await abortAndRecord(handle, 'asg-min-size');
    });
  });

  it('respects the minimum capacity', async () => {
    const cloud = new FakeCloud({ settings: { cooldownSeconds: 0, minUnits: 2 } });
    cloud.addInstance('on-demand');
    cloud.addInstance('on-demand');
    cloud.addInstance('spot-diversified');
    await withCapacity(cloud, { name: 'min' }, async ({ handle }) => {
      await handle.signal(capacityRequestSignal, { direction: 'in', units: 3, reason: 'quiet night', source: { kind: 'cli' } });
      await until(handle, () => cloud.calls.filter((c) => c.activity === 'removePoolInstance').length === 1, 'one victim');
      await handle.signal(capacityRequestSignal, { direction: 'in', units: 1, reason: 'still quiet', source: { kind: 'cli' } });
      const s = await until(handle, (x) => x.decisions.some((d) => d.reason.startsWith('at min 2 units')), 'min reached');
      expect(cloud.calls.filter((c) => c.activity === 'removePoolInstance')).toHaveLength(1);
      expect(s.pools.reduce((a, p) => a + p.actualUnits, 0)).toBe(2);
      await abortAndRecord(handle, 'min-capacity');
    });
  });

  it('returns to spot on its timer, one step at a time, and only while spot is available', async () => {
    const cloud = new FakeCloud({ settings: { stepUnits: 1, returnToSpotEverySeconds: 600, cooldownSeconds: 0 } });
    const odA = cloud.addInstance('on-demand');
    const odB = cloud.addInstance('on-demand');
    cloud.pool('spot-fleet-instant').mode = 'capacity-error';
    cloud.pool('spot-diversified').mode = 'capacity-error';
    await withCapacity(cloud, { name: 'return' }, async ({ handle }) => {
      // First tick: spot is still out; the attempt marks both pools and on-demand stays.
      await env.sleep(601 * SEC);
      await until(handle, (x) => x.unavailable.length >= 3, 'spot marked unavailable');
      expect(cloud.units('on-demand')).toBe(2);
      expect(cloud.requests().every((r) => r.pool !== 'on-demand')).toBe(true);

      cloud.pool('spot-fleet-instant').mode = 'ok';
      cloud.pool('spot-diversified').mode = 'ok';
      await env.sleep(600 * SEC);
      await until(handle, () => cloud.units('on-demand') === 1 && cloud.units('spot-fleet-instant') === 1, 'first step');
      await env.sleep(600 * SEC);
      const s = await until(handle, (x) => cloud.units('on-demand') === 0 && hasDecision(x, 'return-to-spot', 2) && x.phase === 'idle', 'second step');
      expect(cloud.units('spot-fleet-instant')).toBe(2);
      const removed = cloud.calls.filter((c) => c.activity === 'removePoolInstance').map((c) => c.instanceId);
      expect(new Set(removed)).toEqual(new Set([odA.instanceId, odB.instanceId]));
      expect(s.decisions.filter((d) => d.action === 'return-to-spot').at(-1)?.reason).toMatch(/moved 1 units from on-demand to spot/);
      await abortAndRecord(handle, 'return-to-spot');
    });
  }, 120_000);

  it('holds plans while paused and records mutating calls in a dry run', async () => {
    const cloud = new FakeCloud({ settings: { cooldownSeconds: 0 } });
    await withCapacity(cloud, { name: 'dry', dryRun: true }, async ({ handle }) => {
      expect(await handle.executeUpdate(pauseUpdate, { args: [{ by: 'jest' }] })).toMatchObject({ paused: true });
      await handle.signal(capacityRequestSignal, alarm('out', 2, 'p1'));
      // The request is taken (pending in status) but no plan runs while paused.
      const paused = await until(handle, (x) => x.paused === true && x.pending.requests > 0, 'request pending while paused');
      expect(paused.phase).not.toBe('scaling-out');
      expect(cloud.requests()).toHaveLength(0);
      expect(await handle.executeUpdate(resumeUpdate, { args: [{ by: 'jest' }] })).toMatchObject({ paused: false });
      const s = await until(handle, (x) => (x.dryRunCalls?.length ?? 0) > 0 && x.phase === 'idle', 'dry-run calls');
      expect(s.dryRun).toBe(true);
      expect(s.dryRunCalls?.[0]).toMatchObject({ action: 'ec2:CreateFleet' });
      expect(cloud.units('spot-fleet-instant')).toBe(0);
      await abortAndRecord(handle, 'pause-updates-and-dry-run');
    });
    // Two updates, a plan and an abort, each a worker round trip on a time-skipping server that two
    // other busy files share the cores with: it went past 60 s in two fresh-clone suites.
  }, 120_000);

  // Three thousand signals make three continue-as-new boundaries with signals racing each: enough to
  // lose or double a request if carrying were wrong. Scale itself is measured in bench/, not here.
  it('continues as new under 3,000 signals without losing or doubling a request', async () => {
    const cloud = new FakeCloud({ settings: { cooldownSeconds: 0, maxUnits: 100_000 } });
    cloud.pools.splice(1);
    await withCapacity(cloud, { name: 'can' }, async ({ handle }) => {
      const total = 3_000;
      // Small concurrent batches: each workflow task then handles tens of signals, as in production bursts.
      const batchSize = 50;
      let duplicates = 0;
      for (let start = 0; start < total; start += batchSize) {
        const batch: CapacityRequest[] = [];
        for (let i = start; i < start + batchSize; i++) batch.push(alarm('out', 1, `evt-${i}`));
        // A redelivered event in every batch must be counted once.
        batch.push(alarm('out', 1, `evt-${start}`));
        duplicates += 1;
        await Promise.all(batch.map((r) => handle.signal(capacityRequestSignal, r)));
        // Senders in production are many and slow; here one fast sender keeps at most a few batches in flight.
        const sent = start + batchSize + 1;
        await until(handle, (x) => x.signalsReceived >= sent - 4 * batchSize, `signal ${sent} handled`, 120 * SEC);
      }
      const requested = () => cloud.requests().reduce((s, c) => s + (c.units ?? 0), 0);
      const s = await until(handle, (x) => requested() === total && x.phase === 'idle' && x.pending.out === 0, 'all units requested', 300 * SEC);
      expect(s.signalsReceived).toBe(total + duplicates);
      expect(s.duplicates).toBe(duplicates);
      expect(s.continuedRuns).toBeGreaterThanOrEqual(1);
      expect(cloud.units('spot-fleet-instant')).toBe(total);

      // The first run ended in continue-as-new: its history is complete, bounded, and replays.
      const first = env.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId);
      const d = await first.describe();
      expect(d.status.name).toBe('CONTINUED_AS_NEW');
      expect(d.historyLength).toBeLessThan(6_000);
      await recordHistory(first, 'capacity', 'continue-as-new-3000-signals');
      // The start handle pins the first run; the abort goes to whichever run is current.
      await abortAndRecord(env.client.workflow.getHandle<CapacityWorkflow>(handle.workflowId), 'continue-as-new-last-run');
    });
  }, 600_000);

  // Last in the file: in full-suite runs the tests after it whose time skips were long hung (their
  // env.sleep never returned), though never when this file ran alone; the cause is not found yet.
  it('scales in what an ASG filled of a withdrawn raise after the plan took the shortfall elsewhere: the cluster ends at what was asked', async () => {
    const [instant, , asg] = ladder();
    const cloud = new FakeCloud({ settings: { cooldownSeconds: 60 }, pools: [asg!, instant!] });
    cloud.pool('on-demand').mode = 'fills-late';
    await withCapacity(cloud, { name: 'raised' }, async ({ handle }) => {
      await handle.signal(capacityRequestSignal, alarm('out', 2, 'evt-raised'));
      const s = await until(handle, (x) => hasDecision(x, 'removed', 2), 'the surplus scaled in');
      // Asked 2; the group delivered nothing in time, the EC2 Fleet delivered 2, then the group filled its 2.
      expect(cloud.requests().map((c) => [c.pool, c.units, c.target])).toEqual([
        ['on-demand', 2, 2],
        ['spot-fleet-instant', 2, 2],
      ]);
      expect(s.decisions.find((d) => d.action === 'withdrawn')).toMatchObject({ pool: 'on-demand', units: 2 });
      expect(s.decisions.find((d) => d.action === 'scale-in')).toMatchObject({ units: 2 });
      // The surplus leaves by drain and removal (on-demand first), not by the group's own choice.
      expect(cloud.units('on-demand') + cloud.units('spot-fleet-instant')).toBe(2);
      expect([cloud.units('on-demand'), cloud.pool('on-demand').target]).toEqual([0, 0]);
      // Leave nothing running for the file's next tests: the surplus drains (children on the critical
      // queue) end, and the capacity run is idle, before it is terminated.
      const victims = cloud.calls.filter((c) => c.activity === 'removePoolInstance').map((c) => c.instanceId!);
      for (const v of victims) await env.client.workflow.getHandle(drainWorkflowId(v)).result();
      await until(handle, (x) => x.phase === 'idle', 'the capacity run idle');
      await handle.terminate('test over');
    });
  });

});

