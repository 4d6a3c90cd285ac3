import { readFileSync } from 'node:fs';
import type { Connection } from '@temporalio/client';
import { TASK_QUEUE_CRITICAL } from '../../common/task-queues';

/** What the storm samples of the local stack's processes: the workers' pids and RSS, their pollers, CPU time by role. */

/**
 * The live workers' pids from their poller identities (`<pid>@<host>`) on the drain task queue. The
 * server lists pollers seen in the last minutes, a killed worker's too: only pids that still run count.
 */
export async function workerPids(connection: Connection, namespace: string): Promise<number[]> {
  const res = await connection.workflowService.describeTaskQueue({ namespace, taskQueue: { name: TASK_QUEUE_CRITICAL, kind: 1 }, taskQueueType: 1 });
  const pids = new Set<number>();
  for (const p of res.pollers ?? []) {
    const pid = Number((p.identity ?? '').split('@')[0]);
    if (Number.isInteger(pid) && pid > 0 && rssMiB(pid) !== undefined) pids.add(pid);
  }
  return [...pids].sort((a, b) => a - b);
}

/** The first worker's current workflow-task pollers on the drain queue, by kind (sdk-core's temporal_num_pollers gauge). */
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

/** The role of one of the stack's processes, from its command line. */
function roleOf(cmd: string): string {
  if (/\btemporal server start-dev/.test(cmd)) return 'temporal';
  if (/moto_server|moto\.server/.test(cmd)) return 'moto';
  if (/simulator\/main/.test(cmd)) return 'simulator';
  if (/router\/main/.test(cmd)) return 'router';
  if (/workers\/main/.test(cmd)) return 'worker';
  return 'other';
}

/** CPU seconds used so far by each of the stack's live processes, with its role (from /proc: utime + stime). */
function stackCpuByPid(processes: { pid: number; cmd: string }[]): Map<number, { role: string; cpu: number }> {
  const tick = 100; // USER_HZ on Linux
  const out = new Map<number, { role: string; cpu: number }>();
  for (const { pid, cmd } of processes) {
    try {
      const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
      out.set(pid, { role: roleOf(cmd), cpu: (Number(f[11]) + Number(f[12])) / tick });
    } catch {
      // the process ended since it was listed
    }
  }
  return out;
}

/**
 * CPU seconds by role over a span in which processes may end (a killed worker) or start (its
 * replacement): each process's last sample less its first (0 for one started during the span).
 * Sample just before a kill: what a process used after its last sample is not counted.
 */
export class CpuLedger {
  private readonly first: Map<number, { role: string; cpu: number }>;
  private readonly last: Map<number, { role: string; cpu: number }>;

  constructor(private readonly processes: () => { pid: number; cmd: string }[]) {
    this.first = stackCpuByPid(processes());
    this.last = new Map(this.first);
  }

  sample(): void {
    for (const [pid, v] of stackCpuByPid(this.processes())) this.last.set(pid, v);
  }

  byRole(): Record<string, number> {
    this.sample();
    const out: Record<string, number> = {};
    for (const [pid, { role, cpu }] of this.last) out[role] = (out[role] ?? 0) + cpu - (this.first.get(pid)?.cpu ?? 0);
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Math.round(v * 10) / 10]));
  }
}

export function rssMiB(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}
