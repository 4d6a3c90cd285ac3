import { DescribeAutoScalingGroupsCommand, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { MockActivityEnvironment } from '@temporalio/testing';
import { startEmulator } from '../../testkit/emulator';
import { ASG, CLUSTER, seedCapacityWorld, type Seeded } from '../../testkit/capacity-world';
import { useEmulator } from '../harness/emulator';

/**
 * An Auto Scaling pool raised past what can launch, as AWS keeps it (the simulator's capacity
 * behaviour): the raised desired count stays, with fewer instances, and the group keeps trying. The
 * capacity activities must count what was delivered, not what was asked; the plan's withdrawal must
 * bring the desired count back to what was delivered, so the group does not fill the rest on top of
 * the pool the shortfall went to; what filled before the withdrawal is reported as surplus; and a
 * scale-in of the raised group is not refused at a min size the raised count is above.
 */


const emu = useEmulator(() => startEmulator({ autoTick: false }), { resetEach: false });
const run = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> => new MockActivityEnvironment().run(fn, ...args);
const group = async () => (await emu.aws.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [ASG] }))).AutoScalingGroups![0]!;

/** The ASG holds `held` ACTIVE instances; then it is asked for `ask` more with capacity for `room` of them. */
async function raisedShort(world: Seeded, held: number, ask: number, room: number) {
  const { activities } = world;
  await emu.sim.request('POST', 'capacity/config', { fulfilmentDelaySeconds: 0, bootDelaySeconds: 0, asgRetrySeconds: 3600, cluster: CLUSTER });
  let known: string[] = [];
  if (held > 0) {
    await run(activities.requestPoolCapacity, { cluster: CLUSTER, pool: 'on-demand', units: held, newTargetUnits: held, excludeOverrides: [], clientToken: 'held' });
    known = (await run(activities.awaitPoolFulfilment, { cluster: CLUSTER, pool: 'on-demand', knownInstanceIds: [], units: held, timeoutSeconds: 10, pollSeconds: 0.2 })).instances.map((i) => i.instanceId);
  }
  await emu.sim.request('POST', 'capacity/limits', { pools: { [ASG]: { maxUnits: held + room } } });
  const requestedAt = new Date().toISOString();
  const res = await run(activities.requestPoolCapacity, { cluster: CLUSTER, pool: 'on-demand', units: ask, newTargetUnits: held + ask, excludeOverrides: [], clientToken: 'short' });
  const f = await run(activities.awaitPoolFulfilment, { cluster: CLUSTER, pool: 'on-demand', requestedAt, knownInstanceIds: known, units: ask, timeoutSeconds: 10, pollSeconds: 0.2 });
  await emu.sim.tick('capacity');
  return { res, f, known };
}

/** Capacity returns and the group's next try launches what its desired count still asks for; those instances boot and serve. */
async function capacityReturns() {
  await emu.sim.request('POST', 'capacity/limits', { pools: {} });
  await emu.sim.request('POST', 'capacity/config', { asgRetrySeconds: 0 });
  await emu.sim.tick('capacity');
  await emu.sim.tick('capacity');
}

describe('an ASG raised past what can launch', () => {
  it('counts only what launched, and the withdrawal lowers the desired count to it: the group fills nothing later', async () => {
    const world = await seedCapacityWorld(emu);
    const { res, f, known } = await raisedShort(world, 2, 3, 1);
    expect(res).toMatchObject({ kind: 'target', newTargetUnits: 5 });
    // Asked 3, delivered 1: the capacity error ends the wait; the group keeps the raised count.
    expect(f).toMatchObject({ deliveredUnits: 1, timedOut: false, capacityError: { code: 'InsufficientInstanceCapacity' } });
    expect([(await group()).DesiredCapacity, (await group()).Instances?.length]).toEqual([5, 3]);
    const snap = await run(world.activities.describeCapacity, { cluster: CLUSTER });
    expect(snap.state.find((p) => p.name === 'on-demand')).toMatchObject({ targetUnits: 5, actualUnits: 3 });

    // What the plan does next (scale-out.ts): withdraw to what it had plus what was delivered.
    const out = await run(world.activities.setPoolTarget, { cluster: CLUSTER, pool: 'on-demand', targetUnits: 3, keepInstanceIds: [...known, ...f.instances.map((i) => i.instanceId)] });
    expect((out as { surplusUnits?: number }).surplusUnits ?? 0).toBe(0);
    expect((await group()).DesiredCapacity).toBe(3);

    await capacityReturns();
    const g = await group();
    expect([g.DesiredCapacity, g.Instances?.length]).toEqual([3, 3]);
  });

  it('reports as surplus what the group filled, and serves, before the raise was withdrawn', async () => {
    const world = await seedCapacityWorld(emu);
    const { f, known } = await raisedShort(world, 1, 3, 1);
    expect(f.deliveredUnits).toBe(1);
    // The withdrawal is owed (a throttled call) while capacity returns: the group fills its raised count.
    await capacityReturns();
    expect((await group()).Instances).toHaveLength(4);

    const out = await run(world.activities.setPoolTarget, { cluster: CLUSTER, pool: 'on-demand', targetUnits: 2, keepInstanceIds: [...known, ...f.instances.map((i) => i.instanceId)] });
    // The late two serve (ACTIVE): the group must not choose victims, so they stay and are surplus to drain.
    const g = await group();
    expect([g.DesiredCapacity, g.Instances?.length]).toEqual([4, 4]);
    expect((out as { surplusUnits?: number }).surplusUnits).toBe(2);
  });

  it('takes a drained instance out of a raised group whose raised count is above its min size, though fewer instances launched', async () => {
    const world = await seedCapacityWorld(emu);
    const { known } = await raisedShort(world, 2, 2, 0);
    await emu.aws.autoscaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: ASG, MinSize: 2 }));
    expect([(await group()).DesiredCapacity, (await group()).Instances?.length]).toEqual([4, 2]);

    await run(world.activities.removePoolInstance, { cluster: CLUSTER, pool: 'on-demand', instanceId: known[0]!, weight: 1 });
    const g = await group();
    expect(g.Instances?.map((i) => i.InstanceId)).toEqual([known[1]]);
    expect(g.DesiredCapacity).toBe(3);
  });
});
