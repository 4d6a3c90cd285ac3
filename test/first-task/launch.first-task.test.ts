import { abortUpdate, statusQuery } from '../../contracts/controls';
import { launchStartOptions } from '../../contracts/launch/start';
import type { LaunchInput } from '../../contracts/launch/input';
import type { LaunchResult, LaunchStatus } from '../../contracts/launch/messages';
import { uniqueTaskQueue } from '../harness/temporal';
import { mockActivities } from '../launch/launch-mocks';
import { accepted, expectUpdateInFirstTask, queryBeforeWorker, startOnly, startWithUpdate, useDevServer, withWorker, type StartOptions } from './first-task';

/**
 * Every message the launch workflow accepts (`abort`, `status`; it cannot be paused), delivered in
 * its first workflow task (a launch does not continue as new): the run answers it and goes on to
 * complete the lifecycle action. Activities are test/launch/launch-mocks.ts's.
 */

const devServer = useDevServer();

let counter = 0;
const newInstanceId = (): string => `i-${(Date.now().toString(16) + (++counter).toString(16).padStart(4, '0')).padStart(17, '0').slice(-17)}`;

function newCase(): { input: LaunchInput; taskQueue: string; start: StartOptions } {
  const input: LaunchInput = {
    instanceId: newInstanceId(),
    cluster: 'demo',
    lifecycle: { hookName: 'demo-launch', asgName: 'demo-on-demand', actionToken: '19ad2f2c-5fcc-4fa1-bc9b-6a7d2fbfe26a' },
    eventId: `ev-launch-${counter}`,
    eventTime: new Date().toISOString(),
    timeoutSeconds: 300,
    heartbeatSeconds: 60,
  };
  const taskQueue = uniqueTaskQueue('launch-first-task');
  const { workflowType, ...options } = launchStartOptions(input);
  return { input, taskQueue, start: { workflowType, ...options, taskQueue } };
}

describe('launch: a message in the first workflow task', () => {
  it('abort update is answered, and the launch completes the lifecycle action ABANDON without waiting for the instance', async () => {
    const env = devServer();
    const c = newCase();
    const { activities, calls } = mockActivities();
    const { handle, answer } = await startWithUpdate(env, c.start, abortUpdate, [{ reason: 'bad AMI', by: 'alice' }]);
    await withWorker(env, c.taskQueue, activities, async () => {
      expect(await accepted(answer)).toMatchObject({ abortRequested: 'bad AMI', instanceId: c.input.instanceId, phase: 'waiting-for-instance' });
      await expectUpdateInFirstTask(handle, 'abort');
      const result = (await handle.result()) as LaunchResult;
      expect(result).toMatchObject({ outcome: 'abandoned', reason: 'aborted by alice: bad AMI', completed: true });
      expect(calls.completeLaunchLifecycleAction?.[0]?.[0]).toMatchObject({ result: 'ABANDON', instanceId: c.input.instanceId });
      expect(calls.waitForContainerInstance).toBeUndefined();
    });
  });

  it('status query is answered while the launch waits for the instance, and it then completes CONTINUE', async () => {
    const env = devServer();
    const c = newCase();
    const { activities, calls } = mockActivities();
    const handle = await startOnly(env, c.start);
    const answer = queryBeforeWorker(handle, statusQuery);
    await withWorker(env, c.taskQueue, activities, async () => {
      expect((await answer) as LaunchStatus).toMatchObject({
        phase: 'waiting-for-instance',
        paused: false,
        instanceId: c.input.instanceId,
        cluster: 'demo',
        asgName: 'demo-on-demand',
      });
      expect(((await handle.result()) as LaunchResult).outcome).toBe('continued');
      expect(calls.completeLaunchLifecycleAction?.[0]?.[0]).toMatchObject({ result: 'CONTINUE' });
    });
  });
});
