import {
  CreateAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  SetDesiredCapacityCommand,
  TerminateInstanceInAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateCommand, DescribeImagesCommand } from '@aws-sdk/client-ec2';
import { startEmulator } from '../../testkit/emulator';
import { useEmulator } from '../harness/emulator';

/**
 * TerminateInstanceInAutoScalingGroup's min-size check as Auto Scaling makes it (asg-scaling.ts): it
 * reads the desired capacity the group keeps. A group raised past what could launch keeps the raised
 * count (capacity-raises.ts), while moto holds only what launched; the check must read the raised one.
 */


const emu = useEmulator(() => startEmulator({ autoTick: false }));

async function group(opts: { min: number; max: number; desired: number }) {
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
    }),
  );
}

const describeGroup = async () => (await emu.aws.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['g'] }))).AutoScalingGroups![0]!;
const terminate = (instanceId: string) => emu.aws.autoscaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: instanceId, ShouldDecrementDesiredCapacity: true }));

describe('TerminateInstanceInAutoScalingGroup with decrement', () => {
  it('on a group raised past what could launch, checks the min size against the raised desired count, and lowers that count', async () => {
    await group({ min: 2, max: 10, desired: 2 });
    await emu.sim.request('POST', 'capacity/limits', { pools: { g: { maxUnits: 2 } } });
    await emu.aws.autoscaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'g', DesiredCapacity: 4 }));
    const raised = await describeGroup();
    expect([raised.MinSize, raised.DesiredCapacity, raised.Instances?.length]).toEqual([2, 4, 2]);

    // Desired 4 → 3 stays above MinSize 2: Auto Scaling terminates (moto's own count, 2, would refuse).
    const victim = raised.Instances![0]!.InstanceId!;
    await terminate(victim);
    const after = await describeGroup();
    expect(after.DesiredCapacity).toBe(3);
    expect(after.Instances?.map((i) => i.InstanceId)).not.toContain(victim);
  });

  it('still refuses at the min size when the group holds its desired count', async () => {
    await group({ min: 2, max: 10, desired: 2 });
    const [first] = (await describeGroup()).Instances!;
    await expect(terminate(first!.InstanceId!)).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringMatching(/min size constraint/) });
    const g = await describeGroup();
    expect([g.DesiredCapacity, g.Instances?.length]).toEqual([2, 2]);
  });
});
