import { readFileSync } from 'node:fs';
import type { Connection } from '@temporalio/client';
import { TASK_QUEUE_CRITICAL } from '../../common/task-queues';

/** What the storm samples of the local stack's processes: the worker's pid and RSS, its pollers, CPU time by role. */

/**
 * The live worker's pid from its poller identity (`<pid>@<host>`) on the drain task queue. The server
 * lists pollers seen in the last minutes, a killed worker's too: only a pid that still runs counts.
 */
export async function workerPid(connection: Connection, namespace: string): Promise<number | undefined> {
  const res = await connection.workflowService.describeTaskQueue({ namespace, taskQueue: { name: TASK_QUEUE_CRITICAL, kind: 1 }, taskQueueType: 1 });
  for (const p of res.pollers ?? []) {
    const pid = Number((p.identity ?? '').split('@')[0]);
    if (Number.isInteger(pid) && pid > 0 && rssMiB(pid) !== undefined) return pid;
  }
  return undefined;
}

/** The worker's current workflow-task pollers on the drain queue, by kind (sdk-core's temporal_num_pollers gauge). */
export async function drainPollers(metricsUrl: string): Promise<{ normal: number; sticky: number } | undefined> {
  try {
    const text = await (await fetch(metricsUrl)).text();
    const out = { normal: 0, sticky: 0 };
    for (const line of text.split('\n')) {
      if (!line.startsWith('temporal_num_pollers{') || !line.includes(`task_queue="${TASK_QUEUE_CRITICAL}"`)) continue;
      const value = Number(line.split(' ').pop());
      if (line.includes('poller_type="sticky_workflow_task"')) out.sticky += value;
      else if (line.includes('poller_type="workflow_task"')) out.normal += value;
    }
    return out;
  } catch {
    return undefined;
  }
}

/** CPU seconds used so far by each of the stack's processes, by role (from /proc: utime + stime). */
export function stackCpuSeconds(processes: { pid: number; cmd: string }[]): Record<string, number> {
  const tick = 100; // USER_HZ on Linux
  const role = (cmd: string): string => {
    if (/\btemporal server start-dev/.test(cmd)) return 'temporal';
    if (/moto_server|moto\.server/.test(cmd)) return 'moto';
    if (/simulator\/main/.test(cmd)) return 'simulator';
    if (/router\/main/.test(cmd)) return 'router';
    if (/workers\/main/.test(cmd)) return 'worker';
    return 'other';
  };
  const out: Record<string, number> = {};
  for (const { pid, cmd } of processes) {
    try {
      const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
      out[role(cmd)] = (out[role(cmd)] ?? 0) + (Number(f[11]) + Number(f[12])) / tick;
    } catch {
      // the process ended since it was listed
    }
  }
  return out;
}

export function rssMiB(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}
