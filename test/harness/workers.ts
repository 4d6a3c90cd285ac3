import { Worker, type WorkerOptions } from '@temporalio/worker';
import { until } from '../../testkit/poll';

/**
 * Workers a test creates, so that each is shut down and awaited after the test however it ended: a
 * test that fails or times out while its worker runs must not leave the worker polling into the next
 * test ("Registration of multiple workers with overlapping worker task types"). per-file-setup.ts
 * calls `shutDownWorkers` after every test, and `shutDownAllWorkers` after the file. A worker created
 * outside a test (in `beforeAll`) serves the whole file, and the file's `afterAll` stops it.
 *
 * Workers are kept per test, not per file, for `test.concurrent`: jest (circus 30) runs concurrent
 * tests side by side and without their beforeEach/afterEach hooks, so one test ending never stops
 * another's workers, and a concurrent test's own are stopped after the file (or by the test itself,
 * as `worker.runUntil` does). Jest knows which test code runs for from its async context
 * (`currentTestIdentity`): the same in a test, its hooks and whatever they start.
 */
const live = new Map<object, Set<Worker>>();

/** The running test (its body or hooks), or undefined in beforeAll/afterAll. */
function currentTest(): object | undefined {
  const state = (globalThis as { expect?: { getState(): { currentTestIdentity?: () => object | undefined } } }).expect?.getState();
  if (state && typeof state.currentTestIdentity !== 'function') throw new Error('jest does not say which test is running (expect.getState().currentTestIdentity): workers cannot be tracked');
  return state?.currentTestIdentity?.();
}

/** `Worker.create`, tracked when called inside a test. */
export async function createWorker(options: WorkerOptions): Promise<Worker> {
  const worker = await Worker.create(options);
  const test = currentTest();
  if (test) live.set(test, (live.get(test) ?? new Set()).add(worker));
  return worker;
}

const ended = (w: Worker): boolean => ['STOPPED', 'FAILED'].includes(w.getState());

async function shutDown(workers: Worker[]): Promise<void> {
  for (const w of workers) {
    // A worker that never ran has nothing to stop.
    if (w.getState() === 'INITIALIZED') continue;
    if (w.getState() === 'RUNNING') w.shutdown();
  }
  await until('the test workers to stop', () => workers.every((w) => w.getState() === 'INITIALIZED' || ended(w)), {
    timeoutMs: 30_000,
    intervalMs: 20,
    describe: () => workers.map((w) => w.getState()).join(', '),
  });
}

/** Shuts down every worker the current test created that still runs, and waits until each has stopped. */
export async function shutDownWorkers(): Promise<void> {
  const test = currentTest();
  if (!test) return;
  const workers = [...(live.get(test) ?? [])];
  live.delete(test);
  await shutDown(workers);
}

/** The same for every test's workers still tracked: those of concurrent tests, which no afterEach stopped. */
export async function shutDownAllWorkers(): Promise<void> {
  const workers = [...live.values()].flatMap((ws) => [...ws]);
  live.clear();
  await shutDown(workers);
}
