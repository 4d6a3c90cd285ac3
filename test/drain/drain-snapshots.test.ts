import { DescribeContainerInstancesCommand, ListContainerInstancesCommand } from '@aws-sdk/client-ecs';
import type { AwsClients } from '../../activities/aws/clients';
import { SharedDrainCalls } from '../../activities/drain/shared-calls';
import { SharedSnapshot } from '../../common/batching';

/** Shared sweeps are not trusted past their age, and a reading that would end a drain at once is verified. */

describe('SharedSnapshot.any', () => {
  it('refreshes a snapshot older than the maximum age instead of handing it out', async () => {
    let clock = 1_000_000;
    let sweeps = 0;
    const snap = new SharedSnapshot(async () => ++sweeps, 0, () => clock);
    expect(await snap.any(10_000)).toBe(1);
    clock += 5_000;
    expect(await snap.any(10_000)).toBe(1);
    clock += 6_000;
    expect(await snap.any(10_000)).toBe(2);
  });
});

/** A cluster of one container instance whose state the test changes between sweeps. */
function fakeCluster(state: { status: string; running: number }): { aws: AwsClients; sweeps: () => number } {
  let sweeps = 0;
  const ecs = {
    async send(cmd: unknown) {
      if (cmd instanceof ListContainerInstancesCommand) {
        sweeps += 1;
        return { containerInstanceArns: ['arn:ci/1'] };
      }
      if (cmd instanceof DescribeContainerInstancesCommand) {
        return { containerInstances: [{ containerInstanceArn: 'arn:ci/1', ec2InstanceId: 'i-1', status: state.status, runningTasksCount: state.running, pendingTasksCount: 0 }] };
      }
      throw new Error('unexpected call');
    },
  };
  return { aws: { ecs } as unknown as AwsClients, sweeps: () => sweeps };
}

describe('SharedDrainCalls.findContainerInstance', () => {
  // Only the clock is faked: the sweeps' promises run as they would.
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000, doNotFake: ['setImmediate', 'setTimeout', 'clearTimeout', 'nextTick', 'queueMicrotask'] }));
  afterEach(() => jest.useRealTimers());

  it('does not trust an older sweep that reads DRAINING with no tasks: the instance came back ACTIVE with tasks', async () => {
    const state = { status: 'DRAINING', running: 0 };
    const { aws, sweeps } = fakeCluster(state);
    const calls = new SharedDrainCalls(aws, { indexMinIntervalMs: 0, clusterIndexMaxAgeMs: 60_000 });
    expect((await calls.findContainerInstance(['demo'], 'i-1', Date.now()))?.state).toMatchObject({ status: 'DRAINING', running: 0 });
    // Since that sweep (well inside its maximum age): set ACTIVE again and given tasks.
    state.status = 'ACTIVE';
    state.running = 2;
    jest.setSystemTime(1_005_000);
    const hit = await calls.findContainerInstance(['demo'], 'i-1', Date.now());
    expect(hit?.state).toMatchObject({ status: 'ACTIVE', running: 2 });
    expect(sweeps()).toBe(2);
  });

  it('sweeps again once the last sweep is older than the maximum age', async () => {
    const state = { status: 'ACTIVE', running: 2 };
    const { aws, sweeps } = fakeCluster(state);
    const calls = new SharedDrainCalls(aws, { indexMinIntervalMs: 0, clusterIndexMaxAgeMs: 10_000 });
    await calls.findContainerInstance(['demo'], 'i-1', 0);
    state.running = 1;
    jest.setSystemTime(1_005_000);
    expect((await calls.findContainerInstance(['demo'], 'i-1', 0))?.state.running).toBe(2);
    jest.setSystemTime(1_011_000);
    expect((await calls.findContainerInstance(['demo'], 'i-1', 0))?.state.running).toBe(1);
    expect(sweeps()).toBe(2);
  });
});
