import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';

import { moveWorkOffFrom, type DrainActivities } from '../../activities/drain';
import { statusQuery } from '../../contracts/controls';
import { drainStartOptions } from '../../contracts/spot-drain/start';
import type { DrainEvent } from '../../contracts/spot-drain/input';
import { DEFAULT_DRAIN, DrainState, eventDeadlineMs } from '../../workflows/spot-drain/state';
import { drainEventSignal, type DrainStatus, type SpotDrainWorkflow } from '../../contracts/spot-drain/messages';
import { until } from '../../testkit/poll';
import { bundledWorkflows, createTimeSkippingEnv, recordHistory, uniqueTaskQueue } from '../harness/temporal';
import { createWorker } from '../harness/workers';

/**
 * The drain events that EC2 state changes and AWS Health scheduled changes bring (router/events/instance-state-change.ts, health-event.ts):
 * `instance-stopping` drains on the warning deadline, `scheduled-change` replaces first and drains
 * before the change's start, `instance-gone` closes a drain that is still running. The drain itself is
 * lane 14's; these cases cover only what the new event kinds change.
 */

const CLUSTER = 'demo';
const ARN = 'arn:aws:ecs:us-east-1:123456789012:container-instance/demo/0123456789abcdef';
const at = (iso: string) => Date.parse(iso);
const ev = (kind: DrainEvent['kind'], eventTime: string, extra: Partial<DrainEvent> = {}): DrainEvent => ({
  kind,
  instanceId: 'i-0123456789abcdef0',
  eventId: `ev-${kind}-${Math.random().toString(36).slice(2, 8)}`,
  eventTime,
  ...extra,
});

describe('DrainState with the new event kinds (no server)', () => {
  it('instance-stopping has the warning deadline; instance-gone closes at its own time; scheduled-change is relaxed unless its start is sooner', () => {
    const t = '2024-05-01T12:00:00.000Z';
    expect(eventDeadlineMs(ev('instance-stopping', t), DEFAULT_DRAIN)).toBe(at(t) + 120_000);
    expect(eventDeadlineMs(ev('instance-gone', t), DEFAULT_DRAIN)).toBe(at(t));
    expect(eventDeadlineMs(ev('scheduled-change', t, { deadline: '2024-05-15T12:00:00.000Z' }), DEFAULT_DRAIN)).toBe(at(t) + 600_000);
    expect(eventDeadlineMs(ev('scheduled-change', t, { deadline: '2024-05-01T12:05:00.000Z' }), DEFAULT_DRAIN)).toBe(at('2024-05-01T12:05:00.000Z'));
  });

  it('mode: a stopping instance outranks a lifecycle action; a scheduled change replaces first like a rebalance; instance-gone never governs', () => {
    const s = new DrainState('i-0123456789abcdef0', false, () => at('2024-05-01T12:00:00.000Z'));
    s.addEvent(ev('scheduled-change', '2024-05-01T12:00:00.000Z'));
    expect([s.mode(), s.replaceFirst()]).toEqual(['scheduled-change', true]);
    s.addEvent(ev('lifecycle-terminate', '2024-05-01T12:00:00.000Z', { lifecycle: { hookName: 'h', asgName: 'a', actionToken: 't' } }));
    expect([s.mode(), s.replaceFirst()]).toEqual(['lifecycle-terminate', false]);
    s.addEvent(ev('instance-stopping', '2024-05-01T12:00:00.000Z'));
    s.addEvent(ev('instance-gone', '2024-05-01T12:01:00.000Z'));
    expect(s.mode()).toBe('instance-stopping');
    expect(s.deadlineMs()).toBe(at('2024-05-01T12:01:00.000Z'));
  });
});

describe('spotDrain with the new event kinds (time-skipping, mocked activities)', () => {
  let env: TestWorkflowEnvironment;
  let n = 0;
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  const instance = () => `i-${(Date.now().toString(16) + (++n).toString(16).padStart(4, '0')).padStart(17, '0').slice(-17)}`;

  function mocks(tasksLeft: () => number): { activities: DrainActivities; order: string[] } {
    const order: string[] = [];
    const log = <T>(name: string, v: T) => async () => (order.push(name), v);
    const activities = {
      resolveDrainTarget: log('resolve', {
        found: true,
        cluster: CLUSTER,
        containerInstanceArn: ARN,
        status: 'ACTIVE',
        instanceType: 'm5.large',
        runningTasks: 2,
        pendingTasks: 0,
        capacityUnits: 1,
        drain: DEFAULT_DRAIN,
      }),
      setContainerInstanceDraining: log('set-draining', { alreadyDraining: false, dryRunCalls: [] }),
      deregisterInstanceTargets: log('deregister', { targetGroups: [], dryRunCalls: [] }),
      moveStandaloneTasks: log('move', { stopped: [], rerun: [], rerunFailed: [], orchestrated: [], serviceTasks: 2, dryRunCalls: [] }),
      async waitForInstanceTasks() {
        order.push('wait');
        const left = tasksLeft();
        return { tasksLeft: left, running: left, pending: 0 };
      },
      requestReplacementCapacity: async (input: { cluster: string }) => (order.push('request-capacity'), { workflowId: `capacity-${input.cluster}`, dryRunCalls: [] }),
      recordLifecycleHeartbeat: log('heartbeat', { active: true, dryRunCalls: [] }),
      completeLifecycleAction: log('complete', { alreadyCompleted: false, dryRunCalls: [] }),
      describeLifecycleHook: log('describe-hook', { found: false }),
      findInstancePool: log('find-pool', { found: true, pool: 'spot-instant', kind: 'ec2-fleet', replacesOwnInstances: false }),
      waitForReplacement: log('wait-for-replacement', { arrived: true, containerInstanceArn: `${ARN}-new`, instanceId: 'i-0fedcba9876543210' }),
      terminateDrainedInstance: log('terminate', { dryRunCalls: [] }),
      setDrainingWithinBudget: log('set-draining', { granted: true, draining: 0, dryRunCalls: [] }),
      setDrainingWithSlot: log('set-draining', { granted: true, holders: 1, others: 0, budget: 2, dryRunCalls: [] }),
      requestDrainIncident: async () => (order.push('incident'), { requested: true, workflowId: 'incident-drain-x', detail: 'asked' }),
    } as unknown as Omit<DrainActivities, 'moveWorkOff'>;
    return { activities: { ...activities, moveWorkOff: moveWorkOffFrom(activities) }, order };
  }

  async function start(taskQueue: string, e: DrainEvent): Promise<WorkflowHandle<SpotDrainWorkflow>> {
    const s = drainStartOptions({ instanceId: e.instanceId }, { why: e.kind });
    return env.client.workflow.signalWithStart<SpotDrainWorkflow, [DrainEvent]>(s.workflowType, { ...s, taskQueue, signal: drainEventSignal, signalArgs: [e] });
  }

  const now = async () => new Date(await env.currentTimeMs()).toISOString();

  it('instance stopping: drains at once on the two-minute deadline', async () => {
    const taskQueue = uniqueTaskQueue('drain-stopping');
    const { activities, order } = mocks(() => 0);
    const worker = await createWorker({ connection: env.nativeConnection, taskQueue, ...bundledWorkflows(), activities });
    const e = { ...ev('instance-stopping', await now()), instanceId: instance() };
    e.deadline = new Date(at(e.eventTime) + 120_000).toISOString();
    const { result, status } = await worker.runUntil(async () => {
      const h = await start(taskQueue, e);
      const r = await h.result();
      const st = (await h.query(statusQuery)) as DrainStatus;
      await recordHistory(h, 'spot-drain', 'instance-stopping');
      return { result: r, status: st };
    });
    expect(status.mode).toBe('instance-stopping');
    expect(result).toMatchObject({ outcome: 'drained', deadline: e.deadline, notDone: [] });
    expect(order.indexOf('set-draining')).toBeLessThan(order.indexOf('request-capacity'));
  });

  it('AWS Health scheduled change: asks for the replacement first, then drains on the relaxed deadline', async () => {
    const taskQueue = uniqueTaskQueue('drain-scheduled');
    const { activities, order } = mocks(() => 0);
    const worker = await createWorker({ connection: env.nativeConnection, taskQueue, ...bundledWorkflows(), activities });
    const e = { ...ev('scheduled-change', await now(), { deadline: new Date((await env.currentTimeMs()) + 14 * 86_400_000).toISOString() }), instanceId: instance() };
    const result = await worker.runUntil(async () => {
      const h = await start(taskQueue, e);
      const r = await h.result();
      await recordHistory(h, 'spot-drain', 'scheduled-change');
      return r;
    });
    expect(result).toMatchObject({ outcome: 'drained', deadline: new Date(at(e.eventTime) + 600_000).toISOString() });
    expect(order.filter((o) => o !== 'find-pool').slice(0, 4)).toEqual(['resolve', 'request-capacity', 'wait-for-replacement', 'set-draining']);
    expect(order[order.length - 1]).toBe('terminate');
  });

  it('instance gone (stopped/terminated) closes a drain that is still waiting for its tasks', async () => {
    const taskQueue = uniqueTaskQueue('drain-gone');
    const { activities, order } = mocks(() => 2);
    const worker = await createWorker({ connection: env.nativeConnection, taskQueue, ...bundledWorkflows(), activities });
    const instanceId = instance();
    const { result, fromGone } = await worker.runUntil(async () => {
      const h = await start(taskQueue, { ...ev('rebalance-recommendation', await now()), instanceId });
      await until('the drain to wait for its tasks', () => order.includes('wait'), { timeoutMs: 10_000, intervalMs: 50 });
      const gone = { ...ev('instance-gone', await now()), instanceId };
      await h.signal(drainEventSignal, gone);
      const r = await h.result();
      await recordHistory(h, 'spot-drain', 'instance-gone');
      const d = await h.describe();
      return { result: r, fromGone: ((d.closeTime?.getTime() ?? 0) - at(gone.eventTime)) / 1000 };
    });
    // Closed when the instance went, not at the rebalance deadline ten minutes on; the tasks it still ran are on the record.
    expect(result).toMatchObject({ outcome: 'deadline-missed', tasksLeft: 2 });
    expect(fromGone).toBeLessThan(5);
    expect(order).toContain('incident');
  });
});
