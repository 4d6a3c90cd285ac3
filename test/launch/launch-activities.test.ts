import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateAutoScalingGroupCommand, PutLifecycleHookCommand } from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateCommand, DescribeImagesCommand, DescribeInstancesCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateClusterCommand, RegisterContainerInstanceCommand } from '@aws-sdk/client-ecs';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createLaunchActivities } from '../../activities/launch';
import { parseConfigText } from '../../config/load';
import type { LifecycleActionState, LifecycleCall } from '../../simulator/behaviours/asg-lifecycle';
import { startEmulator } from '../../testkit/emulator';
import { useEmulator } from '../harness/emulator';
import { ROOT } from '../../testkit/paths';
import { until } from '../../testkit/poll';

/** The launch activities against moto behind the simulator, asserting what AWS (and the ASG's lifecycle record) shows afterwards. */

jest.setTimeout(60_000);

const emu = useEmulator(() => startEmulator());
const config = parseConfigText(readFileSync(join(ROOT, 'test', 'fixtures', 'fleetops.valid.yaml'), 'utf8'));
const hook = { hookName: 'demo-launch', asgName: 'demo-on-demand' };

const acts = () => createLaunchActivities({ aws: emu.worker, config }, { pollMs: 200 });
const run = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> => new MockActivityEnvironment().run(fn, ...args);

async function launchInstance(): Promise<string> {
  const image = (await emu.aws.ec2.send(new DescribeImagesCommand({}))).Images?.[0]?.ImageId ?? 'ami-12c6146b';
  const out = await emu.aws.ec2.send(new RunInstancesCommand({ ImageId: image, InstanceType: 'm5.large', MinCount: 1, MaxCount: 1 }));
  await emu.aws.ecs.send(new CreateClusterCommand({ clusterName: 'demo' }));
  return out.Instances![0]!.InstanceId!;
}

/** The group's launch hook holds `instanceId` in Pending:Wait (the simulator opens the action as Auto Scaling would). */
async function pendingWait(
  instanceId: string,
  o: { heartbeatTimeout?: number; destination?: 'WarmPool' } = {},
): Promise<{ hookName: string; asgName: string; actionToken: string }> {
  const image = (await emu.aws.ec2.send(new DescribeImagesCommand({}))).Images?.[0]?.ImageId ?? 'ami-12c6146b';
  const lt = await emu.aws.ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'node', LaunchTemplateData: { ImageId: image, InstanceType: 'm5.large' }, TagSpecifications: [{ ResourceType: 'launch-template', Tags: [{ Key: 'fleetops:pool', Value: 'on-demand' }] }] }));
  await emu.aws.autoscaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: hook.asgName,
      Tags: [{ Key: 'fleetops:pool', Value: 'on-demand', PropagateAtLaunch: true }],
      LaunchTemplate: { LaunchTemplateId: lt.LaunchTemplate?.LaunchTemplateId, Version: '$Latest' },
      MinSize: 0,
      MaxSize: 2,
      DesiredCapacity: 0,
      AvailabilityZones: ['us-east-1a'],
    }),
  );
  await emu.aws.autoscaling.send(
    new PutLifecycleHookCommand({ AutoScalingGroupName: hook.asgName, LifecycleHookName: hook.hookName, LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', HeartbeatTimeout: o.heartbeatTimeout ?? 300 }),
  );
  const a = await emu.sim.request<LifecycleActionState>('POST', 'asg-lifecycle/launch', {
    autoScalingGroupName: hook.asgName,
    lifecycleHookName: hook.hookName,
    instanceId,
    ...(o.destination ? { destination: o.destination } : {}),
  });
  return { ...hook, actionToken: a.token };
}

async function lifecycleCalls(): Promise<LifecycleCall[]> {
  return (await emu.sim.request<{ calls: LifecycleCall[] }>('GET', 'asg-lifecycle/actions')).calls;
}

describe('launch activities against moto + simulator', () => {
  it('waitForContainerInstance returns ACTIVE once the instance registers with the cluster, not before', async () => {
    const instanceId = await launchInstance();
    const waiting = run(acts().waitForContainerInstance, { cluster: 'demo', instanceId, stopAtEpochMs: Date.now() + 20_000 });
    let settled = false;
    void waiting.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 800));
    expect(settled).toBe(false);
    const reg = await emu.aws.ecs.send(new RegisterContainerInstanceCommand({ cluster: 'demo', instanceIdentityDocument: JSON.stringify({ instanceId }) }));
    await expect(waiting).resolves.toMatchObject({ status: 'ACTIVE', containerInstanceArn: reg.containerInstance!.containerInstanceArn });
  });

  it('waitForContainerInstance returns what it last saw at the stop time', async () => {
    const instanceId = await launchInstance();
    const t0 = Date.now();
    const seen = await run(acts().waitForContainerInstance, { cluster: 'demo', instanceId, stopAtEpochMs: t0 + 1_000 });
    expect(seen).toEqual({ status: 'not-registered' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(800);
  });

  it('completes the lifecycle action CONTINUE or ABANDON, heartbeats it, and in dry run makes no call', async () => {
    const instanceId = await launchInstance();
    const lifecycle = await pendingWait(instanceId);
    const a = acts();
    await run(a.recordLaunchLifecycleHeartbeat, { lifecycle, instanceId });
    await run(a.completeLaunchLifecycleAction, { lifecycle, instanceId, result: 'ABANDON' });
    const dry = await run(a.completeLaunchLifecycleAction, { lifecycle, instanceId, result: 'CONTINUE', dryRun: true });
    expect(dry.dryRunCalls).toEqual([
      {
        action: 'autoscaling:CompleteLifecycleAction',
        params: { AutoScalingGroupName: 'demo-on-demand', LifecycleHookName: 'demo-launch', LifecycleActionToken: lifecycle.actionToken, InstanceId: instanceId, LifecycleActionResult: 'CONTINUE' },
      },
    ]);
    expect((await lifecycleCalls()).map((c) => [c.action, c.autoScalingGroupName, c.lifecycleHookName, c.instanceId, c.result])).toEqual([
      ['RecordLifecycleActionHeartbeat', 'demo-on-demand', 'demo-launch', instanceId, undefined],
      ['CompleteLifecycleAction', 'demo-on-demand', 'demo-launch', instanceId, 'ABANDON'],
    ]);
  });

  it("reads the hook's HeartbeatTimeout; a launch into the warm pool is announced so, and CONTINUE stops the instance into the pool", async () => {
    const instanceId = await launchInstance();
    const lifecycle = await pendingWait(instanceId, { heartbeatTimeout: 30, destination: 'WarmPool' });
    const a = acts();
    expect(await run(a.describeLaunchLifecycleHook, { lifecycle })).toEqual({ found: true, heartbeatTimeoutSeconds: 30, globalTimeoutSeconds: 3000, defaultResult: 'ABANDON' });
    const events = (await emu.sim.request<{ events: { 'detail-type': string; detail: Record<string, unknown> }[] }>('GET', 'events')).events;
    expect(events.find((e) => e['detail-type'] === 'EC2 Instance-launch Lifecycle Action' && e.detail.EC2InstanceId === instanceId)?.detail).toMatchObject({
      Origin: 'EC2',
      Destination: 'WarmPool',
    });
    await run(a.completeLaunchLifecycleAction, { lifecycle, instanceId, result: 'CONTINUE' });
    await until('the warm-pool instance to be stopped', async () => {
      const i = (await emu.aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }))).Reservations?.[0]?.Instances?.[0];
      return i?.State?.Name === 'stopped';
    });
  });
});
