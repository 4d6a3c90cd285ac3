import type { Connection } from '@temporalio/client';
import { TASK_QUEUES, type TaskQueue } from '../common/task-queues';
import { say } from './console';
import { connectTemporal, ensureSearchAttributes, httpStatus, waitFor, workerPolls } from './health';
import type { ManagedChild } from './processes';

/** The stack's waits on Temporal: the server and its Web UI up, then each worker polling its task queues. */

/** Connects once Temporal answers, registers fleetops' search attributes and waits for the Web UI. */
export async function temporalReady(opts: { address: string; namespace: string; ui: string; temporal: ManagedChild }): Promise<Connection> {
  const connection = await waitFor('Temporal gRPC', async () => connectTemporal(opts.address), { timeoutMs: 60_000, child: opts.temporal });
  try {
    const added = await ensureSearchAttributes(connection, opts.namespace);
    if (added.length) say(`registered search attributes ${added.join(', ')}`);
    await waitFor('Temporal Web UI', async () => ((await httpStatus(opts.ui)) === 200 ? true : undefined), { timeoutMs: 30_000, child: opts.temporal });
    return connection;
  } catch (err) {
    await connection.close();
    throw err;
  }
}

export async function waitForWorker(connection: Connection, namespace: string, worker: ManagedChild, queues: readonly TaskQueue[] = TASK_QUEUES): Promise<void> {
  // The worker bundles the workflow code before it polls; that is most of its start time.
  await waitFor(
    `worker polling ${queues.join(', ')}`,
    async () => {
      const polls = await Promise.all(queues.map((q) => workerPolls(connection, namespace, q, worker.pid)));
      return polls.every(Boolean) ? true : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 250, child: worker },
  );
}
