import { DescribeAutoScalingGroupsCommand, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, DescribeSpotFleetRequestHistoryCommand, DescribeSpotFleetRequestsCommand } from '@aws-sdk/client-ec2';
import { MockActivityEnvironment } from '@temporalio/testing';
import { RegisterContainerInstanceCommand } from '@aws-sdk/client-ecs';
import { POOL_TAG_POOL } from '../../activities/capacity/types';
import { startEmulator } from '../../testkit/emulator';
import { useEmulator } from '../harness/emulator';
import { ASG, CLUSTER, seedCapacityWorld } from '../../testkit/capacity-world';

/**
 * Capacity activities against moto behind the simulator, with the capacity behaviour
 * (simulator/behaviours/capacity.ts) supplying the capacity errors, delayed fulfilment and
 * container-instance registration moto lacks. Assertions read AWS state back.
 */

const emu = useEmulator(() => startEmulator(), { resetEach: false });

const run = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> => new MockActivityEnvironment().run(fn, ...args);

describe('capacity activities against moto + simulator', () => {
  it('CreateFleet instant launches what capacity allows and names each override that ran out; instances join the cluster after boot', async () => {
    const { activities } = await seedCapacityWorld(emu);
    await emu.sim.request('POST', 'capacity/limits', {
      overrides: [
        { instanceType: 'm5.large', availabilityZone: 'us-east-1a', market: 'spot', available: 1 },
        { instanceType: 'm5a.large', availabilityZone: 'us-east-1b', market: 'spot', available: 0, errorCode: 'InsufficientInstanceCapacity' },
      ],
    });
    await emu.sim.request('POST', 'capacity/config', { bootDelaySeconds: 0 });
    const res = await run(activities.requestPoolCapacity, {
      cluster: CLUSTER,
      pool: 'spot-instant',
      units: 3,
      newTargetUnits: 3,
      excludeOverrides: [],
      clientToken: 'test-1',
    });
    if (res.kind !== 'instant') throw new Error('expected an instant result');
    expect(res.launchedUnits).toBe(1);
    expect(res.launched[0]).toMatchObject({ instanceType: 'm5.large', availabilityZone: 'us-east-1a', weight: 1 });
    expect(res.errors.map((e) => [e.instanceType, e.availabilityZone, e.code])).toEqual([
      ['m5.large', 'us-east-1a', 'InsufficientInstanceCapacity'],
      ['m5a.large', 'us-east-1b', 'InsufficientInstanceCapacity'],
    ]);
    const id = res.launched[0]!.instanceId;
    const described = await emu.aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
    expect(described.Reservations?.[0]?.Instances?.[0]?.Tags).toEqual(expect.arrayContaining([{ Key: POOL_TAG_POOL, Value: 'spot-instant' }]));

    await emu.sim.tick('capacity');
    const active = await run(activities.awaitContainerInstancesActive, { cluster: CLUSTER, instanceIds: [id], timeoutSeconds: 10, pollSeconds: 0.2 });
    expect(active).toEqual({ active: [id], missing: [] });
    const snap = await run(activities.describeCapacity, { cluster: CLUSTER });
    expect(snap.state.find((p) => p.name === 'spot-instant')).toMatchObject({ actualUnits: 1, activeUnits: 1 });
  });

  it('instances moto launches for CreateFleet (no capacity limits set) also join the cluster their tag names after boot', async () => {
    const { activities } = await seedCapacityWorld(emu);
    const res = await run(activities.requestPoolCapacity, {
      cluster: CLUSTER,
      pool: 'spot-instant',
      units: 2,
      newTargetUnits: 2,
      excludeOverrides: [],
      clientToken: 'no-limits',
    });
    if (res.kind !== 'instant') throw new Error('expected an instant result');
    expect([res.launchedUnits, res.errors]).toEqual([2, []]);
    expect((await emu.sim.calls({ service: 'ec2', action: 'CreateFleet' })).map((c) => c.handledBy)).toEqual(['moto']);
    await emu.sim.tick('capacity');
    const ids = res.launched.map((i) => i.instanceId);
    const active = await run(activities.awaitContainerInstancesActive, { cluster: CLUSTER, instanceIds: ids, timeoutSeconds: 10, pollSeconds: 0.2 });
    expect(active).toEqual({ active: ids, missing: [] });
  });

  it('CreateFleet answers a repeated ClientToken with the first fleet and its instances, and other parameters with IdempotentParameterMismatch', async () => {
    const { activities } = await seedCapacityWorld(emu);
    const ask = { cluster: CLUSTER, pool: 'spot-instant', units: 2, newTargetUnits: 2, excludeOverrides: [], clientToken: 'plan-1' };
    const first = await run(activities.requestPoolCapacity, ask);
    const again = await run(activities.requestPoolCapacity, ask);
    if (first.kind !== 'instant' || again.kind !== 'instant') throw new Error('expected instant results');
    expect(first.launchedUnits).toBe(2);
    expect(again.launched.map((i) => i.instanceId)).toEqual(first.launched.map((i) => i.instanceId));
    const snap = await run(activities.describeCapacity, { cluster: CLUSTER });
    expect(snap.state.find((p) => p.name === 'spot-instant')?.actualUnits).toBe(2);
    await expect(run(activities.requestPoolCapacity, { ...ask, units: 3, newTargetUnits: 3 })).rejects.toMatchObject({
      message: expect.stringMatching(/IdempotentParameterMismatch/),
    });
  });

  it('leaves overrides marked unavailable out of CreateFleet and records the call in a dry run', async () => {
    const { activities } = await seedCapacityWorld(emu);
    const dry = await run(activities.requestPoolCapacity, {
      cluster: CLUSTER,
      pool: 'spot-instant',
      units: 2,
      newTargetUnits: 2,
      excludeOverrides: [{ instanceType: 'm5.large', availabilityZone: 'us-east-1a' }],
      clientToken: 'test-dry',
      dryRun: true,
    });
    expect(dry.dryRunCall?.action).toBe('ec2:CreateFleet');
    const params = dry.dryRunCall?.params as { LaunchTemplateConfigs: { Overrides: { InstanceType: string }[] }[]; SpotOptions: { AllocationStrategy: string } };
    expect(params.LaunchTemplateConfigs[0]!.Overrides.map((o) => o.InstanceType)).toEqual(['m5a.large']);
    expect(params.SpotOptions.AllocationStrategy).toBe('price-capacity-optimized');
    const snap = await run(activities.describeCapacity, { cluster: CLUSTER });
    expect(snap.state.find((p) => p.name === 'spot-instant')?.actualUnits).toBe(0);
  });

  it('a Spot Fleet raised past its capacity stays pending_fulfillment; its history says why, and the wait reports it in seconds, not at the timeout', async () => {
    const { activities, spotFleetRequestId } = await seedCapacityWorld(emu);
    await emu.sim.request('POST', 'capacity/limits', { pools: { [spotFleetRequestId]: { maxUnits: 2 } } });
    const before = await run(activities.describeCapacity, { cluster: CLUSTER });
    const pool = before.state.find((p) => p.name === 'spot-diversified')!;
    expect(pool.targetUnits).toBe(1);
    const requestedAt = new Date().toISOString();
    await run(activities.requestPoolCapacity, {
      cluster: CLUSTER,
      pool: 'spot-diversified',
      units: 3,
      newTargetUnits: 4,
      excludeOverrides: [],
      clientToken: 'x',
    });
    const started = Date.now();
    const f = await run(activities.awaitPoolFulfilment, {
      cluster: CLUSTER,
      pool: 'spot-diversified',
      knownInstanceIds: pool.instances.map((i) => i.instanceId),
      units: 3,
      timeoutSeconds: 60,
      pollSeconds: 0.2,
      requestedAt,
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(f.deliveredUnits).toBe(1);
    expect(f.capacityError?.code).toBe('allLaunchSpecsTemporarilyBlacklisted');
    expect(f.capacityError?.offerings).toEqual([expect.objectContaining({ instanceType: 'm5.large' })]);
    expect(f.timedOut).toBe(false);
    const sfr = await emu.aws.ec2.send(new DescribeSpotFleetRequestsCommand({ SpotFleetRequestIds: [spotFleetRequestId] }));
    expect(sfr.SpotFleetRequestConfigs?.[0]).toMatchObject({ ActivityStatus: 'pending_fulfillment', SpotFleetRequestConfig: expect.objectContaining({ TargetCapacity: 4 }) });
    const history = await emu.aws.ec2.send(new DescribeSpotFleetRequestHistoryCommand({ SpotFleetRequestId: spotFleetRequestId, StartTime: new Date(requestedAt), EventType: 'error' }));
    expect(history.HistoryRecords?.map((r) => r.EventInformation?.EventSubType)).toEqual(['allLaunchSpecsTemporarilyBlacklisted']);

    await run(activities.setPoolTarget, { cluster: CLUSTER, pool: 'spot-diversified', targetUnits: 2 });
    const after = await emu.aws.ec2.send(new DescribeSpotFleetRequestsCommand({ SpotFleetRequestIds: [spotFleetRequestId] }));
    expect(after.SpotFleetRequestConfigs?.[0]?.SpotFleetRequestConfig?.TargetCapacity).toBe(2);
    expect(after.SpotFleetRequestConfigs?.[0]?.ActivityStatus).toBeUndefined();
  });

  it('an ASG raise is fulfilled after a delay and its instances register after booting; past its limit it reports a failed scaling activity', async () => {
    const { activities } = await seedCapacityWorld(emu);
    await emu.sim.request('POST', 'capacity/config', { fulfilmentDelaySeconds: 1, bootDelaySeconds: 1, cluster: CLUSTER });
    const started = Date.now();
    await run(activities.requestPoolCapacity, { cluster: CLUSTER, pool: 'on-demand', units: 2, newTargetUnits: 2, excludeOverrides: [], clientToken: 'a' });
    const f = await run(activities.awaitPoolFulfilment, { cluster: CLUSTER, pool: 'on-demand', knownInstanceIds: [], units: 2, timeoutSeconds: 15, pollSeconds: 0.2 });
    expect(f.deliveredUnits).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    const active = await run(activities.awaitContainerInstancesActive, {
      cluster: CLUSTER,
      instanceIds: f.instances.map((i) => i.instanceId),
      timeoutSeconds: 15,
      pollSeconds: 0.2,
    });
    expect(active.missing).toEqual([]);

    await emu.sim.request('POST', 'capacity/limits', { pools: { [ASG]: { maxUnits: 2 } } });
    await emu.sim.request('POST', 'capacity/config', { fulfilmentDelaySeconds: 0 });
    const requestedAt = new Date().toISOString();
    await run(activities.requestPoolCapacity, { cluster: CLUSTER, pool: 'on-demand', units: 2, newTargetUnits: 4, excludeOverrides: [], clientToken: 'b' });
    const short = await run(activities.awaitPoolFulfilment, {
      cluster: CLUSTER,
      pool: 'on-demand',
      requestedAt,
      knownInstanceIds: f.instances.map((i) => i.instanceId),
      units: 2,
      timeoutSeconds: 10,
      pollSeconds: 0.2,
    });
    expect(short).toMatchObject({ deliveredUnits: 0, timedOut: false, capacityError: { code: 'InsufficientInstanceCapacity' } });
    // As on AWS, the group keeps its raised desired count with fewer instances, and keeps trying.
    const raised = (await emu.aws.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [ASG] }))).AutoScalingGroups?.[0];
    expect(raised).toMatchObject({ DesiredCapacity: 4 });
    expect(raised?.Instances).toHaveLength(2);

    // Scale-in: the victim leaves the group and the desired capacity goes down with it.
    const victim = f.instances[0]!.instanceId;
    await run(activities.removePoolInstance, { cluster: CLUSTER, pool: 'on-demand', instanceId: victim, weight: 1 });
    const g = (await emu.aws.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [ASG] }))).AutoScalingGroups?.[0];
    expect(g?.DesiredCapacity).toBe(3);
    expect(g?.Instances?.map((i) => i.InstanceId)).not.toContain(victim);

    // Capacity returns: the group's next try launches the rest without another request.
    await emu.sim.request('POST', 'capacity/config', { asgRetrySeconds: 0 });
    await emu.sim.request('POST', 'capacity/limits', { pools: {} });
    await emu.sim.tick('capacity');
    const filled = (await emu.aws.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [ASG] }))).AutoScalingGroups?.[0];
    expect(filled).toMatchObject({ DesiredCapacity: 3 });
    expect(filled?.Instances).toHaveLength(3);
  });

  it.each([
    [false, 'refuses to take a drained instance out of an ASG at its min size (PoolAtMinimum), and nothing is terminated'],
    [true, 'lowers the min size first when the pool allows it, then takes the instance out'],
  ])('ASG at its min size, lowerMinSizeOnScaleIn %s: %s', async (lower) => {
    const { activities } = await seedCapacityWorld(emu, { lowerMinSizeOnScaleIn: lower });
    await run(activities.requestPoolCapacity, { cluster: CLUSTER, pool: 'on-demand', units: 2, newTargetUnits: 2, excludeOverrides: [], clientToken: 'min' });
    const f = await run(activities.awaitPoolFulfilment, { cluster: CLUSTER, pool: 'on-demand', knownInstanceIds: [], units: 2, timeoutSeconds: 10, pollSeconds: 0.2 });
    await emu.aws.autoscaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: ASG, MinSize: 2 }));
    const victim = f.instances[0]!.instanceId;
    const removal = run(activities.removePoolInstance, { cluster: CLUSTER, pool: 'on-demand', instanceId: victim, weight: 1 });
    const group = async () => (await emu.aws.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [ASG] }))).AutoScalingGroups![0]!;
    const state = async () => (await emu.aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: [victim] }))).Reservations?.[0]?.Instances?.[0]?.State?.Name;
    if (!lower) {
      await expect(removal).rejects.toMatchObject({ type: 'PoolAtMinimum', nonRetryable: true, message: expect.stringMatching(/min size/) });
      const g = await group();
      expect([g.MinSize, g.DesiredCapacity]).toEqual([2, 2]);
      expect(g.Instances?.map((i) => i.InstanceId)).toContain(victim);
      expect(await state()).toBe('running');
    } else {
      await removal;
      const g = await group();
      expect([g.MinSize, g.DesiredCapacity]).toEqual([1, 1]);
      expect(g.Instances?.map((i) => i.InstanceId)).not.toContain(victim);
      expect(['shutting-down', 'terminated']).toContain(await state());
    }
  });

  it('withdrawing an ASG raise names the instances launched for it and never lets the group terminate serving ones', async () => {
    const { activities } = await seedCapacityWorld(emu);
    await emu.sim.request('POST', 'capacity/config', { fulfilmentDelaySeconds: 0, bootDelaySeconds: 0, cluster: CLUSTER });
    await run(activities.requestPoolCapacity, { cluster: CLUSTER, pool: 'on-demand', units: 2, newTargetUnits: 2, excludeOverrides: [], clientToken: 'w1' });
    const serving = (await run(activities.awaitPoolFulfilment, { cluster: CLUSTER, pool: 'on-demand', knownInstanceIds: [], units: 2, timeoutSeconds: 10, pollSeconds: 0.2 })).instances.map((i) => i.instanceId);
    await emu.sim.tick('capacity');
    expect((await run(activities.awaitContainerInstancesActive, { cluster: CLUSTER, instanceIds: serving, timeoutSeconds: 10, pollSeconds: 0.2 })).missing).toEqual([]);

    // A raise of 3 whose instances are still booting when the plan gives up on it; one of them has booted and serves.
    await emu.sim.request('POST', 'capacity/config', { bootDelaySeconds: 3600 });
    await run(activities.requestPoolCapacity, { cluster: CLUSTER, pool: 'on-demand', units: 3, newTargetUnits: 5, excludeOverrides: [], clientToken: 'w2' });
    const late = (await run(activities.awaitPoolFulfilment, { cluster: CLUSTER, pool: 'on-demand', knownInstanceIds: serving, units: 3, timeoutSeconds: 10, pollSeconds: 0.2 })).instances.map((i) => i.instanceId);
    expect(late).toHaveLength(3);
    await emu.aws.ecs.send(
      new RegisterContainerInstanceCommand({ cluster: CLUSTER, instanceIdentityDocument: JSON.stringify({ instanceId: late[0], region: 'us-east-1', accountId: '123456789012' }) }),
    );

    await run(activities.setPoolTarget, { cluster: CLUSTER, pool: 'on-demand', targetUnits: 2, keepInstanceIds: serving });
    const g = (await emu.aws.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [ASG] }))).AutoScalingGroups![0]!;
    const inGroup = g.Instances?.map((i) => i.InstanceId) ?? [];
    expect(inGroup).toEqual(expect.arrayContaining([...serving, late[0]]));
    expect(inGroup).not.toContain(late[1]);
    expect(inGroup).not.toContain(late[2]);
    // The one that already serves stays: the target goes down only as far as nothing else must go.
    expect(g.DesiredCapacity).toBe(3);
    const running = await emu.aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: serving }));
    expect(running.Reservations?.flatMap((r) => r.Instances ?? []).map((i) => i.State?.Name)).toEqual(['running', 'running']);
  });

  it('reports a pool that does not deliver within its timeout', async () => {
    const { activities } = await seedCapacityWorld(emu);
    await emu.sim.request('POST', 'capacity/config', { fulfilmentDelaySeconds: 60 });
    await run(activities.requestPoolCapacity, { cluster: CLUSTER, pool: 'on-demand', units: 1, newTargetUnits: 1, excludeOverrides: [], clientToken: 'c' });
    const f = await run(activities.awaitPoolFulfilment, { cluster: CLUSTER, pool: 'on-demand', knownInstanceIds: [], units: 1, timeoutSeconds: 1, pollSeconds: 0.2 });
    expect(f).toMatchObject({ deliveredUnits: 0, timedOut: true });
  });
});
