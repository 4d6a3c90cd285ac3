import { readFileSync } from 'node:fs';
import type { Connection } from '@temporalio/client';
import { TASK_QUEUE_CRITICAL } from '../common/task-queues';

/** The local stack's worker processes as Temporal sees them: for the tests and benches that kill one. */

/**
 * The live workers' pids from their poller identities (`<pid>@<host>`, the SDK's default) on the drain
 * task queue. The server lists pollers seen in the last minutes, a killed worker's too: only pids that
 * still run count. Each is its process group's leader (stack/processes.ts), so `-pid` kills the worker whole.
 */
export function workerPids(connection: Connection, namespace: string): Promise<number[]> {
  return queuePollerPids(connection, namespace, TASK_QUEUE_CRITICAL);
}

/** The pids of the live processes polling `taskQueue` for workflow tasks, or for activity tasks (`activities`). */
export async function queuePollerPids(connection: Connection, namespace: string, taskQueue: string, activities = false): Promise<number[]> {
  const res = await connection.workflowService.describeTaskQueue({ namespace, taskQueue: { name: taskQueue, kind: 1 }, taskQueueType: activities ? 2 : 1 });
  const pids = new Set<number>();
  for (const p of res.pollers ?? []) {
    const pid = Number((p.identity ?? '').split('@')[0]);
    if (Number.isInteger(pid) && pid > 0 && rssMiB(pid) !== undefined) pids.add(pid);
  }
  return [...pids].sort((a, b) => a - b);
}

/** A process's resident memory, or undefined when it no longer runs. */
export function rssMiB(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}
