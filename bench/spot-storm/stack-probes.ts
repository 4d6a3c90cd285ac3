import { readFileSync } from 'node:fs';
import { TASK_QUEUE_CRITICAL } from '../../common/task-queues';

/** What the storm samples of the local stack's processes: the first worker's pollers, CPU time by role (pids and RSS: testkit/stack-workers.ts). */

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
