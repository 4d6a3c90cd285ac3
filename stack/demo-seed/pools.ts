import { CreateAutoScalingGroupCommand, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import {
  CreateFleetCommand,
  CreateTagsCommand,
  DescribeFleetsCommand,
  DescribeSpotFleetInstancesCommand,
  DescribeSpotFleetRequestsCommand,
  RequestSpotFleetCommand,
} from '@aws-sdk/client-ec2';
import type { AwsClients } from '../../activities/aws/clients';
import { POOL_TAG_CLUSTER, POOL_TAG_POOL } from '../../activities/capacity/types';
import { DEMO, EC2_FLEET_TYPES, SPOT_FLEET_TYPES } from './demo';
import { must, nameTag } from './resource-helpers';

/** The demo's three capacity pools (EC2 Fleet `instant` spot, a Spot Fleet `maintain`, an on-demand ASG) and their pool tags. */

export async function ensureEc2Fleet(aws: AwsClients, launchTemplateId: string, subnets: Record<string, string>) {
  const fleets = await aws.ec2.send(new DescribeFleetsCommand({ Filters: [{ Name: 'type', Values: ['instant'] }] }));
  const existing = fleets.Fleets?.find((f) => f.Tags?.some((t) => t.Key === 'Name' && t.Value === DEMO.ec2FleetTag));
  if (existing?.FleetId) {
    return { fleetId: existing.FleetId, instances: (existing.Instances ?? []).flatMap((i) => i.InstanceIds ?? []).sort() };
  }
  const azs = Object.keys(subnets).sort();
  const created = await aws.ec2.send(
    new CreateFleetCommand({
      Type: 'instant',
      TargetCapacitySpecification: {
        TotalTargetCapacity: DEMO.instancesPerPool,
        DefaultTargetCapacityType: 'spot',
        SpotTargetCapacity: DEMO.instancesPerPool,
      },
      SpotOptions: { AllocationStrategy: 'price-capacity-optimized' },
      LaunchTemplateConfigs: [
        {
          LaunchTemplateSpecification: { LaunchTemplateId: launchTemplateId, Version: '$Latest' },
          Overrides: EC2_FLEET_TYPES.map((InstanceType, i) => ({ InstanceType, SubnetId: subnets[azs[i % azs.length]] })),
        },
      ],
      TagSpecifications: [nameTag('fleet', DEMO.ec2FleetTag), nameTag('instance', DEMO.ec2FleetTag)],
    }),
  );
  const fleetId = must(created.FleetId, 'EC2 Fleet id');
  const instances = (created.Instances ?? []).flatMap((i) => i.InstanceIds ?? []).sort();
  if (instances.length === 0) {
    const errors = (created.Errors ?? []).map((e) => `${e.ErrorCode}: ${e.ErrorMessage}`).join('; ');
    throw new Error(`seed: EC2 Fleet ${fleetId} launched no instances${errors ? ` (${errors})` : ''}`);
  }
  return { fleetId, instances };
}

export async function ensureSpotFleet(aws: AwsClients, launchTemplateId: string, subnets: Record<string, string>) {
  const requests = await aws.ec2.send(new DescribeSpotFleetRequestsCommand({}));
  let requestId = requests.SpotFleetRequestConfigs?.find(
    (r) =>
      ['submitted', 'active', 'modifying'].includes(r.SpotFleetRequestState ?? '') &&
      r.SpotFleetRequestConfig?.LaunchTemplateConfigs?.some((c) => c.LaunchTemplateSpecification?.LaunchTemplateId === launchTemplateId),
  )?.SpotFleetRequestId;
  if (!requestId) {
    const azs = Object.keys(subnets).sort();
    const created = await aws.ec2.send(
      new RequestSpotFleetCommand({
        SpotFleetRequestConfig: {
          // Spot Fleet needs a role to act for the caller; the emulator accepts any ARN.
          IamFleetRole: 'arn:aws:iam::123456789012:role/aws-ec2-spot-fleet-tagging-role',
          TargetCapacity: DEMO.instancesPerPool,
          Type: 'maintain',
          AllocationStrategy: 'diversified',
          LaunchTemplateConfigs: [
            {
              LaunchTemplateSpecification: { LaunchTemplateId: launchTemplateId, Version: '$Latest' },
              Overrides: SPOT_FLEET_TYPES.map((InstanceType, i) => ({ InstanceType, SubnetId: subnets[azs[(i + 1) % azs.length]] })),
            },
          ],
          TagSpecifications: [nameTag('spot-fleet-request', DEMO.spotFleetTag)],
        },
      }),
    );
    requestId = must(created.SpotFleetRequestId, 'Spot Fleet request id');
  }
  const active = await aws.ec2.send(new DescribeSpotFleetInstancesCommand({ SpotFleetRequestId: requestId }));
  const instances = (active.ActiveInstances ?? []).map((i) => must(i.InstanceId, 'instance id')).sort();
  if (instances.length === 0) throw new Error(`seed: Spot Fleet request ${requestId} has no active instances`);
  return { requestId, instances };
}

export async function ensureAutoScalingGroup(aws: AwsClients, launchTemplateId: string, subnets: Record<string, string>) {
  const describe = () => aws.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [DEMO.autoScalingGroup] }));
  let group = (await describe()).AutoScalingGroups?.[0];
  if (!group) {
    await aws.autoscaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: DEMO.autoScalingGroup,
        LaunchTemplate: { LaunchTemplateId: launchTemplateId, Version: '$Latest' },
        MinSize: 0,
        MaxSize: 20,
        DesiredCapacity: DEMO.instancesPerPool,
        // moto launches an ASG's instances in its first subnet, the EC2 Fleet and Spot Fleet in their
        // first override's (a and b): listing c first puts the demo's three pools in three AZs.
        VPCZoneIdentifier: Object.keys(subnets)
          .sort()
          .reverse()
          .map((az) => subnets[az])
          .join(','),
        Tags: [
          { Key: 'Name', Value: DEMO.autoScalingGroup, PropagateAtLaunch: true },
          { Key: POOL_TAG_CLUSTER, Value: DEMO.cluster, PropagateAtLaunch: true },
          { Key: POOL_TAG_POOL, Value: DEMO.pools.asg, PropagateAtLaunch: true },
        ],
      }),
    );
    group = (await describe()).AutoScalingGroups?.[0];
  }
  const instances = (group?.Instances ?? []).map((i) => must(i.InstanceId, 'instance id')).sort();
  if (instances.length === 0) throw new Error(`seed: Auto Scaling group ${DEMO.autoScalingGroup} launched no instances`);
  return instances;
}

/** The tags fleetops puts on what a pool launches (CreateTags is idempotent). */
export async function tagPoolInstances(aws: AwsClients, instanceIds: string[], pool: string, cluster: string = DEMO.cluster): Promise<void> {
  await aws.ec2.send(
    new CreateTagsCommand({
      Resources: instanceIds,
      Tags: [
        { Key: POOL_TAG_CLUSTER, Value: cluster },
        { Key: POOL_TAG_POOL, Value: pool },
      ],
    }),
  );
}
