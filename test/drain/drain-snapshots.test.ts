import { DescribeContainerInstancesCommand, ListContainerInstancesCommand, UpdateContainerInstancesStateCommand } from '@aws-sdk/client-ecs';
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

/**
 * A cluster of one container instance whose state the test changes between sweeps. UpdateContainerInstancesState
 * sets its status; `holdDescribe` makes the next sweep read the instance (`read`), then wait for `release` before it answers.
 */
function fakeCluster(state: { status: string; running: number }): { aws: AwsClients; sweeps: () => number; holdDescribe: () => { read: Promise<void>; release: () => void } } {
  let sweeps = 0;
  let held: { read: () => void; released: Promise<void> } | undefined;
  const ecs = {
    async send(cmd: unknown) {
      if (cmd instanceof ListContainerInstancesCommand) {
        sweeps += 1;
        return { containerInstanceArns: ['arn:ci/1'] };
      }
      if (cmd instanceof DescribeContainerInstancesCommand) {
        const read = { containerInstanceArn: 'arn:ci/1', ec2InstanceId: 'i-1', status: state.status, runningTasksCount: state.running, pendingTasksCount: 0 };
        if (held) {
          held.read();
          await held.released;
        }
        return { containerInstances: [read] };
      }
      if (cmd instanceof UpdateContainerInstancesStateCommand) {
        state.status = cmd.input.status!;
        return { containerInstances: [{ containerInstanceArn: 'arn:ci/1', status: state.status }], failures: [] };
      }
      throw new Error('unexpected call');
    },
  };
  const holdDescribe = () => {
    let read!: () => void;
    let release!: () => void;
    const wasRead = new Promise<void>((r) => (read = r));
    held = { read, released: new Promise<void>((r) => (release = r)) };
    return {
      read: wasRead,
      release: () => {
        held = undefined;
        release();
      },
    };
  };
  return { aws: { ecs } as unknown as AwsClients, sweeps: () => sweeps, holdDescribe };
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

describe('SharedDrainCalls: what this worker set reads so in its sweeps taken before', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000, doNotFake: ['setImmediate', 'setTimeout', 'clearTimeout', 'nextTick', 'queueMicrotask'] }));
  afterEach(() => jest.useRealTimers());

  // A voluntary drain sweeps (its budget's DRAINING list), then sets DRAINING; the same instance's
  // next resolve and the drain coordinator's read that sweep for up to clusterIndexMaxAgeMs.
  it('an instance it set DRAINING after a sweep reads DRAINING from that sweep, with no sweep again', async () => {
    const state = { status: 'ACTIVE', running: 1 };
    const { aws, sweeps } = fakeCluster(state);
    const calls = new SharedDrainCalls(aws, { indexMinIntervalMs: 0, lingerMs: 0, clusterIndexMaxAgeMs: 10_000 });
    expect(await calls.drainingIn('demo')).toEqual([]);
    jest.setSystemTime(1_000_500);
    await calls.setDraining('demo', 'arn:ci/1');
    jest.setSystemTime(1_003_000);
    expect((await calls.findContainerInstance(['demo'], 'i-1', Date.now()))?.state).toMatchObject({ status: 'DRAINING', running: 1 });
    expect(sweeps()).toBe(1);
  });

  it('a sweep under way when DRAINING was set reads DRAINING too', async () => {
    const state = { status: 'ACTIVE', running: 1 };
    const { aws, holdDescribe } = fakeCluster(state);
    const calls = new SharedDrainCalls(aws, { indexMinIntervalMs: 0, lingerMs: 0, clusterIndexMaxAgeMs: 10_000 });
    const hold = holdDescribe();
    const sweep = calls.findContainerInstance(['demo'], 'i-1', Date.now());
    // The sweep has read ACTIVE and not answered yet when the drain's call returns.
    await hold.read;
    jest.setSystemTime(1_000_200);
    await calls.setDraining('demo', 'arn:ci/1');
    hold.release();
    expect((await sweep)?.state.status).toBe('DRAINING');
    expect(await calls.drainingIn('demo')).toEqual(['arn:ci/1']);
  });

  it('an instance it set ACTIVE again reads ACTIVE; a sweep started after a status was set reads AWS as it is', async () => {
    const state = { status: 'DRAINING', running: 2 };
    const { aws, sweeps } = fakeCluster(state);
    const calls = new SharedDrainCalls(aws, { indexMinIntervalMs: 0, lingerMs: 0, clusterIndexMaxAgeMs: 10_000 });
    expect((await calls.findContainerInstance(['demo'], 'i-1', Date.now()))?.state.status).toBe('DRAINING');
    jest.setSystemTime(1_001_000);
    state.status = 'ACTIVE';
    calls.noteStatusSet('demo', 'arn:ci/1', 'ACTIVE');
    expect((await calls.findContainerInstance(['demo'], 'i-1', Date.now()))?.state.status).toBe('ACTIVE');
    expect(sweeps()).toBe(1);
    // Someone else sets it DRAINING later: a sweep started after this worker's call shows that.
    jest.setSystemTime(1_002_000);
    state.status = 'DRAINING';
    expect(await calls.drainingIn('demo')).toEqual(['arn:ci/1']);
    expect(sweeps()).toBe(2);
  });
});
