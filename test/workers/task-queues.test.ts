import { TASK_QUEUE_CRITICAL, TASK_QUEUE_DEFAULT, TASK_QUEUE_DRAIN_COORDINATOR, TASK_QUEUES, workerTaskQueues } from '../../common/task-queues';
import { stackSettings } from '../../stack/settings';

describe('the task queues a worker process polls (FLEETOPS_WORKER_TASK_QUEUES)', () => {
  it('polls every queue when unset or empty', () => {
    expect(workerTaskQueues(undefined)).toEqual([TASK_QUEUE_CRITICAL, TASK_QUEUE_DRAIN_COORDINATOR, TASK_QUEUE_DEFAULT]);
    expect(workerTaskQueues(' ')).toEqual([...TASK_QUEUES]);
  });

  it('polls the queues named, once each, in the usual order', () => {
    expect(workerTaskQueues('fleetops-drain-coordinator')).toEqual([TASK_QUEUE_DRAIN_COORDINATOR]);
    expect(workerTaskQueues('fleetops, fleetops-critical,fleetops')).toEqual([TASK_QUEUE_CRITICAL, TASK_QUEUE_DEFAULT]);
  });

  it('refuses a name that is no queue of fleetops, and an empty name, saying which are', () => {
    expect(() => workerTaskQueues('fleetops-critcal')).toThrow('FLEETOPS_WORKER_TASK_QUEUES=fleetops-critcal: each name must be one of fleetops-critical, fleetops-drain-coordinator, fleetops');
    expect(() => workerTaskQueues('fleetops,,fleetops-critical')).toThrow('each name must be one of');
  });
});

describe('the local stack with a coordinator worker (FLEETOPS_STACK_COORDINATOR_WORKER)', () => {
  it('is off unless set to 1, and refuses anything but 1 or 0', () => {
    expect(stackSettings({}).coordinatorWorker).toBe(false);
    expect(stackSettings({ FLEETOPS_STACK_COORDINATOR_WORKER: '1' }).coordinatorWorker).toBe(true);
    expect(stackSettings({ FLEETOPS_STACK_COORDINATOR_WORKER: '0' }).coordinatorWorker).toBe(false);
    expect(() => stackSettings({ FLEETOPS_STACK_COORDINATOR_WORKER: 'yes' })).toThrow('FLEETOPS_STACK_COORDINATOR_WORKER=yes: must be 1 or 0');
  });
});
