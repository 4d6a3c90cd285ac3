import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateAutoScalingGroupCommand, PutLifecycleHookCommand } from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateCommand, DescribeImagesCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { MockActivityEnvironment } from '@temporalio/testing';
import { completeLifecycleActionWith, recordLifecycleActionHeartbeat, type LifecycleResult } from '../../activities/aws/lifecycle-action';
import { createDrainActivities } from '../../activities/drain';
import { createLaunchActivities } from '../../activities/launch';
import { parseConfigText } from '../../config/load';
import type { LifecycleActionState, LifecycleCall } from '../../simulator/behaviours/asg-lifecycle';
import { startEmulator } from '../../testkit/emulator';
import { useEmulator } from '../harness/emulator';
import { ROOT } from '../../testkit/paths';

/**
 * The one ASG lifecycle helper the drain and the launch both call, against moto behind the simulator's
 * lifecycle hooks: an action no longer waiting is an answer (done, nothing to keep alive), any other
 * refusal is still a failure, and both activity groups answer a repeat the same way.
 */

jest.setTimeout(60_000);

const emu = useEmulator(() => startEmulator());
const config = parseConfigText(readFileSync(join(ROOT, 'test', 'fixtures', 'fleetops.valid.yaml'), 'utf8'));
const run = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> => new MockActivityEnvironment().run(fn, ...args);

let groups = 0;

/** A new instance held in Pending:Wait by a fresh group's launch hook (the simulator opens the action as Auto Scaling would). */
async function pendingWait(): Promise<{ instanceId: string; lifecycle: { hookName: string; asgName: string; actionToken: string } }> {
  const image = (await emu.aws.ec2.send(new DescribeImagesCommand({}))).Images?.[0]?.ImageId ?? 'ami-12c6146b';
  const instanceId = (await emu.aws.ec2.send(new RunInstancesCommand({ ImageId: image, InstanceType: 'm5.large', MinCount: 1, MaxCount: 1 }))).Instances![0]!.InstanceId!;
  const n = (groups += 1);
  const hook = { hookName: `hold-${n}`, asgName: `group-${n}` };
  const lt = await emu.aws.ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: `node-${n}`, LaunchTemplateData: { ImageId: image, InstanceType: 'm5.large' } }));
  await emu.aws.autoscaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: hook.asgName,
      LaunchTemplate: { LaunchTemplateId: lt.LaunchTemplate?.LaunchTemplateId, Version: '$Latest' },
      MinSize: 0,
      MaxSize: 2,
      DesiredCapacity: 0,
      AvailabilityZones: ['us-east-1a'],
    }),
  );
  await emu.aws.autoscaling.send(
    new PutLifecycleHookCommand({ AutoScalingGroupName: hook.asgName, LifecycleHookName: hook.hookName, LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', HeartbeatTimeout: 300 }),
  );
  const a = await emu.sim.request<LifecycleActionState>('POST', 'asg-lifecycle/launch', { autoScalingGroupName: hook.asgName, lifecycleHookName: hook.hookName, instanceId });
  return { instanceId, lifecycle: { ...hook, actionToken: a.token } };
}

async function callsFor(instanceId: string): Promise<[string, boolean][]> {
  const { calls } = await emu.sim.request<{ calls: LifecycleCall[] }>('GET', 'asg-lifecycle/actions');
  return calls.filter((c) => c.instanceId === instanceId).map((c) => [c.action, c.accepted]);
}

describe('the ASG lifecycle helper against moto + simulator', () => {
  it('heartbeats and completes a waiting action; a repeat completion or a late heartbeat finds it gone and says so', async () => {
    const { instanceId, lifecycle } = await pendingWait();
    await expect(recordLifecycleActionHeartbeat(emu.aws, lifecycle, instanceId, false)).resolves.toEqual({ active: true, dryRunCalls: [] });
    await expect(completeLifecycleActionWith(emu.aws, lifecycle, instanceId, 'CONTINUE', false)).resolves.toEqual({ alreadyCompleted: false, dryRunCalls: [] });
    await expect(completeLifecycleActionWith(emu.aws, lifecycle, instanceId, 'CONTINUE', false)).resolves.toEqual({ alreadyCompleted: true, dryRunCalls: [] });
    await expect(recordLifecycleActionHeartbeat(emu.aws, lifecycle, instanceId, false)).resolves.toEqual({ active: false, dryRunCalls: [] });
    expect(await callsFor(instanceId)).toEqual([
      ['RecordLifecycleActionHeartbeat', true],
      ['CompleteLifecycleAction', true],
      ['CompleteLifecycleAction', false],
      ['RecordLifecycleActionHeartbeat', false],
    ]);
  });

  it('any other refusal still fails, classified', async () => {
    const { instanceId, lifecycle } = await pendingWait();
    await expect(completeLifecycleActionWith(emu.aws, lifecycle, instanceId, 'PAUSE' as LifecycleResult, false)).rejects.toMatchObject({
      type: 'AwsValidation',
      message: expect.stringContaining('LifecycleActionResult must be CONTINUE or ABANDON'),
    });
  });

  it('in dry run returns the call and makes none', async () => {
    const { instanceId, lifecycle } = await pendingWait();
    const r = await completeLifecycleActionWith(emu.aws, lifecycle, instanceId, 'ABANDON', true);
    expect(r).toEqual({
      alreadyCompleted: false,
      dryRunCalls: [
        {
          action: 'autoscaling:CompleteLifecycleAction',
          params: { AutoScalingGroupName: lifecycle.asgName, LifecycleHookName: lifecycle.hookName, LifecycleActionToken: lifecycle.actionToken, InstanceId: instanceId, LifecycleActionResult: 'ABANDON' },
        },
      ],
    });
    expect(await callsFor(instanceId)).toEqual([]);
  });

  it('the launch and the drain answer an action that is no longer waiting the same way: done, not failed', async () => {
    const { instanceId, lifecycle } = await pendingWait();
    const launch = createLaunchActivities({ aws: emu.aws, config });
    const drain = createDrainActivities({ aws: emu.aws, config });
    await expect(run(launch.completeLaunchLifecycleAction, { lifecycle, instanceId, result: 'CONTINUE' })).resolves.toEqual({ dryRunCalls: [] });
    await expect(run(launch.completeLaunchLifecycleAction, { lifecycle, instanceId, result: 'CONTINUE' })).resolves.toEqual({ dryRunCalls: [], noActiveAction: true });
    await expect(run(launch.recordLaunchLifecycleHeartbeat, { lifecycle, instanceId })).resolves.toEqual({ dryRunCalls: [], noActiveAction: true });
    await expect(run(drain.completeLifecycleAction, { lifecycle, instanceId })).resolves.toEqual({ alreadyCompleted: true, dryRunCalls: [] });
    await expect(run(drain.recordLifecycleHeartbeat, { lifecycle, instanceId })).resolves.toEqual({ active: false, dryRunCalls: [] });
  });
});
