import { Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { DrainActivities } from '../../activities/drain';
import { createSlotActivities } from '../../activities/drain/slots';
import { drainBudgetWorkflowId } from '../../common/workflow-ids';
import { abortUpdate, statusQuery } from '../../contracts/controls';
import type { DrainBudgetStatus } from '../../contracts/drain-budget/messages';
import type { DrainEvent } from '../../contracts/spot-drain/input';
import { drainEventSignal, type DrainStatus, type SpotDrainResult, type SpotDrainWorkflow } from '../../contracts/spot-drain/messages';
import { drainStartOptions } from '../../contracts/spot-drain/start';
import { untilValue } from '../../testkit/poll';
import { bundledWorkflows, createTimeSkippingEnv, recordHistory, uniqueTaskQueue } from '../harness/temporal';
import { createWorker } from '../harness/workers';
import { DRAIN_DEFAULTS, mockActivities } from './drain-mocks';

/**
 * The voluntary-drain budget held by the `drainBudget` workflow (time-skipping server): real drains
 * and the real budget workflow, the real slot activities (update-with-start through the worker's
 * client) against a fake cluster that records how many of its container instances are DRAINING at
 * once; every other drain activity mocked (drain-mocks.ts).
 */

let env: TestWorkflowEnvironment;
/**
 * A client that never unlocks time skipping. The budget run waits on no timer while no drain waits,
 * so time left unlocked (the time-skipping client's `result()` unlocks it) races to the run's 10-year
 * execution timeout. Time moves only by `advance` (env.sleep), and results are read with this client.
 */
let plain: Client;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
  plain = new Client({ connection: env.connection, namespace: 'default' });
});
afterAll(async () => {
  await env?.teardown();
});

let seq = 0;
const newInstanceId = (): string => `i-${(Date.now().toString(16) + (++seq).toString(16).padStart(4, '0')).padStart(17, '0').slice(-17)}`;
const newCluster = (): string => `budget-${Date.now().toString(36)}-${++seq}`;
const arnOf = (cluster: string, instanceId: string): string => `arn:aws:ecs:us-east-1:123456789012:container-instance/${cluster}/${instanceId}`;

/** A cluster's DRAINING container instances, and the most there were at once. */
class FakeCluster {
  readonly draining = new Set<string>();
  most = 0;
  failSetDraining = new Set<string>();
  async drainingIn(): Promise<string[]> {
    return [...this.draining];
  }
  async setDraining(_cluster: string, arn: string): Promise<true> {
    if (this.failSetDraining.has(arn)) throw ApplicationFailure.nonRetryable('ecs refused', 'AwsNotFound');
    this.draining.add(arn);
    this.most = Math.max(this.most, this.draining.size);
    return true;
  }
  gone(arn: string): void {
    this.draining.delete(arn);
  }
}

interface Setup {
  taskQueue: string;
  cluster: string;
  fake: FakeCluster;
  activities: DrainActivities;
}

function setup(budget: number): Setup {
  const taskQueue = uniqueTaskQueue('drain-budget');
  const cluster = newCluster();
  const fake = new FakeCluster();
  const { activities } = mockActivities({
    async resolveDrainTarget({ instanceId }) {
      const drain = { ...DRAIN_DEFAULTS, voluntaryDrainBudget: budget };
      return { found: true, cluster, containerInstanceArn: arnOf(cluster, instanceId), status: 'ACTIVE', instanceType: 'm5.large', runningTasks: 2, pendingTasks: 0, capacityUnits: 1, drain };
    },
    async waitForInstanceTasks() {
      // Long enough in real time for drains on both workers to overlap.
      await new Promise((r) => setTimeout(r, 150));
      return { tasksLeft: 0, running: 0, pending: 0 };
    },
    async terminateDrainedInstance({ instanceId }) {
      // Terminated: ECS no longer lists it DRAINING.
      fake.gone(arnOf(cluster, instanceId));
      return { dryRunCalls: [] };
    },
    ...createSlotActivities(() => fake, { budgetTaskQueue: taskQueue }),
  });
  return { taskQueue, cluster, fake, activities };
}

let builds = 0;
/** Each worker a build id of its own: one process may run two workers on a queue only so. */
const newWorker = (s: Setup): Promise<Worker> =>
  createWorker({
    connection: env.nativeConnection,
    taskQueue: s.taskQueue,
    ...bundledWorkflows(),
    activities: s.activities,
    workerDeploymentOptions: { version: { deploymentName: 'budget-test', buildId: `worker-${++builds}` }, useWorkerVersioning: false },
  });

async function rebalance(s: Setup, instanceId: string): Promise<WorkflowHandle<SpotDrainWorkflow>> {
  const e: DrainEvent = { kind: 'rebalance-recommendation', instanceId, eventId: `ev-${instanceId}`, eventTime: new Date(await env.currentTimeMs()).toISOString() };
  const start = drainStartOptions({ instanceId }, { why: e.kind });
  return env.client.workflow.signalWithStart<SpotDrainWorkflow, [DrainEvent]>(start.workflowType, { ...start, taskQueue: s.taskQueue, signal: drainEventSignal, signalArgs: [e] });
}

const budgetOf = (s: Setup) => env.client.workflow.getHandle(drainBudgetWorkflowId(s.cluster));
const budgetStatus = async (s: Setup): Promise<DrainBudgetStatus> => (await budgetOf(s).query(statusQuery)) as DrainBudgetStatus;
const budgetUntil = (s: Setup, what: string, done: (b: DrainBudgetStatus) => boolean) => untilValue(what, () => budgetStatus(s), done, { timeoutMs: 15_000, intervalMs: 50 });
const drainUntil = (h: WorkflowHandle, what: string, done: (d: DrainStatus) => boolean) =>
  untilValue(what, async () => (await h.query(statusQuery)) as DrainStatus, done, { timeoutMs: 15_000, intervalMs: 50 });
/** The drain's result, read without moving time (the drain must end without timers). */
const resultOf = async (h: WorkflowHandle): Promise<SpotDrainResult> => (await plain.workflow.getHandle(h.workflowId).result()) as SpotDrainResult;
const closed = async (h: WorkflowHandle): Promise<boolean> => (await plain.workflow.getHandle(h.workflowId).describe()).status.name !== 'RUNNING';

/** Moves workflow time on 15 s (a drain's budget retry) at a time until every drain has ended. */
async function advanceUntilClosed(handles: WorkflowHandle[], maxSteps = 40): Promise<SpotDrainResult[]> {
  for (let i = 0; i < maxSteps; i += 1) {
    if ((await Promise.all(handles.map(closed))).every(Boolean)) return Promise.all(handles.map(resultOf));
    await env.sleep(15_000);
  }
  throw new Error(`the drains did not end within ${maxSteps * 15} s of workflow time`);
}

const step = (r: SpotDrainResult, name: string) => r.steps.find((st) => st.name === name);

describe('drainBudget workflow (time-skipping): voluntary drains held to the budget across workers', () => {
  it('two workers racing seven rebalance drains with a budget of 2: never more than 2 DRAINING, all drained', async () => {
    const s = setup(2);
    const [a, b] = [await newWorker(s), await newWorker(s)];
    const results = await a.runUntil(
      b.runUntil(async () => {
        const handles = await Promise.all(Array.from({ length: 7 }, () => rebalance(s, newInstanceId())));
        const done = await advanceUntilClosed(handles);
        await recordHistory(handles[6]!, 'spot-drain', 'rebalance-budget-slot');
        const status = await budgetUntil(s, 'every slot given back', (x) => x.holders.length === 0);
        expect(status).toMatchObject({ cluster: s.cluster, budget: 2, waiters: [], counts: { granted: 7, released: 7 } });
        await budgetOf(s).executeUpdate(abortUpdate, { args: [{ reason: 'test over', by: 'jest' }] });
        await plain.workflow.getHandle(drainBudgetWorkflowId(s.cluster)).result();
        await recordHistory(budgetOf(s), 'drain-budget', 'race-of-seven');
        return done;
      }),
    );
    expect(results.map((r) => r.outcome)).toEqual(Array(7).fill('drained'));
    expect(s.fake.most).toBe(2);
    // The budget held some back: they waited their turn, then set DRAINING.
    const waited = results.filter((r) => step(r, 'wait-for-budget')?.status === 'done');
    expect(waited.length).toBeGreaterThanOrEqual(5);
    for (const r of results) expect(step(r, 'set-draining')).toMatchObject({ status: 'done', detail: expect.stringContaining('budget 2') });
  });

  it('gives its slot back when the drain fails, is aborted or is cancelled', async () => {
    const failing = newInstanceId();
    const aborted = newInstanceId();
    const cancelled = newInstanceId();
    const s = setup(1);
    const held = new Set([aborted, cancelled].map((i) => arnOf(s.cluster, i)));
    const s2 = { ...s, activities: setupHolding(s, held) };
    s.fake.failSetDraining.add(arnOf(s.cluster, failing));
    const worker = await newWorker(s2);
    await worker.runUntil(async () => {
      // Fails after its slot was granted (ECS refused DRAINING): missed, slot back.
      const failed = await resultOf(await rebalance(s, failing));
      expect(failed.outcome).toBe('deadline-missed');
      expect(failed.failure).toContain('ecs refused');
      await budgetUntil(s, 'the failed drain to give its slot back', (x) => x.holders.length === 0 && x.counts.released === 1);

      const h = await rebalance(s, aborted);
      await drainUntil(h, 'the drain to hold its slot and wait for tasks', (d) => d.tasksLeft === 3);
      expect((await budgetStatus(s)).holders.map((x) => x.instanceId)).toEqual([aborted]);
      await h.executeUpdate(abortUpdate, { args: [{ reason: 'drill', by: 'jest' }] });
      expect((await resultOf(h)).outcome).toBe('aborted');
      await budgetUntil(s, 'the aborted drain to give its slot back', (x) => x.holders.length === 0 && x.counts.released === 2);
      // An aborted drain leaves its instance DRAINING: it counts until it leaves.
      s.fake.gone(arnOf(s.cluster, aborted));

      const c = await rebalance(s, cancelled);
      await drainUntil(c, 'the next drain to hold the slot', (d) => d.tasksLeft === 3);
      await c.cancel();
      await resultOf(c).catch(() => undefined);
      const after = await budgetUntil(s, 'the cancelled drain to give its slot back', (x) => x.holders.length === 0 && x.counts.released === 3);
      expect(after.counts).toMatchObject({ granted: 3, released: 3 });
      await budgetOf(s).executeUpdate(abortUpdate, { args: [{ reason: 'test over', by: 'jest' }] });
    });
  });

  it('reclaims the slot of a drain that died holding it (terminated), and the waiting drain gets it', async () => {
    const dead = newInstanceId();
    const next = newInstanceId();
    const s = setup(1);
    const s2 = { ...s, activities: setupHolding(s, new Set([arnOf(s.cluster, dead)])) };
    const worker = await newWorker(s2);
    const result = await worker.runUntil(async () => {
      const h = await rebalance(s, dead);
      await drainUntil(h, 'the first drain to hold the slot', (d) => d.tasksLeft === 3);
      // Terminated: no code of its runs again, so it never gives the slot back; its instance goes.
      await h.terminate('drill: a drain that died');
      s.fake.gone(arnOf(s.cluster, dead));
      const waiting = await rebalance(s, next);
      await drainUntil(waiting, 'the next drain to wait for the budget', (d) => d.phase === 'waiting-for-budget');
      // The holder check is due 120 s after the grant; the waiting drain asks every 15 s.
      const [r] = await advanceUntilClosed([waiting]);
      const status = await budgetUntil(s, 'the drain to give its slot back', (x) => x.holders.length === 0);
      expect(status.counts).toMatchObject({ granted: 2, reclaimed: 1, released: 1 });
      await budgetOf(s).executeUpdate(abortUpdate, { args: [{ reason: 'test over', by: 'jest' }] });
      return r;
    });
    expect(result.outcome).toBe('drained');
    const wait = step(result, 'wait-for-budget')!;
    expect(wait).toMatchObject({ status: 'done' });
    // Reclaimed at the holder check (120 s after the grant), not at the dead drain's deadline.
    expect(Date.parse(wait.endedAt!) - Date.parse(wait.startedAt)).toBeLessThan(200_000);
  });

  it('an interruption warning is never held back by a spent budget', async () => {
    const holder = newInstanceId();
    const warned = newInstanceId();
    const s = setup(1);
    const s2 = { ...s, activities: setupHolding(s, new Set([arnOf(s.cluster, holder)])) };
    const worker = await newWorker(s2);
    await worker.runUntil(async () => {
      const h = await rebalance(s, holder);
      await drainUntil(h, 'the first drain to hold the slot', (d) => d.tasksLeft === 3);
      const e: DrainEvent = { kind: 'interruption-warning', instanceId: warned, eventId: `ev-w-${warned}`, eventTime: new Date(await env.currentTimeMs()).toISOString() };
      const start = drainStartOptions({ instanceId: warned }, { why: e.kind });
      const w = await env.client.workflow.signalWithStart<SpotDrainWorkflow, [DrainEvent]>(start.workflowType, { ...start, taskQueue: s.taskQueue, signal: drainEventSignal, signalArgs: [e] });
      const r = await resultOf(w);
      expect(r.outcome).toBe('drained');
      expect(step(r, 'wait-for-budget')).toBeUndefined();
      expect((await budgetStatus(s)).counts).toEqual({ granted: 1 });
      await h.executeUpdate(abortUpdate, { args: [{ reason: 'test over', by: 'jest' }] });
      await budgetOf(s).executeUpdate(abortUpdate, { args: [{ reason: 'test over', by: 'jest' }] });
    });
  });
});

/**
 * The setup's activities, but the instances in `held` keep three tasks (their drain holds the slot).
 * A drain whose status shows them has its wait activity behind it and sits in the pause before the
 * next: ended there, no activity of it is left running (the time-skipping server stops skipping time
 * for good when an activity of a terminated run completes).
 */
function setupHolding(s: Setup, held: Set<string>): DrainActivities {
  return {
    ...s.activities,
    async waitForInstanceTasks(input) {
      if (!held.has(input.containerInstanceArn)) return s.activities.waitForInstanceTasks(input);
      return { tasksLeft: 3, running: 3, pending: 0 };
    },
  };
}
