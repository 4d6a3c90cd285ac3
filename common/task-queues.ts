/**
 * Task queues. Drain work has a queue of its own so that no backlog of deploys, capacity plans or
 * incidents can delay a two-minute drain, and the drain coordinator one of its own beside it
 * (docs/contract.md, Processes).
 */
export const TASK_QUEUE_CRITICAL = 'fleetops-critical';
export const TASK_QUEUE_DEFAULT = 'fleetops';
/**
 * The drain coordinator's own queue, polled by a worker of its own in every worker process: in a
 * storm the critical worker's workflow task slots are full of drains' first tasks, and the task that
 * sends the storm's DRAINING call waited for a free slot however high its priority (2.1 s at
 * N = 2,000 on 2 cores, bench/spot-storm).
 */
export const TASK_QUEUE_DRAIN_COORDINATOR = 'fleetops-drain-coordinator';

/** Every queue, in the order a worker process starts its workers. */
export const TASK_QUEUES = [TASK_QUEUE_CRITICAL, TASK_QUEUE_DRAIN_COORDINATOR, TASK_QUEUE_DEFAULT] as const;
export type TaskQueue = (typeof TASK_QUEUES)[number];

/**
 * The queues a worker process polls, from FLEETOPS_WORKER_TASK_QUEUES (names separated by commas):
 * every queue when unset. A fleet of thousands of instances per worker may run the drain coordinator
 * in processes of their own (docs/operating.md, Sizing): one process has one event loop, and in a
 * storm every drain's activation waits in it, the coordinator's second task too.
 */
export function workerTaskQueues(raw: string | undefined): TaskQueue[] {
  if (raw === undefined || raw.trim() === '') return [...TASK_QUEUES];
  const names = raw.split(',').map((q) => q.trim());
  const unknown = names.filter((q) => !(TASK_QUEUES as readonly string[]).includes(q));
  if (unknown.length > 0 || names.includes('')) {
    throw new Error(`FLEETOPS_WORKER_TASK_QUEUES=${raw}: each name must be one of ${TASK_QUEUES.join(', ')}`);
  }
  return TASK_QUEUES.filter((q) => names.includes(q));
}
