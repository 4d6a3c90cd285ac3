import {
  CompleteLifecycleActionCommand,
  CreateAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  PutLifecycleHookCommand,
  RecordLifecycleActionHeartbeatCommand,
  TerminateInstanceInAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateCommand, DescribeImagesCommand, DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import type { LifecycleActionState } from '../../simulator/behaviours/asg-lifecycle';
import { startEmulator } from '../../testkit/emulator';
import { useEmulator } from '../harness/emulator';

/**
 * The asg-lifecycle behaviour against the AWS documentation it names: a termination of an instance in
 * a group with a terminate hook waits in Terminating:Wait and is announced on EventBridge; tokens are
 * checked; a heartbeat restarts the timeout; a repeat completion answers "No active Lifecycle Action
 * found"; a hook that times out applies its default result.
 */

jest.setTimeout(60_000);

// Each test resets the emulator where it builds its group (groupWithHook).
const emu = useEmulator(() => startEmulator({ autoTick: false }), { resetEach: false });
const ASG = 'demo-on-demand';

async function groupWithHook(desired: number, heartbeatTimeout = 300): Promise<string[]> {
  await emu.reset();
  const image = (await emu.aws.ec2.send(new DescribeImagesCommand({}))).Images?.[0]?.ImageId;
  const lt = await emu.aws.ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'node', LaunchTemplateData: { ImageId: image, InstanceType: 'm5.large' } }));
  await emu.aws.autoscaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: ASG,
      LaunchTemplate: { LaunchTemplateId: lt.LaunchTemplate?.LaunchTemplateId, Version: '$Latest' },
      MinSize: 0,
      MaxSize: 10,
      DesiredCapacity: desired,
      AvailabilityZones: ['us-east-1a'],
    }),
  );
  await emu.aws.autoscaling.send(
    new PutLifecycleHookCommand({
      AutoScalingGroupName: ASG,
      LifecycleHookName: 'drain',
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      HeartbeatTimeout: heartbeatTimeout,
      DefaultResult: 'CONTINUE',
    }),
  );
  return instancesOf();
}

async function instancesOf(): Promise<string[]> {
  const g = (await emu.aws.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [ASG] }))).AutoScalingGroups?.[0];
  return (g?.Instances ?? []).filter((i) => i.LifecycleState === 'InService').map((i) => i.InstanceId!);
}

async function stateOf(instanceId: string): Promise<string | undefined> {
  const out = await emu.aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  return out.Reservations?.[0]?.Instances?.[0]?.State?.Name;
}

async function lifecycle(): Promise<{ active: LifecycleActionState[]; closed: LifecycleActionState[] }> {
  return emu.sim.request('GET', 'asg-lifecycle/actions');
}

const complete = (token: string, instanceId: string) =>
  emu.aws.autoscaling.send(
    new CompleteLifecycleActionCommand({ AutoScalingGroupName: ASG, LifecycleHookName: 'drain', LifecycleActionToken: token, InstanceId: instanceId, LifecycleActionResult: 'CONTINUE' }),
  );

describe('asg-lifecycle: terminate hooks as Auto Scaling runs them', () => {
  it('holds a terminated instance in Terminating:Wait, announces it, checks the token, and answers a repeat completion with No active Lifecycle Action found', async () => {
    const [victim, other] = await groupWithHook(2);
    await emu.aws.autoscaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: victim, ShouldDecrementDesiredCapacity: true }));

    const g = (await emu.aws.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [ASG] }))).AutoScalingGroups?.[0];
    expect(g?.DesiredCapacity).toBe(1);
    expect(g?.Instances?.map((i) => [i.InstanceId, i.LifecycleState]).sort()).toEqual(
      [
        [victim, 'Terminating:Wait'],
        [other, 'InService'],
      ].sort(),
    );
    expect(await stateOf(victim!)).toBe('running');

    const { events } = await emu.sim.request<{ events: { 'detail-type': string; detail: Record<string, string> }[] }>('GET', 'events');
    const announced = events.filter((e) => e['detail-type'] === 'EC2 Instance-terminate Lifecycle Action');
    expect(announced).toHaveLength(1);
    const token = announced[0]!.detail.LifecycleActionToken!;
    expect(announced[0]!.detail).toMatchObject({ AutoScalingGroupName: ASG, LifecycleHookName: 'drain', EC2InstanceId: victim, LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING' });

    await expect(complete('not-the-token', victim!)).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringContaining('No active Lifecycle Action found') });
    await complete(token, victim!);
    expect(await stateOf(victim!)).toBe('terminated');
    expect((await lifecycle()).closed).toEqual([expect.objectContaining({ instanceId: victim, closed: expect.objectContaining({ how: 'completed', result: 'CONTINUE' }) })]);

    await expect(complete(token, victim!)).rejects.toMatchObject({
      name: 'ValidationError',
      message: `No active Lifecycle Action found with token ${token}`,
    });
    expect(await instancesOf()).toEqual([other]);
  });

  it('applies the default result when the heartbeat timeout passes; a heartbeat restarts it', async () => {
    const [victim] = await groupWithHook(1, 60);
    await emu.aws.autoscaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: victim, ShouldDecrementDesiredCapacity: true }));
    const [action] = (await lifecycle()).active;
    await emu.sim.request('POST', 'asg-lifecycle/advance', { seconds: 50 });
    await emu.aws.autoscaling.send(new RecordLifecycleActionHeartbeatCommand({ AutoScalingGroupName: ASG, LifecycleHookName: 'drain', LifecycleActionToken: action!.token }));
    await emu.sim.request('POST', 'asg-lifecycle/advance', { seconds: 50 });
    await emu.sim.tick('asg-lifecycle');
    expect((await lifecycle()).active).toHaveLength(1);
    expect(await stateOf(victim!)).toBe('running');

    await emu.sim.request('POST', 'asg-lifecycle/advance', { seconds: 11 });
    await emu.sim.tick('asg-lifecycle');
    expect((await lifecycle()).closed).toEqual([expect.objectContaining({ closed: expect.objectContaining({ how: 'heartbeat-timeout', result: 'CONTINUE' }) })]);
    expect(await stateOf(victim!)).toBe('terminated');
    await expect(
      emu.aws.autoscaling.send(new RecordLifecycleActionHeartbeatCommand({ AutoScalingGroupName: ASG, LifecycleHookName: 'drain', InstanceId: victim })),
    ).rejects.toMatchObject({ name: 'ValidationError', message: `No active Lifecycle Action found with instance ID ${victim}` });
  });

  it('a lower desired capacity puts the instances it takes in Terminating:Wait too', async () => {
    await groupWithHook(3);
    await emu.aws.autoscaling.send(new (await import('@aws-sdk/client-auto-scaling')).SetDesiredCapacityCommand({ AutoScalingGroupName: ASG, DesiredCapacity: 2 }));
    const { active } = await lifecycle();
    expect(active).toHaveLength(1);
    expect(await stateOf(active[0]!.instanceId)).toBe('running');
    expect(await instancesOf()).toHaveLength(2);
  });
});
