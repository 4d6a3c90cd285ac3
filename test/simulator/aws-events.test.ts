import { PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { CreateAutoScalingGroupCommand, DescribeAutoScalingGroupsCommand, PutLifecycleHookCommand, TerminateInstanceInAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateCommand, DescribeImagesCommand, DescribeInstancesCommand, EC2Client, RunInstancesCommand, StartInstancesCommand, StopInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateClusterCommand, DescribeContainerInstancesCommand, ListContainerInstancesCommand, RegisterContainerInstanceCommand, UpdateContainerInstancesStateCommand } from '@aws-sdk/client-ecs';
import { parseEvent } from '../../router/events';
import type { PublishedEvent } from '../../simulator/events';
import { startEmulator } from '../../testkit/emulator';
import { actingIn, MEMBER_ACCOUNT } from '../harness/accounts';
import { addContainerInstances } from '../harness/container-instances';
import { useEmulator } from '../harness/emulator';

/**
 * What the simulator's behaviours publish to EventBridge when AWS would: CloudWatch alarm state
 * changes on SetAlarmState, EC2 state changes on TerminateInstances (the final state a tick later, in
 * the instance's own account, and ECS deregistering the terminated instance's container instance then;
 * the same for an instance its Auto Scaling group terminates), the spot interruption sequence.
 * Each published event is checked as the router parses it, so the formats are the ones it accepts.
 */

jest.setTimeout(60_000);

// Ticks on demand: an EC2 state that follows another is published on the ec2-state-events tick.
const emu = useEmulator(() => startEmulator({ autoTick: false }));

const published = async () => (await emu.sim.request<{ events: PublishedEvent[] }>('GET', 'events')).events;

function parsed(e: PublishedEvent) {
  const { delivered: _d, error: _e, ...envelope } = e;
  const r = parseEvent(envelope);
  if (!r.ok) throw new Error(`${e['detail-type']}: ${r.error}`);
  return r.event;
}

async function runInstance(): Promise<string> {
  const image = (await emu.aws.ec2.send(new DescribeImagesCommand({}))).Images?.[0]?.ImageId ?? 'ami-12c6146b';
  return (await emu.aws.ec2.send(new RunInstancesCommand({ ImageId: image, MinCount: 1, MaxCount: 1 }))).Instances![0]!.InstanceId!;
}

describe('events the simulator publishes as AWS does', () => {
  it('SetAlarmState publishes one CloudWatch Alarm State Change per change of state, none for the state it already has', async () => {
    await emu.aws.cloudwatch.send(
      new PutMetricAlarmCommand({
        AlarmName: 'web-5xx',
        AlarmDescription: '5xx from web',
        Namespace: 'AWS/ApplicationELB',
        MetricName: 'HTTPCode_Target_5XX_Count',
        Dimensions: [{ Name: 'LoadBalancer', Value: 'app/web/123' }],
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 10,
        ComparisonOperator: 'GreaterThanThreshold',
      }),
    );
    const set = (StateValue: 'ALARM' | 'OK', StateReason: string) => emu.aws.cloudwatch.send(new SetAlarmStateCommand({ AlarmName: 'web-5xx', StateValue, StateReason }));
    // From a known state (moto creates alarms OK; AWS creates them INSUFFICIENT_DATA and evaluates them).
    await set('OK', 'known start');
    await emu.sim.request('DELETE', 'events');
    await set('ALARM', 'Threshold Crossed: 1 datapoint [42.0] > 10.0');
    await set('ALARM', 'still above');
    await set('OK', 'back below');
    await set('OK', 'still below');
    const events = await published();
    expect(events.map((e) => [e['detail-type'], (e.detail.previousState as { value: string }).value, (e.detail.state as { value: string }).value])).toEqual([
      ['CloudWatch Alarm State Change', 'OK', 'ALARM'],
      ['CloudWatch Alarm State Change', 'ALARM', 'OK'],
    ]);
    expect(events[0]).toMatchObject({
      source: 'aws.cloudwatch',
      resources: [expect.stringMatching(/^arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-5xx$/)],
      detail: {
        alarmName: 'web-5xx',
        state: { value: 'ALARM', reason: 'Threshold Crossed: 1 datapoint [42.0] > 10.0' },
        previousState: { value: 'OK', reason: 'known start' },
        configuration: { description: '5xx from web', metrics: [{ metricStat: { metric: { name: 'HTTPCode_Target_5XX_Count', namespace: 'AWS/ApplicationELB' }, period: 60, stat: 'Sum' } }] },
      },
    });
    expect(events.every((e) => e.delivered)).toBe(true);
    expect(events.map((e) => parsed(e).kind)).toEqual(['alarm-state-change', 'alarm-state-change']);
  });

  it('TerminateInstances publishes shutting-down for each instance, and terminated only later, not together with it', async () => {
    const [a, b] = [await runInstance(), await runInstance()];
    await emu.aws.ec2.send(new TerminateInstancesCommand({ InstanceIds: [a, b] }));
    const states = async () => (await published()).map((e) => [e.detail['instance-id'], e.detail.state]);
    expect(await states()).toEqual([
      [a, 'shutting-down'],
      [b, 'shutting-down'],
    ]);
    await emu.sim.tick('ec2-state-events');
    expect(await states()).toEqual([
      [a, 'shutting-down'],
      [b, 'shutting-down'],
      [a, 'terminated'],
      [b, 'terminated'],
    ]);
    const events = await published();
    expect(events.map((e) => parsed(e).kind)).toEqual(Array(4).fill('instance-state-change'));
    expect(new Set(events.map((e) => e.account))).toEqual(new Set(['123456789012']));
  });

  it('an instance terminated through the simulator keeps its container instance DRAINING while shutting-down, and ECS deregisters it at terminated', async () => {
    const [ci, other] = await addContainerInstances(emu.aws, 'ends', { count: 2 });
    await emu.aws.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: 'ends', containerInstances: [ci!.containerInstanceArn], status: 'DRAINING' }));
    const listed = async () => {
      const arns = (await emu.aws.ecs.send(new ListContainerInstancesCommand({ cluster: 'ends' }))).containerInstanceArns ?? [];
      const d = await emu.aws.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'ends', containerInstances: arns }));
      return Object.fromEntries((d.containerInstances ?? []).map((c) => [c.ec2InstanceId, c.status]));
    };
    await emu.aws.ec2.send(new TerminateInstancesCommand({ InstanceIds: [ci!.instanceId] }));
    expect(await listed()).toEqual({ [ci!.instanceId]: 'DRAINING', [other!.instanceId]: 'ACTIVE' });
    await emu.sim.tick('ec2-state-events');
    expect(await listed()).toEqual({ [other!.instanceId]: 'ACTIVE' });
  });

  it('an instance its Auto Scaling group terminates (no terminate hook): shutting-down, then terminated with its container instance deregistered; one a hook holds: nothing yet', async () => {
    const image = (await emu.aws.ec2.send(new DescribeImagesCommand({}))).Images?.[0]?.ImageId ?? 'ami-12c6146b';
    const lt = await emu.aws.ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'node', LaunchTemplateData: { ImageId: image, InstanceType: 'm5.large' } }));
    const groupOf = async (name: string) => {
      await emu.aws.autoscaling.send(
        new CreateAutoScalingGroupCommand({ AutoScalingGroupName: name, LaunchTemplate: { LaunchTemplateId: lt.LaunchTemplate?.LaunchTemplateId, Version: '$Latest' }, MinSize: 0, MaxSize: 2, DesiredCapacity: 2, AvailabilityZones: ['us-east-1a'] }),
      );
      const ids = (await emu.aws.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }))).AutoScalingGroups![0]!.Instances!.map((i) => i.InstanceId!);
      for (const instanceId of ids) await emu.aws.ecs.send(new RegisterContainerInstanceCommand({ cluster: 'asg-ends', instanceIdentityDocument: JSON.stringify({ instanceId }) }));
      return ids;
    };
    await emu.aws.ecs.send(new CreateClusterCommand({ clusterName: 'asg-ends' }));
    const [victim, kept] = await groupOf('plain');
    const [held] = await groupOf('hooked');
    await emu.aws.autoscaling.send(new PutLifecycleHookCommand({ AutoScalingGroupName: 'hooked', LifecycleHookName: 'drain', LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING', HeartbeatTimeout: 300 }));
    const registered = async () => {
      const arns = (await emu.aws.ecs.send(new ListContainerInstancesCommand({ cluster: 'asg-ends' }))).containerInstanceArns ?? [];
      return (await emu.aws.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'asg-ends', containerInstances: arns }))).containerInstances!.map((c) => c.ec2InstanceId).sort();
    };
    const states = async () => (await published()).filter((e) => e['detail-type'] === 'EC2 Instance State-change Notification').map((e) => [e.detail['instance-id'], e.detail.state]);
    await emu.sim.request('DELETE', 'events');

    await emu.aws.autoscaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: victim!, ShouldDecrementDesiredCapacity: true }));
    await emu.aws.autoscaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: held!, ShouldDecrementDesiredCapacity: true }));
    expect(await states()).toEqual([[victim, 'shutting-down']]);
    expect(await registered()).toHaveLength(4);
    await emu.sim.tick('ec2-state-events');
    expect(await states()).toEqual([
      [victim, 'shutting-down'],
      [victim, 'terminated'],
    ]);
    expect(await registered()).not.toContain(victim);
    expect(await registered()).toEqual(expect.arrayContaining([kept, held]));
    expect((await published()).map((e) => parsed(e).kind)).toContain('instance-state-change');
  });

  it('a stop and a start in a member account: each state on that account\'s own bus, the second a tick after the first', async () => {
    const member = actingIn(new EC2Client({ region: 'eu-west-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'member', secretAccessKey: 'member' } }), MEMBER_ACCOUNT);
    try {
      const image = (await member.send(new DescribeImagesCommand({}))).Images?.[0]?.ImageId ?? 'ami-12c6146b';
      const id = (await member.send(new RunInstancesCommand({ ImageId: image, MinCount: 1, MaxCount: 1 }))).Instances![0]!.InstanceId!;
      await member.send(new StopInstancesCommand({ InstanceIds: [id] }));
      await emu.sim.tick('ec2-state-events');
      await member.send(new StartInstancesCommand({ InstanceIds: [id] }));
      const events = (await published()).filter((e) => e.detail['instance-id'] === id);
      expect(events.map((e) => e.detail.state)).toEqual(['stopping', 'stopped', 'pending']);
      await emu.sim.tick('ec2-state-events');
      const all = (await published()).filter((e) => e.detail['instance-id'] === id);
      expect(all.map((e) => e.detail.state)).toEqual(['stopping', 'stopped', 'pending', 'running']);
      expect(all.every((e) => e.delivered && e.account === MEMBER_ACCOUNT && e.region === 'eu-west-1')).toBe(true);
      expect(all[0]!.resources).toEqual([`arn:aws:ec2:eu-west-1:${MEMBER_ACCOUNT}:instance/${id}`]);
    } finally {
      member.destroy();
    }
  });

  it('a spot interruption: rebalance recommendation, the two-minute warning, and at the reclaim shutting-down and terminated', async () => {
    const id = await runInstance();
    const r = await emu.sim.request<{ terminateAt: string; events: PublishedEvent[] }>('POST', 'spot-interruption/interrupt', { instanceId: id, afterSeconds: 0, rebalance: true });
    expect(r.events.map((e) => parsed(e).kind)).toEqual(['rebalance-recommendation', 'spot-interruption-warning']);
    expect(r.events[1]!.detail).toEqual({ 'instance-id': id, 'instance-action': 'terminate' });
    await emu.sim.tick('spot-interruption');
    const states = async () => (await published()).filter((e) => e['detail-type'] === 'EC2 Instance State-change Notification').map((e) => e.detail.state);
    expect(await states()).toEqual(['shutting-down']);
    await emu.sim.tick('ec2-state-events');
    expect(await states()).toEqual(['shutting-down', 'terminated']);
  });

  it('StopInstances then StartInstances (a user stop/start): stopping, stopped, then pending, running, under the same instance id', async () => {
    const id = await runInstance();
    await emu.aws.ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
    await emu.sim.tick('ec2-state-events');
    await emu.aws.ec2.send(new StartInstancesCommand({ InstanceIds: [id] }));
    await emu.sim.tick('ec2-state-events');
    const events = await published();
    expect(events.map((e) => [e.detail['instance-id'], e.detail.state])).toEqual([
      [id, 'stopping'],
      [id, 'stopped'],
      [id, 'pending'],
      [id, 'running'],
    ]);
    expect(events.map((e) => parsed(e).kind)).toEqual(Array(4).fill('instance-state-change'));
  });

  it('a spot stop interruption: the warning says stop, the instance stops at the deadline, runs again under its id when capacity returns, and can be interrupted again', async () => {
    const id = await runInstance();
    const stateOf = async () => (await emu.aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!.State!.Name;
    const r = await emu.sim.request<{ events: PublishedEvent[] }>('POST', 'spot-interruption/interrupt', { instanceId: id, afterSeconds: 0, action: 'stop' });
    expect(r.events[0]!.detail).toEqual({ 'instance-id': id, 'instance-action': 'stop' });
    await emu.sim.tick('spot-interruption');
    await emu.sim.tick('ec2-state-events');
    expect(await stateOf()).toBe('stopped');
    await emu.sim.request('POST', 'spot-interruption/resume', { instanceId: id });
    await emu.sim.tick('ec2-state-events');
    expect(await stateOf()).toBe('running');
    const again = await emu.sim.request<{ events: PublishedEvent[] }>('POST', 'spot-interruption/interrupt', { instanceId: id, afterSeconds: 0 });
    expect(again.events[0]!.detail).toEqual({ 'instance-id': id, 'instance-action': 'terminate' });
    await emu.sim.tick('spot-interruption');
    await emu.sim.tick('ec2-state-events');
    expect(await stateOf()).toBe('terminated');
    const states = (await published()).filter((e) => e['detail-type'] === 'EC2 Instance State-change Notification').map((e) => e.detail.state);
    expect(states).toEqual(['stopping', 'stopped', 'pending', 'running', 'shutting-down', 'terminated']);
  });
});
