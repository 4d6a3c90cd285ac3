import { Worker, type WorkerOptions } from '@temporalio/worker';
import { until } from '../../testkit/poll';

/**
 * Workers a test creates, so that each is shut down and awaited after the test however it ended: a
 * test that fails or times out while its worker runs must not leave the worker polling into the next
 * test ("Registration of multiple workers with overlapping worker task types"). per-file-setup.ts
 * calls `shutDownWorkers` after every test. A worker created outside a test (in `beforeAll`) serves
 * the whole file, and the file's `afterAll` stops it.
 *
 * Workers are kept per test, not per file: with `test.concurrent` several tests run at once, and one
 * ending (its afterEach) must stop its own workers only, never those of a test still running. Jest
 * knows which test a hook or test body runs for from its async context (`currentTestIdentity`), the
 * same in a beforeEach, the test and its afterEach.
 */
const live = new Map<object, Set<Worker>>();

/** The running test (its beforeEach, body or afterEach), or undefined in beforeAll/afterAll. */
function currentTest(): object | undefined {
  const state = (globalThis as { expect?: { getState(): { currentTestIdentity?: () => object | undefined } } }).expect?.getState();
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

/** Shuts down every worker the current test created that still runs, and waits until each has stopped. */
export async function shutDownWorkers(): Promise<void> {
  const test = currentTest();
  if (!test) return;
  const workers = [...(live.get(test) ?? [])];
  live.delete(test);
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
