import type { WorkflowHandle } from '@temporalio/client';
import { abortUpdate, pauseSignal, pauseUpdate, resumeSignal, resumeUpdate, statusQuery } from '../../contracts/controls';
import { drainCoordinatorStartOptions } from '../../contracts/drain-coordinator/start';
import type { DrainCoordinatorCarried, InterruptionNotice } from '../../contracts/drain-coordinator/input';
import { interruptionNoticesSignal, type DrainCoordinatorStatus } from '../../contracts/drain-coordinator/messages';
import { CoordinatorState } from '../../workflows/drain-coordinator/state';
import { mockActivities, type Calls } from '../drain/drain-mocks';
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
 * Every message the drain coordinator accepts, delivered in the first workflow task of a new run and
 * of a run that continues a previous one (its input carries what continue-as-new hands over: a
 * notice still waiting, one already handled, the counts, and whether it was paused). The run
 * answers it and sets the instances DRAINING through the faked `setDrainingAtOnce`
 * (test/drain/drain-mocks.ts), or holds them while paused, or ends on abort.
 */

const devServer = useDevServer();

let counter = 0;
function notices(n: number): InterruptionNotice[] {
  const now = Date.now();
  return Array.from({ length: n }, () => {
    const instanceId = `i-${(now.toString(16) + (++counter).toString(16).padStart(4, '0')).padStart(17, '0').slice(-17)}`;
    return { instanceId, eventId: `ev-${instanceId}`, eventTime: new Date(now).toISOString(), deadline: new Date(now + 600_000).toISOString() };
  });
}

/**
 * What a run hands the next through continue-as-new, built by the workflow's own state class: one
 * notice handled (set DRAINING), one still waiting, and `paused` as the run left it.
 */
function carriedState(waiting: InterruptionNotice[], paused: boolean): DrainCoordinatorCarried {
  const s = new CoordinatorState();
  const handled = notices(1);
  s.add(handled);
  s.take(250, Date.now());
  s.record({ instances: handled.map((n) => ({ instanceId: n.instanceId, outcome: 'draining' as const })) }, Date.now());
  s.add(waiting);
  return JSON.parse(JSON.stringify(s.carry(Date.now(), paused))) as DrainCoordinatorCarried;
}

interface Case {
  taskQueue: string;
  start: StartOptions;
  /** Notices the run has before any message: the carried waiting one, in a continued run. */
  waiting: InterruptionNotice[];
  /** Counts the run starts from. */
  counts: DrainCoordinatorCarried['counts'];
  received: number;
  draining: number;
}

/** `paused`: the previous run was paused (a continued run only). */
function newCase(continued: boolean, paused = false): Case {
  const taskQueue = uniqueTaskQueue('coordinator-first-task');
  const waiting = continued ? notices(1) : [];
  const carried = continued ? carriedState(waiting, paused) : undefined;
  const { workflowType, ...options } = drainCoordinatorStartOptions();
  return {
    taskQueue,
    start: { workflowType, ...options, workflowId: unique(options.workflowId), taskQueue, args: [{ ...(carried ? { carried } : {}) }] },
    waiting,
    counts: carried?.counts ?? {},
    received: carried?.counts.received ?? 0,
    draining: carried?.counts.draining ?? 0,
  };
}

const sent = (calls: Calls): string[] => (calls.setDrainingAtOnce ?? []).flatMap((args) => (args[0] as { instanceIds: string[] }).instanceIds);
const ids = (ns: InterruptionNotice[]): string[] => ns.map((n) => n.instanceId);

/** Progress: every notice the run holds is set DRAINING through the activity. */
async function expectDraining(c: Case, handle: WorkflowHandle, calls: Calls, batch: InterruptionNotice[]): Promise<DrainCoordinatorStatus> {
  const all = [...c.waiting, ...batch];
  const s = await statusUntil<DrainCoordinatorStatus>(handle, 'the notices to be set DRAINING', (x) => (x.counts.draining ?? 0) === c.draining + all.length && x.inFlight === 0);
  expect(s).toMatchObject({ pending: 0, counts: { received: c.received + batch.length } });
  expect(sent(calls).sort()).toEqual(ids(all).sort());
  return s;
}

/** While paused, the notices wait in the run and no call is made. */
async function expectHeld(c: Case, handle: WorkflowHandle, calls: Calls, batch: InterruptionNotice[]): Promise<void> {
  const s = await statusUntil<DrainCoordinatorStatus>(handle, 'the paused run to hold the notices', (x) => x.pending === c.waiting.length + batch.length);
  expect(s.paused).toBe(true);
  expect(s.summary).toMatch(/^paused: /);
  expect(sent(calls)).toEqual([]);
}

/** The coordinator runs until aborted: the test's run is aborted once it has shown what it must. */
async function endRun(handle: WorkflowHandle): Promise<void> {
  await handle.executeUpdate(abortUpdate, { args: [{ reason: 'first-task test over', by: 'jest' }] });
  await handle.result();
}

describe.each([
  ['a new run', false],
  ['a run continued from a previous one', true],
])('drainCoordinator: a message in the first workflow task of %s', (_name, continued) => {
  it('interruptionNotices signal (signal-with-start, as the router sends it) sets the instances DRAINING', async () => {
    const env = devServer();
    const c = newCase(continued);
    const { activities, calls } = mockActivities();
    const batch = notices(2);
    const handle = await startWithSignal(env, c.start, interruptionNoticesSignal, [batch]);
    await withWorker(env, c.taskQueue, activities, async () => {
      await expectDraining(c, handle, calls, batch);
      await expectSignalInFirstTask(handle, 'interruptionNotices');
      await endRun(handle);
    });
  });

  it('pause update is answered paused; notices wait while paused and are set DRAINING after resume', async () => {
    const env = devServer();
    const c = newCase(continued);
    const { activities, calls } = mockActivities();
    const batch = notices(2);
    const { handle, answer } = await startWithUpdate(env, c.start, pauseUpdate, [{ by: 'alice' }]);
    await handle.signal(interruptionNoticesSignal, batch);
    await withWorker(env, c.taskQueue, activities, async () => {
      expect(await accepted(answer)).toMatchObject({ paused: true, phase: 'coordinating' });
      await expectUpdateInFirstTask(handle, 'pause');
      await expectHeld(c, handle, calls, batch);
      expect(await handle.executeUpdate(resumeUpdate, { args: [{ by: 'alice' }] })).toMatchObject({ paused: false });
      await expectDraining(c, handle, calls, batch);
      await endRun(handle);
    });
  });

  it(`resume update is answered not paused${continued ? ' (the previous run was paused)' : ''}, and the notices are set DRAINING`, async () => {
    const env = devServer();
    const c = newCase(continued, continued);
    const { activities, calls } = mockActivities();
    const batch = notices(2);
    const { handle, answer } = await startWithUpdate(env, c.start, resumeUpdate, [{ by: 'alice' }]);
    await handle.signal(interruptionNoticesSignal, batch);
    await withWorker(env, c.taskQueue, activities, async () => {
      expect(await accepted(answer)).toMatchObject({ paused: false, phase: 'coordinating' });
      await expectUpdateInFirstTask(handle, 'resume');
      await expectDraining(c, handle, calls, batch);
      await endRun(handle);
    });
  });

  it('abort update is answered with the abort, and the run ends with no notice sent', async () => {
    const env = devServer();
    const c = newCase(continued);
    const { activities, calls } = mockActivities();
    const batch = notices(2);
    const { handle, answer } = await startWithUpdate(env, c.start, abortUpdate, [{ reason: 'drill', by: 'alice' }]);
    await handle.signal(interruptionNoticesSignal, batch);
    await withWorker(env, c.taskQueue, activities, async () => {
      expect(await accepted(answer)).toMatchObject({ abortRequested: 'drill', phase: 'coordinating' });
      await expectUpdateInFirstTask(handle, 'abort');
      await handle.result();
      expect((await handle.query(statusQuery)) as DrainCoordinatorStatus).toMatchObject({ phase: 'aborted', pending: c.waiting.length + batch.length });
      expect(sent(calls)).toEqual([]);
    });
  });

  it('pause signal holds the notices; after the resume signal they are set DRAINING', async () => {
    const env = devServer();
    const c = newCase(continued);
    const { activities, calls } = mockActivities();
    const batch = notices(2);
    const handle = await startWithSignal(env, c.start, pauseSignal, [{ by: 'alice' }]);
    await handle.signal(interruptionNoticesSignal, batch);
    await withWorker(env, c.taskQueue, activities, async () => {
      await expectHeld(c, handle, calls, batch);
      await expectSignalInFirstTask(handle, 'pause');
      await handle.signal(resumeSignal, { by: 'alice' });
      await expectDraining(c, handle, calls, batch);
      await endRun(handle);
    });
  });

  it(`resume signal${continued ? ' (the previous run was paused)' : ''} lets the notices be set DRAINING`, async () => {
    const env = devServer();
    const c = newCase(continued, continued);
    const { activities, calls } = mockActivities();
    const batch = notices(2);
    const handle = await startWithSignal(env, c.start, resumeSignal, [{ by: 'alice' }]);
    await handle.signal(interruptionNoticesSignal, batch);
    await withWorker(env, c.taskQueue, activities, async () => {
      const s = await expectDraining(c, handle, calls, batch);
      expect(s.paused).toBe(false);
      await expectSignalInFirstTask(handle, 'resume');
      await endRun(handle);
    });
  });

  it('status query is answered with what the run holds, and notices are then set DRAINING', async () => {
    const env = devServer();
    const c = newCase(continued);
    const { activities, calls } = mockActivities();
    const handle = await startOnly(env, c.start);
    const answer = queryBeforeWorker(handle, statusQuery);
    await withWorker(env, c.taskQueue, activities, async () => {
      const s = (await answer) as DrainCoordinatorStatus;
      expect(s).toMatchObject({ phase: 'coordinating', paused: false, counts: c.counts });
      const batch = notices(2);
      await handle.signal(interruptionNoticesSignal, batch);
      await expectDraining(c, handle, calls, batch);
      await endRun(handle);
    });
  });
});
