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
