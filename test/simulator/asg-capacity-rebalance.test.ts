import {
  CreateAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  SetDesiredCapacityCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateCommand, DescribeImagesCommand } from '@aws-sdk/client-ec2';
import { CreateClusterCommand, DescribeContainerInstancesCommand, ListContainerInstancesCommand, RegisterContainerInstanceCommand } from '@aws-sdk/client-ecs';
import { startEmulator } from '../../testkit/emulator';
import { useEmulator } from '../harness/emulator';

/**
 * Auto Scaling as the simulator answers it where moto is laxer (asg-scaling.ts, asg-capacity-rebalance.ts):
 * SetDesiredCapacity outside MinSize..MaxSize is refused; a group with Capacity Rebalancing replaces
 * an instance that got a rebalance recommendation at its unchanged desired count, and the old instance
 * can then be terminated without decrementing, at MinSize too, with nothing launched after it.
 */

jest.setTimeout(60_000);

const emu = useEmulator(() => startEmulator({ autoTick: false }));

async function group(opts: { min: number; max: number; desired: number; rebalance?: boolean }) {
  const image = (await emu.aws.ec2.send(new DescribeImagesCommand({}))).Images?.[0]?.ImageId ?? 'ami-12c6146b';
  const lt = await emu.aws.ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'node', LaunchTemplateData: { ImageId: image, InstanceType: 'm5.large' } }));
  await emu.aws.autoscaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: 'g',
      LaunchTemplate: { LaunchTemplateId: lt.LaunchTemplate?.LaunchTemplateId, Version: '$Latest' },
      MinSize: opts.min,
      MaxSize: opts.max,
      DesiredCapacity: opts.desired,
      AvailabilityZones: ['us-east-1a'],
      ...(opts.rebalance !== undefined ? { CapacityRebalance: opts.rebalance } : {}),
    }),
  );
}

const describeGroup = async () => (await emu.aws.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['g'] }))).AutoScalingGroups![0]!;
const members = async () => ((await describeGroup()).Instances ?? []).map((i) => i.InstanceId!).sort();

async function clusterInstances(): Promise<string[]> {
  const arns = (await emu.aws.ecs.send(new ListContainerInstancesCommand({ cluster: 'demo' }))).containerInstanceArns ?? [];
  if (arns.length === 0) return [];
  const d = await emu.aws.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'demo', containerInstances: arns }));
  return (d.containerInstances ?? []).map((c) => c.ec2InstanceId ?? '').sort();
}

describe('SetDesiredCapacity within the group limits', () => {
  it('is refused above MaxSize and below MinSize, and changes nothing', async () => {
    await group({ min: 1, max: 3, desired: 2 });
    await expect(emu.aws.autoscaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'g', DesiredCapacity: 4 }))).rejects.toMatchObject({
      name: 'ValidationError',
      message: 'New SetDesiredCapacity value 4 is above max value 3 for the AutoScalingGroup.',
    });
    await expect(emu.aws.autoscaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'g', DesiredCapacity: 0 }))).rejects.toMatchObject({ name: 'ValidationError' });
    expect((await describeGroup()).DesiredCapacity).toBe(2);
    await emu.aws.autoscaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'g', DesiredCapacity: 3 }));
    expect(await members()).toHaveLength(3);
  });
});

describe('Capacity Rebalancing', () => {
  async function recommend(instanceId: string): Promise<void> {
    await emu.sim.request('POST', 'events', { source: 'aws.ec2', detailType: 'EC2 Instance Rebalance Recommendation', detail: { 'instance-id': instanceId } });
    await emu.sim.tick('asg-capacity-rebalance');
  }

  beforeEach(async () => {
    await emu.sim.request('POST', 'asg-capacity-rebalance/config', { bootDelaySeconds: 0 });
  });

  it('is reported, and a recommendation launches one replacement at the unchanged desired count; it joins the cluster', async () => {
    await group({ min: 2, max: 4, desired: 2, rebalance: true });
    const before = await members();
    await emu.aws.ecs.send(new CreateClusterCommand({ clusterName: 'demo' }));
    for (const instanceId of before) await emu.aws.ecs.send(new RegisterContainerInstanceCommand({ cluster: 'demo', instanceIdentityDocument: JSON.stringify({ instanceId }) }));
    expect((await describeGroup()).CapacityRebalance).toBe(true);

    await recommend(before[0]!);
    await emu.sim.tick('asg-capacity-rebalance');
    const during = await members();
    expect(during).toHaveLength(3);
    expect((await describeGroup()).DesiredCapacity).toBe(2);
    const replacement = during.find((id) => !before.includes(id))!;
    expect(await clusterInstances()).toContain(replacement);

    // At MinSize: terminating with decrement is refused; without, the group is back at its count.
    await expect(emu.aws.autoscaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: before[0]!, ShouldDecrementDesiredCapacity: true }))).rejects.toMatchObject({ name: 'ValidationError' });
    await emu.aws.autoscaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: before[0]!, ShouldDecrementDesiredCapacity: false }));
    await emu.sim.tick('asg-capacity-rebalance');
    expect(await members()).toEqual([before[1]!, replacement].sort());
    expect((await describeGroup()).DesiredCapacity).toBe(2);
  });

  it('the group terminates the old instance itself once the replacement passed its health check', async () => {
    await group({ min: 0, max: 4, desired: 2, rebalance: true });
    await emu.aws.autoscaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'g', HealthCheckGracePeriod: 0 }));
    const before = await members();
    await recommend(before[0]!);
    await emu.sim.tick('asg-capacity-rebalance');
    const after = await members();
    expect(after).toHaveLength(2);
    expect(after).not.toContain(before[0]);
    expect((await describeGroup()).DesiredCapacity).toBe(2);
  });

  it('a group without it launches nothing on a recommendation', async () => {
    await group({ min: 0, max: 4, desired: 2 });
    const before = await members();
    await recommend(before[0]!);
    expect(await members()).toEqual(before);
    expect((await describeGroup()).CapacityRebalance).toBeFalsy();
  });
});
