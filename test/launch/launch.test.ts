import type { WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';

import type { LaunchActivities } from '../../activities/launch';
import { abortUpdate, statusQuery } from '../../contracts/controls';
import { FailureType } from '../../common/failures';
import { launchStartOptions } from '../../contracts/launch/start';
import type { LaunchInput } from '../../contracts/launch/input';
import type { LaunchResult, LaunchStatus, LaunchWorkflow } from '../../contracts/launch/messages';
import { until } from '../../testkit/poll';
import { bundledWorkflows, createTimeSkippingEnv, recordHistory, uniqueTaskQueue } from '../harness/temporal';
import { createWorker } from '../harness/workers';
import { mockActivities } from './launch-mocks';

/**
 * The launch workflow on the time-skipping server with mocked activities: CONTINUE once the instance
 * is ACTIVE, ABANDON at the configured time, heartbeats meanwhile, abort, and a completion that fails.
 * The activities themselves run against the emulator in test/launch/launch-activities.test.ts.
 */

let env: TestWorkflowEnvironment;
let counter = 0;

beforeAll(async () => {
  env = await createTimeSkippingEnv();
});

afterAll(async () => {
  await env?.teardown();
});

const newInstanceId = () => `i-${(Date.now().toString(16) + (++counter).toString(16).padStart(4, '0')).padStart(17, '0').slice(-17)}`;

async function input(over: Partial<LaunchInput> = {}): Promise<LaunchInput> {
  return {
    instanceId: newInstanceId(),
    cluster: 'demo',
    lifecycle: { hookName: 'demo-launch', asgName: 'demo-on-demand', actionToken: '19ad2f2c-5fcc-4fa1-bc9b-6a7d2fbfe26a' },
    eventId: `ev-${counter}`,
    eventTime: new Date(await env.currentTimeMs()).toISOString(),
    timeoutSeconds: 300,
    heartbeatSeconds: 60,
    ...over,
  };
}

async function run(
  name: string,
  i: LaunchInput,
  activities: LaunchActivities,
  during: (h: WorkflowHandle<LaunchWorkflow>) => Promise<void> = async () => undefined,
): Promise<{ result: LaunchResult; status: LaunchStatus; seconds: number; closedMs: number }> {
  const taskQueue = uniqueTaskQueue(`launch-${name}`);
  const worker = await createWorker({ connection: env.nativeConnection, taskQueue, ...bundledWorkflows(), activities });
  return worker.runUntil(async () => {
    const start = launchStartOptions(i);
    const handle = await env.client.workflow.start<LaunchWorkflow>(start.workflowType, { ...start, taskQueue });
    await during(handle);
    const result = await handle.result();
    const status = (await handle.query(statusQuery)) as LaunchStatus;
    const d = await handle.describe();
    await recordHistory(handle, 'launch', name);
    const closedMs = d.closeTime?.getTime() ?? 0;
    return { result, status, seconds: (closedMs - d.startTime.getTime()) / 1000, closedMs };
  });
}

describe('launch workflow (time-skipping, mocked activities)', () => {
  it('completes CONTINUE once the instance is an ACTIVE container instance', async () => {
    const seen = ['not-registered', 'REGISTERING', 'ACTIVE'];
    const { activities, calls } = mockActivities({
      async waitForContainerInstance() {
        const status = seen.shift() ?? 'ACTIVE';
        return status === 'ACTIVE' ? { status, containerInstanceArn: 'arn:aws:ecs:us-east-1:123456789012:container-instance/demo/abc', agentConnected: true } : { status };
      },
    });
    const i = await input();
    const { result, status, seconds } = await run('continued', i, activities);
    expect(result).toMatchObject({ outcome: 'continued', completed: true, containerInstanceArn: expect.stringContaining('container-instance/demo/') });
    expect(status).toMatchObject({ phase: 'continued', outcome: 'continued', containerInstanceStatus: 'ACTIVE' });
    expect(calls.waitForContainerInstance).toHaveLength(3);
    expect(calls.completeLaunchLifecycleAction).toEqual([[{ lifecycle: i.lifecycle, cluster: 'demo', instanceId: i.instanceId, result: 'CONTINUE' }]]);
    // Two slices that came back early were sat out to their stop time: 2 × 60 s, not a spin.
    expect(seconds).toBeGreaterThanOrEqual(119);
    expect(seconds).toBeLessThan(130);
  });

  it('completes ABANDON when the instance has not joined by the configured time, heartbeating the action meanwhile', async () => {
    const { activities, calls } = mockActivities({
      async waitForContainerInstance() {
        return { status: 'REGISTERING' };
      },
    });
    const i = await input({ timeoutSeconds: 300, heartbeatSeconds: 70 });
    const { result, status, closedMs } = await run('abandoned-after-timeout', i, activities);
    expect(result.outcome).toBe('abandoned');
    expect(result.reason).toBe(`${i.instanceId} was not an ACTIVE container instance of demo within 300 s (last seen: REGISTERING)`);
    expect(calls.completeLaunchLifecycleAction).toEqual([[{ lifecycle: i.lifecycle, cluster: 'demo', instanceId: i.instanceId, result: 'ABANDON' }]]);
    // Decided at the event's time + 300 s (workflow time), not earlier.
    const fromEvent = (closedMs - Date.parse(i.eventTime)) / 1000;
    expect(fromEvent).toBeGreaterThanOrEqual(299);
    expect(fromEvent).toBeLessThan(310);
    // One heartbeat every 70 s of waiting (at 70, 140, 210, 280 s; at 300 s the action is decided).
    expect(calls.recordLaunchLifecycleHeartbeat).toHaveLength(4);
    expect(status.lifecycleHeartbeats).toBe(4);
  });

  it("heartbeats within a third of the hook's HeartbeatTimeout when that is shorter than the configured interval", async () => {
    const { activities, calls } = mockActivities({
      async waitForContainerInstance() {
        return { status: 'REGISTERING' };
      },
      // The shortest HeartbeatTimeout Auto Scaling allows; the default 60 s interval would let it run out.
      async describeLaunchLifecycleHook() {
        return { found: true, heartbeatTimeoutSeconds: 30, globalTimeoutSeconds: 3000, defaultResult: 'ABANDON' };
      },
    });
    const i = await input({ timeoutSeconds: 120, heartbeatSeconds: 60 });
    const { result } = await run('heartbeat-clamped-to-hook', i, activities);
    expect(result.outcome).toBe('abandoned');
    expect(calls.describeLaunchLifecycleHook).toEqual([[{ lifecycle: i.lifecycle, cluster: 'demo' }]]);
    // Every 10 s (a third of 30 s) over the 120 s: at 10, 20, ... 110 s.
    expect(calls.recordLaunchLifecycleHeartbeat?.length).toBeGreaterThanOrEqual(11);
  });

  it('a launch into the warm pool completes CONTINUE at once: the instance is stopped into the pool, it does not join the cluster now', async () => {
    const { activities, calls } = mockActivities({
      async waitForContainerInstance() {
        return { status: 'not-registered' };
      },
    });
    const i = await input({ destination: 'WarmPool', timeoutSeconds: 300 });
    const { result, seconds } = await run('warm-pool', i, activities);
    expect(result).toMatchObject({ outcome: 'continued', completed: true });
    expect(result.reason).toBe(`${i.instanceId} launches into the warm pool of demo-on-demand: it is stopped there, and joins demo when it leaves the pool`);
    expect(calls.completeLaunchLifecycleAction).toEqual([[{ lifecycle: i.lifecycle, cluster: 'demo', instanceId: i.instanceId, result: 'CONTINUE' }]]);
    expect(calls.waitForContainerInstance).toBeUndefined();
    expect(calls.recordLaunchLifecycleHeartbeat).toBeUndefined();
    expect(seconds).toBeLessThan(5);
  });

  it('counts the configured time from the event: an event already older than it is abandoned at once', async () => {
    const { activities, calls } = mockActivities();
    const i = await input({ eventTime: new Date((await env.currentTimeMs()) - 400_000).toISOString(), timeoutSeconds: 300 });
    const { result } = await run('abandoned-stale-event', i, activities);
    expect(result.outcome).toBe('abandoned');
    expect(calls.waitForContainerInstance).toBeUndefined();
  });

  it('abort completes ABANDON with the reason and who asked', async () => {
    const { activities, calls } = mockActivities({
      async waitForContainerInstance() {
        return { status: 'not-registered' };
      },
    });
    const i = await input({ timeoutSeconds: 3600 });
    const { result, status } = await run('aborted', i, activities, async (h) => {
      await until('the launch to wait for its container instance', () => calls.waitForContainerInstance, { timeoutMs: 5_000, intervalMs: 50 });
      await h.executeUpdate(abortUpdate, { args: [{ reason: 'bad AMI', by: 'alice' }] });
    });
    expect(result).toMatchObject({ outcome: 'abandoned', reason: 'aborted by alice: bad AMI', completed: true });
    expect(status.phase).toBe('abandoned');
    expect(calls.completeLaunchLifecycleAction?.[0]?.[0]).toMatchObject({ result: 'ABANDON' });
  });

  it('in dry run the completion is recorded, not made', async () => {
    const { activities, calls } = mockActivities();
    const i = await input({ dryRun: true });
    const { result, status } = await run('dry-run', i, activities);
    expect(calls.completeLaunchLifecycleAction?.[0]?.[0]).toMatchObject({ dryRun: true, result: 'CONTINUE' });
    expect(result.dryRunCalls).toEqual([{ action: 'autoscaling:CompleteLifecycleAction', params: { LifecycleActionResult: 'CONTINUE' } }]);
    expect(status.dryRun).toBe(true);
  });

  it('a completion that fails for good leaves the action to the hook, and says so', async () => {
    const { activities } = mockActivities({
      async completeLaunchLifecycleAction() {
        throw ApplicationFailure.nonRetryable('No active Lifecycle Action found with token', FailureType.InvalidRequest);
      },
    });
    const { result, status } = await run('completion-failed', await input(), activities);
    expect(result).toMatchObject({ outcome: 'continued', completed: false });
    expect(result.reason).toContain('CompleteLifecycleAction failed: No active Lifecycle Action found with token');
    expect(status.summary).toContain('(lifecycle action not completed)');
  });
});
