/**
 * Task queues. Drain work has a queue of its own so that no backlog of deploys, capacity plans or
 * incidents can delay a two-minute drain (docs/contract.md, Processes).
 */
export const TASK_QUEUE_CRITICAL = 'fleetops-critical';
export const TASK_QUEUE_DEFAULT = 'fleetops';
