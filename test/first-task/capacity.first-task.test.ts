import type { WorkflowHandle } from '@temporalio/client';
import { abortUpdate, pauseSignal, pauseUpdate, resumeSignal, resumeUpdate, statusQuery } from '../../contracts/controls';
import { capacityStartOptions } from '../../contracts/capacity/start';
import type { CapacityRequest } from '../../contracts/capacity/input';
import type { CapacityCarriedState } from '../../workflows/capacity/carried';
import { capacityRequestSignal, readinessFloorSignal, type CapacityStatus } from '../../contracts/capacity/messages';
import { CapacityState } from '../../workflows/capacity/state';
import { FakeCloud } from '../capacity/fake-cloud';
import { uniqueTaskQueue } from '../harness/temporal';
import {
  accepted,
  expectSignalInFirstTask,
  expectUpdateInFirstTask,
  queryBeforeWorker,
  startOnly,
  startWithSignal,
  startWithUpdate,
  statusUntil,
  unique,
  useDevServer,
  withWorker,
  type StartOptions,
} from './first-task';

/**
 * Every message the capacity workflow accepts, delivered in the first workflow task of a new run and
 * of a run that continues a previous one (its input carries the state continue-as-new hands over):
 * the run answers it and goes on to serve capacity. The pools are test/capacity/fake-cloud.ts's.
 */

const devServer = useDevServer();

const alarm = (units: number, eventId: string): CapacityRequest => ({
  direction: 'out',
  units,
  reason: 'scale-out alarm',
  source: { kind: 'alarm', alarmName: 'demo-scale-out', eventId },
});

/**
 * What a run hands the next through continue-as-new, built by the workflow's own state class: the
 * pools described, one request served, one continued run counted (as the workflow counts it before
 * continuing).
 */
async function carriedState(cluster: string): Promise<CapacityCarriedState> {
  const s = new CapacityState(cluster, false, undefined);
  s.applySnapshot(await new FakeCloud().activities().describeCapacity({ cluster }));
  s.receive(alarm(1, 'ev-previous-run'));
  s.takePending();
  s.carried.continuedRuns += 1;
  // Through JSON, as it crosses continue-as-new.
  return JSON.parse(JSON.stringify(s.carried)) as CapacityCarriedState;
}

interface Case {
  cloud: FakeCloud;
  cluster: string;
  taskQueue: string;
  start: StartOptions;
  /** signalsReceived the run starts from. */
  signalsBefore: number;
}

async function newCase(continued: boolean): Promise<Case> {
  const cluster = unique('first-task');
  const taskQueue = uniqueTaskQueue('capacity-first-task');
  const carried = continued ? await carriedState(cluster) : undefined;
  const { workflowType, ...options } = capacityStartOptions(cluster);
  return {
    cloud: new FakeCloud({ settings: { cooldownSeconds: 0 } }),
    cluster,
    taskQueue,
    start: { workflowType, ...options, taskQueue, args: [{ cluster, ...(carried ? { carried } : {}) }] },
    signalsBefore: carried?.signalsReceived ?? 0,
  };
}

const status = async (handle: WorkflowHandle): Promise<CapacityStatus> => (await handle.query(statusQuery)) as CapacityStatus;

/** The request was planned and its instances registered, from the first pool of the ladder. */
async function expectServed(c: Case, handle: WorkflowHandle, units: number): Promise<void> {
  await statusUntil<CapacityStatus>(handle, 'the request to be served', (s) => s.decisions.some((d) => d.action === 'registered') && s.phase === 'idle');
  expect(c.cloud.requests().map((r) => [r.pool, r.units])).toEqual([['spot-fleet-instant', units]]);
}

/** The workflow runs until aborted: the test's run is aborted once it has shown what it must. */
async function endRun(handle: WorkflowHandle): Promise<void> {
  await handle.executeUpdate(abortUpdate, { args: [{ reason: 'first-task test over', by: 'jest' }] });
  expect(((await handle.result()) as CapacityStatus).phase).toBe('aborted');
}

describe.each([
  ['a new run', false],
  ['a run continued from a previous one', true],
])('capacity: a message in the first workflow task of %s', (_name, continued) => {
  it('pause update is answered paused; a request waits while paused and is served after resume', async () => {
    const env = devServer();
    const c = await newCase(continued);
    const { handle, answer } = await startWithUpdate(env, c.start, pauseUpdate, [{ by: 'alice' }]);
    await handle.signal(capacityRequestSignal, alarm(2, 'ev-1'));
    await withWorker(env, c.taskQueue, c.cloud.activities(), async () => {
      expect(await accepted(answer)).toMatchObject({ paused: true, cluster: c.cluster });
      await expectUpdateInFirstTask(handle, 'pause');
      const held = await statusUntil<CapacityStatus>(handle, 'the paused run to hold the request', (s) => s.pools.length === 3 && s.signalsReceived === c.signalsBefore + 1);
      expect(held.paused).toBe(true);
      expect(c.cloud.requests()).toEqual([]);
      expect(await handle.executeUpdate(resumeUpdate, { args: [{ by: 'alice' }] })).toMatchObject({ paused: false });
      await expectServed(c, handle, 2);
      await endRun(handle);
    });
  });

  it('resume update is answered not paused, and a request is served', async () => {
    const env = devServer();
    const c = await newCase(continued);
    const { handle, answer } = await startWithUpdate(env, c.start, resumeUpdate, [{ by: 'alice' }]);
    await handle.signal(capacityRequestSignal, alarm(2, 'ev-1'));
    await withWorker(env, c.taskQueue, c.cloud.activities(), async () => {
      expect(await accepted(answer)).toMatchObject({ paused: false, cluster: c.cluster });
      await expectUpdateInFirstTask(handle, 'resume');
      await expectServed(c, handle, 2);
      await endRun(handle);
    });
  });

  it('abort update is answered with the abort, and the run ends aborted with no capacity asked for', async () => {
    const env = devServer();
    const c = await newCase(continued);
    const { handle, answer } = await startWithUpdate(env, c.start, abortUpdate, [{ reason: 'cluster retired', by: 'alice' }]);
    await handle.signal(capacityRequestSignal, alarm(2, 'ev-1'));
    await withWorker(env, c.taskQueue, c.cloud.activities(), async () => {
      expect(await accepted(answer)).toMatchObject({ abortRequested: 'cluster retired', cluster: c.cluster });
      await expectUpdateInFirstTask(handle, 'abort');
      const result = (await handle.result()) as CapacityStatus;
      expect(result.phase).toBe('aborted');
      expect(result.summary).toMatch(/^aborted by alice: cluster retired\. No capacity request in flight/);
      expect(c.cloud.requests()).toEqual([]);
    });
  });

  it('pause signal holds a request until resume, then it is served', async () => {
    const env = devServer();
    const c = await newCase(continued);
    const handle = await startWithSignal(env, c.start, pauseSignal, [{ by: 'alice' }]);
    await handle.signal(capacityRequestSignal, alarm(2, 'ev-1'));
    await withWorker(env, c.taskQueue, c.cloud.activities(), async () => {
      const held = await statusUntil<CapacityStatus>(handle, 'the paused run to hold the request', (s) => s.pools.length === 3 && s.signalsReceived === c.signalsBefore + 1);
      expect(held.paused).toBe(true);
      await expectSignalInFirstTask(handle, 'pause');
      expect(c.cloud.requests()).toEqual([]);
      await handle.signal(resumeSignal, { by: 'alice' });
      await expectServed(c, handle, 2);
      await endRun(handle);
    });
  });

  it('resume signal leaves the run unpaused, and a request is served', async () => {
    const env = devServer();
    const c = await newCase(continued);
    const handle = await startWithSignal(env, c.start, resumeSignal, [{ by: 'alice' }]);
    await handle.signal(capacityRequestSignal, alarm(2, 'ev-1'));
    await withWorker(env, c.taskQueue, c.cloud.activities(), async () => {
      await expectServed(c, handle, 2);
      await expectSignalInFirstTask(handle, 'resume');
      expect((await status(handle)).paused).toBe(false);
      await endRun(handle);
    });
  });

  it('capacityRequest signal (signal-with-start, as the router sends it) is counted and served', async () => {
    const env = devServer();
    const c = await newCase(continued);
    const handle = await startWithSignal(env, c.start, capacityRequestSignal, [alarm(3, 'ev-1')]);
    await withWorker(env, c.taskQueue, c.cloud.activities(), async () => {
      await expectServed(c, handle, 3);
      await expectSignalInFirstTask(handle, 'capacityRequest');
      const s = await status(handle);
      expect(s).toMatchObject({ signalsReceived: c.signalsBefore + 1, duplicates: 0, continuedRuns: continued ? 1 : 0 });
      await endRun(handle);
    });
  });

  it('readinessFloor signal (signal-with-start, as a readiness window sends it) holds the floor, and the run scales out to it', async () => {
    const env = devServer();
    const c = await newCase(continued);
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const handle = await startWithSignal(env, c.start, readinessFloorSignal, [{ action: 'hold', windowId: 'readiness-first-task-sale', units: 2, onDemandUnits: 0, until, reason: 'level 3: TV spot' }]);
    await withWorker(env, c.taskQueue, c.cloud.activities(), async () => {
      await expectServed(c, handle, 2);
      await expectSignalInFirstTask(handle, 'readinessFloor');
      const s = await status(handle);
      expect(s.floor).toEqual({ units: 2, onDemandUnits: 0, windows: ['readiness-first-task-sale'] });
      expect(s.decisions).toContainEqual(expect.objectContaining({ action: 'floor', units: 2 }));
      await endRun(handle);
    });
  });

  it('status query is answered with the run as its first task left it, and a request is then served', async () => {
    const env = devServer();
    const c = await newCase(continued);
    const handle = await startOnly(env, c.start);
    const answer = queryBeforeWorker(handle, statusQuery);
    await withWorker(env, c.taskQueue, c.cloud.activities(), async () => {
      expect(await answer).toMatchObject({
        phase: 'idle',
        paused: false,
        cluster: c.cluster,
        signalsReceived: c.signalsBefore,
        continuedRuns: continued ? 1 : 0,
        plans: continued ? 1 : 0,
      });
      await handle.signal(capacityRequestSignal, alarm(2, 'ev-1'));
      await expectServed(c, handle, 2);
      await endRun(handle);
    });
  });
});
