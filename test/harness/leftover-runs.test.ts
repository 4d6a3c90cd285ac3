import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, type Worker } from '@temporalio/worker';
import { until } from '../../testkit/poll';
import { createTimeSkippingEnv, uniqueTaskQueue } from './temporal';
import { createWorker } from './workers';
import { expectWorkflowTaskFailures } from './workflow-task-failures';
import type { ClockActivities } from './fixtures/clock-workflows';

/**
 * A test's workflow runs must not stop the time-skipping clock for the tests after it in the same
 * file (leftover-runs.ts, run after every test by per-file-setup.ts). The tests run in order: each
 * checks what the one before it left, and that an hour of workflow time still passes at once.
 */

let env: TestWorkflowEnvironment;
let workflowBundle: { code: string };

beforeAll(async () => {
  env = await createTimeSkippingEnv();
  workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./fixtures/clock-workflows'), logger: new DefaultLogger('ERROR') });
});

afterAll(async () => {
  await env?.teardown();
});

const activities: ClockActivities = {
  async waitForServerClock(epochMs) {
    await until('the time-skipping clock to pass the timer', async () => (await env.currentTimeMs()) > epochMs + 200, { timeoutMs: 10_000, intervalMs: 20 });
  },
};

function newWorker(taskQueue: string): Promise<Worker> {
  return createWorker({ connection: env.nativeConnection, taskQueue, workflowBundle, activities });
}

/** An hour of workflow time, over at once while no task holds the clock (the test's time limit otherwise). */
async function sleepAnHour(): Promise<string> {
  const taskQueue = uniqueTaskQueue('hour');
  return (await newWorker(taskQueue)).runUntil(async () => (await env.client.workflow.start('hourSleeper', { taskQueue, workflowId: `hour-${taskQueue}` })).result());
}

describe('workflow runs a test leaves open on its time-skipping server', () => {
  let left: WorkflowHandle;
  let address: string;

  it('one waiting on a timer, its worker stopped', async () => {
    const taskQueue = uniqueTaskQueue('waiting');
    left = await (await newWorker(taskQueue)).runUntil(async () => {
      const handle = await env.client.workflow.start('hourSleeper', { taskQueue, workflowId: `waiting-${taskQueue}` });
      await until('the hour timer to start', async () => ((await handle.fetchHistory()).events ?? []).some((e) => e.timerStartedEventAttributes), { timeoutMs: 10_000 });
      return handle;
    });
    address = env.address;
  });

  it('is terminated after its test; holding nothing, it leaves the server as it was', async () => {
    expect((await left.describe()).status.name).toBe('TERMINATED');
    expect(env.address).toBe(address);
    expect(await sleepAnHour()).toBe('slept');
  });

  it('one whose first workflow task no worker ever polls', async () => {
    left = await env.client.workflow.start('hourSleeper', { taskQueue: uniqueTaskQueue('nobody-polls'), workflowId: `unpolled-${Date.now()}` });
    address = env.address;
  });

  it('holds the clock even once terminated: the file gets a new server', async () => {
    expect(env.address).not.toBe(address);
    expect(await sleepAnHour()).toBe('slept');
  });

  it('one whose task completion the server refuses (a timer cancelled in the task it fired in) is terminated at once, with the reason', async () => {
    expectWorkflowTaskFailures(/invalid history builder state for action/);
    const taskQueue = uniqueTaskQueue('refused');
    const failure = await (await newWorker(taskQueue)).runUntil(async () => {
      const handle = await env.client.workflow.start('cancelFiredTimer', { taskQueue, workflowId: `refused-${taskQueue}` });
      return handle.result().then(
        () => undefined,
        (err: unknown) => err,
      );
    });
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect(((failure as WorkflowFailedError).cause as Error).message).toMatch(/time-skipping test server refused a workflow task completion/);
    address = env.address;
  });

  it('after a refused completion too, the file gets a new server', async () => {
    expect(env.address).not.toBe(address);
    expect(await sleepAnHour()).toBe('slept');
  });
});
