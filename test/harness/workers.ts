import { Worker, type WorkerOptions } from '@temporalio/worker';
import { until } from '../../testkit/poll';

/**
 * Workers a test creates, so that each is shut down and awaited after the test however it ended: a
 * test that fails or times out while its worker runs must not leave the worker polling into the next
 * test ("Registration of multiple workers with overlapping worker task types"). per-file-setup.ts
 * calls `shutDownWorkers` after every test. A worker created outside a test (in `beforeAll`) serves
 * the whole file, and the file's `afterAll` stops it.
 */
const live = new Set<Worker>();

let inTest = false;
/** Marks the start of a test (its beforeEach hooks included); per-file-setup.ts calls it. */
export function beginTest(): void {
  inTest = true;
}

/** `Worker.create`, tracked when called inside a test. */
export async function createWorker(options: WorkerOptions): Promise<Worker> {
  const worker = await Worker.create(options);
  if (inTest) live.add(worker);
  return worker;
}

const ended = (w: Worker): boolean => ['STOPPED', 'FAILED'].includes(w.getState());

/** Shuts down every tracked worker still running and waits until each has stopped. */
export async function shutDownWorkers(): Promise<void> {
  inTest = false;
  const workers = [...live];
  live.clear();
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
