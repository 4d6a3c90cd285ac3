import { CreateAutoScalingGroupCommand, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateCommand, DescribeImagesCommand, DescribeInstancesCommand, DescribeSpotFleetInstancesCommand, RequestSpotFleetCommand } from '@aws-sdk/client-ec2';
import { CreateClusterCommand, DescribeContainerInstancesCommand, ListContainerInstancesCommand, RegisterContainerInstanceCommand } from '@aws-sdk/client-ecs';
import { startEmulator } from '../../testkit/emulator';
import { useEmulator } from '../harness/emulator';

/**
 * Pools that replace their own instances (simulator pool-replacements.ts and the moto patch for
 * `maintain` Spot Fleets): a spot reclaim in a `maintain` Spot Fleet or an Auto Scaling group is
 * replaced at the pool's unchanged target, and the replacement joins the cluster; a `request` fleet
 * does not replace.
 */

jest.setTimeout(60_000);

// Reset in the describe block's beforeEach, with the pool-replacements config.
const emu = useEmulator(() => startEmulator({ autoTick: false }), { resetEach: false });

async function image(): Promise<string> {
  return (await emu.aws.ec2.send(new DescribeImagesCommand({}))).Images?.[0]?.ImageId ?? 'ami-12c6146b';
}

async function registerAll(ids: string[]): Promise<void> {
  await emu.aws.ecs.send(new CreateClusterCommand({ clusterName: 'demo' }));
  for (const instanceId of ids) await emu.aws.ecs.send(new RegisterContainerInstanceCommand({ cluster: 'demo', instanceIdentityDocument: JSON.stringify({ instanceId }) }));
}

async function clusterInstances(): Promise<string[]> {
  const arns = (await emu.aws.ecs.send(new ListContainerInstancesCommand({ cluster: 'demo' }))).containerInstanceArns ?? [];
  if (arns.length === 0) return [];
  const d = await emu.aws.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'demo', containerInstances: arns }));
  return (d.containerInstances ?? []).map((c) => c.ec2InstanceId ?? '').sort();
}

async function liveOf(ids: string[]): Promise<string[]> {
  const d = await emu.aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
  return (d.Reservations ?? []).flatMap((r) => r.Instances ?? []).filter((i) => i.State?.Name === 'running').map((i) => i.InstanceId!).sort();
}

async function fleet(type: 'maintain' | 'request'): Promise<{ id: string; instances: string[] }> {
  const sfr = await emu.aws.ec2.send(
    new RequestSpotFleetCommand({
      SpotFleetRequestConfig: {
        IamFleetRole: 'arn:aws:iam::123456789012:role/aws-ec2-spot-fleet-tagging-role',
        AllocationStrategy: 'diversified',
        TargetCapacity: 2,
        Type: type,
        LaunchSpecifications: [{ ImageId: await image(), InstanceType: 'm5.large', WeightedCapacity: 1 }],
      },
    }),
  );
  const id = sfr.SpotFleetRequestId!;
  const members = await emu.aws.ec2.send(new DescribeSpotFleetInstancesCommand({ SpotFleetRequestId: id }));
  return { id, instances: (members.ActiveInstances ?? []).map((a) => a.InstanceId!) };
}

async function fleetLive(id: string): Promise<string[]> {
  const members = await emu.aws.ec2.send(new DescribeSpotFleetInstancesCommand({ SpotFleetRequestId: id }));
  return liveOf((members.ActiveInstances ?? []).map((a) => a.InstanceId!));
}

async function reclaim(instanceId: string): Promise<void> {
  await emu.sim.request('POST', 'spot-interruption/schedule', { instanceId, afterSeconds: 0 });
  await emu.sim.tick('spot-interruption');
  await emu.sim.tick('pool-replacements');
  await emu.sim.tick('pool-replacements');
}

describe('pools that replace their own instances', () => {
  beforeEach(async () => {
    await emu.reset();
    await emu.sim.request('POST', 'pool-replacements/config', { bootDelaySeconds: 0 });
  });

  it('a maintain Spot Fleet replaces a reclaimed instance and the replacement joins the cluster', async () => {
    const f = await fleet('maintain');
    await registerAll(f.instances);
    await emu.sim.tick('pool-replacements');
    await reclaim(f.instances[0]!);
    const live = await fleetLive(f.id);
    expect(live).toHaveLength(2);
    expect(live).not.toContain(f.instances[0]);
    expect(await clusterInstances()).toEqual(live);
  });

  it('a request Spot Fleet does not', async () => {
    const f = await fleet('request');
    await registerAll(f.instances);
    await emu.sim.tick('pool-replacements');
    await reclaim(f.instances[0]!);
    expect(await fleetLive(f.id)).toEqual([f.instances[1]]);
    expect(await clusterInstances()).toEqual([f.instances[1]]);
  });

  it('an Auto Scaling group replaces a reclaimed instance and the replacement joins the cluster', async () => {
    const lt = await emu.aws.ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'node', LaunchTemplateData: { ImageId: await image(), InstanceType: 'm5.large' } }));
    await emu.aws.autoscaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: 'g',
        LaunchTemplate: { LaunchTemplateId: lt.LaunchTemplate?.LaunchTemplateId, Version: '$Latest' },
        MinSize: 0,
        MaxSize: 4,
        DesiredCapacity: 2,
        AvailabilityZones: ['us-east-1a'],
      }),
    );
    const members = async () => ((await emu.aws.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['g'] }))).AutoScalingGroups?.[0]?.Instances ?? []).map((i) => i.InstanceId!).sort();
    const before = await members();
    await registerAll(before);
    await emu.sim.tick('pool-replacements');
    await reclaim(before[0]!);
    const after = await members();
    expect(after).toHaveLength(2);
    expect(after).not.toContain(before[0]);
    expect(await clusterInstances()).toEqual(after);
  });
});
