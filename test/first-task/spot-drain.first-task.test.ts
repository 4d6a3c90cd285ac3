import { abortUpdate, statusQuery } from '../../contracts/controls';
import { drainStartOptions } from '../../contracts/spot-drain/start';
import type { DrainEvent } from '../../contracts/spot-drain/input';
import { drainEventSignal, type DrainStatus, type SpotDrainResult } from '../../contracts/spot-drain/messages';
import { CLUSTER, mockActivities } from '../drain/drain-mocks';
import { uniqueTaskQueue } from '../harness/temporal';
import {
  accepted,
  expectSignalInFirstTask,
  expectUpdateInFirstTask,
  queryBeforeWorker,
  startWithSignal,
  startWithUpdate,
  useDevServer,
  withWorker,
  type StartOptions,
} from './first-task';

/**
 * Every message the spot drain accepts (`drainEvent`, `abort`, `status`; it cannot be paused),
 * delivered in its first workflow task (a drain does not continue as new): the run answers it and
 * goes on to drain, or ends aborted. Activities are test/drain/drain-mocks.ts's.
 */

const devServer = useDevServer();

let counter = 0;
const newInstanceId = (): string => `i-${(Date.now().toString(16) + (++counter).toString(16).padStart(4, '0')).padStart(17, '0').slice(-17)}`;

const warning = (instanceId: string): DrainEvent => ({
  kind: 'interruption-warning',
  instanceId,
  eventId: `ev-warning-${instanceId}`,
  eventTime: new Date().toISOString(),
});

function newCase(): { instanceId: string; taskQueue: string; start: StartOptions } {
  const instanceId = newInstanceId();
  const taskQueue = uniqueTaskQueue('drain-first-task');
  const { workflowType, ...options } = drainStartOptions({ instanceId }, { why: 'interruption-warning' });
  return { instanceId, taskQueue, start: { workflowType, ...options, taskQueue } };
}

describe('spotDrain: a message in the first workflow task', () => {
  it('drainEvent signal (signal-with-start, as the router sends it) drains the instance', async () => {
    const env = devServer();
    const c = newCase();
    const { activities, calls } = mockActivities();
    const handle = await startWithSignal(env, c.start, drainEventSignal, [warning(c.instanceId)]);
    await withWorker(env, c.taskQueue, activities, async () => {
      const result = (await handle.result()) as SpotDrainResult;
      expect(result).toMatchObject({ outcome: 'drained', instanceId: c.instanceId, cluster: CLUSTER, notDone: [] });
      await expectSignalInFirstTask(handle, 'drainEvent');
      expect(calls.setContainerInstanceDraining).toHaveLength(1);
    });
  });

  it('abort update, with the drainEvent signal-with-start in the same first task, is answered and the drain ends aborted', async () => {
    const env = devServer();
    const c = newCase();
    const { activities, calls } = mockActivities();
    const { handle, answer } = await startWithUpdate(env, c.start, abortUpdate, [{ reason: 'kept for forensics', by: 'alice' }]);
    // The router's signal-with-start finds the run and signals it, still before its first task.
    await startWithSignal(env, c.start, drainEventSignal, [warning(c.instanceId)]);
    await withWorker(env, c.taskQueue, activities, async () => {
      expect(await accepted(answer)).toMatchObject({ abortRequested: 'kept for forensics', instanceId: c.instanceId });
      await expectUpdateInFirstTask(handle, 'abort');
      await expectSignalInFirstTask(handle, 'drainEvent');
      const result = (await handle.result()) as SpotDrainResult;
      expect(result).toMatchObject({ outcome: 'aborted', abortReason: 'kept for forensics', instanceId: c.instanceId });
      expect(result.failure).toMatch(/^aborted: kept for forensics/);
      expect(calls.waitForInstanceTasks).toBeUndefined();
    });
  });

  it('status query is answered with the event received, and the drain goes on to drain the instance', async () => {
    const env = devServer();
    const c = newCase();
    const { activities } = mockActivities();
    const handle = await startWithSignal(env, c.start, drainEventSignal, [warning(c.instanceId)]);
    const answer = queryBeforeWorker(handle, statusQuery);
    await withWorker(env, c.taskQueue, activities, async () => {
      const s = (await answer) as DrainStatus;
      expect(s).toMatchObject({ instanceId: c.instanceId, mode: 'interruption-warning', paused: false });
      expect(s.events.map((e) => e.eventId)).toEqual([`ev-warning-${c.instanceId}`]);
      expect(((await handle.result()) as SpotDrainResult).outcome).toBe('drained');
    });
  });
});
