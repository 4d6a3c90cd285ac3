import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { until } from '../../testkit/poll';
import { bundledWorkflows, connectDevServer, uniqueTaskQueue } from '../harness/temporal';
import { createWorker } from '../harness/workers';

/**
 * The per-file setup stops the workers a test created, and only those (test/harness/workers.ts): a
 * sequential test's after it ends, a concurrent test's after the file (jest runs concurrent tests
 * without afterEach), and never a worker another test still uses. The file's own afterAll, declared
 * after the setup's, sees what the setup left.
 */

let env: TestWorkflowEnvironment;
let fileWorker: Worker;
let fileRun: Promise<void>;
const workers: Partial<Record<'beside' | 'ended' | 'sequential', Worker>> = {};
let besideEnded!: () => void;
const ended = new Promise<void>((resolve) => (besideEnded = resolve));

beforeAll(async () => {
  env = await connectDevServer();
  // Created outside a test: it serves the file, and no test's end stops it.
  fileWorker = await createWorker({ connection: env.nativeConnection, taskQueue: uniqueTaskQueue('per-file'), ...bundledWorkflows() });
  fileRun = fileWorker.run();
});

afterAll(async () => {
  // The per-file setup's afterAll ran first: every worker a test created has stopped, the file's runs on.
  const states = { beside: workers.beside?.getState(), ended: workers.ended?.getState(), sequential: workers.sequential?.getState(), file: fileWorker?.getState() };
  fileWorker?.shutdown();
  await fileRun;
  await env?.teardown();
  expect(states).toEqual({ beside: 'STOPPED', ended: 'STOPPED', sequential: 'STOPPED', file: 'RUNNING' });
});

async function started(name: keyof typeof workers): Promise<Worker> {
  const w = await createWorker({ connection: env.nativeConnection, taskQueue: uniqueTaskQueue(`per-test-${name}`), ...bundledWorkflows() });
  void w.run().catch(() => undefined);
  await until(`the ${name} test's worker to run`, () => w.getState() === 'RUNNING');
  workers[name] = w;
  return w;
}

describe('workers created in a test', () => {
  test.concurrent('a concurrent test keeps its worker when the test beside it ends', async () => {
    const mine = await started('beside');
    await ended;
    expect(mine.getState()).toBe('RUNNING');
  });

  test.concurrent('a concurrent test ends with its worker running', async () => {
    await started('ended');
    besideEnded();
  });

  test('a sequential test after them starts a worker', async () => {
    await started('sequential');
  });

  test("its afterEach stopped that worker only: the concurrent tests' run until the file ends", () => {
    expect(workers.sequential?.getState()).toBe('STOPPED');
    expect([workers.beside?.getState(), workers.ended?.getState(), fileWorker.getState()]).toEqual(['RUNNING', 'RUNNING', 'RUNNING']);
  });
});
