import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateCommand, DescribeImagesCommand, RequestSpotFleetCommand } from '@aws-sdk/client-ec2';
import { CreateClusterCommand } from '@aws-sdk/client-ecs';
import { parse } from 'yaml';
import { createCapacityActivities } from '../activities/capacity';
import { parseConfig } from '../config/load';
import type { FleetopsConfig } from '../config/schema';
import type { Emulator } from './emulator';
import { ROOT } from './paths';

/**
 * A cluster with the three pool kinds in moto (EC2 Fleet `instant` overrides, a `maintain` Spot Fleet
 * with one instance, an empty ASG) and the fleetops config that names them. Used by the capacity
 * activity tests and bench/capacity-fallback.ts.
 */
export const CLUSTER = 'demo';
export const ASG = 'demo-on-demand';

export interface Seeded {
  activities: ReturnType<typeof createCapacityActivities>;
  config: FleetopsConfig;
  spotFleetRequestId: string;
}

export async function seedCapacityWorld(
  emu: Emulator,
  opts: { fulfilmentTimeoutSeconds?: number; unavailableTtlSeconds?: number; lowerMinSizeOnScaleIn?: boolean } = {},
): Promise<Seeded> {
  await emu.reset();
  const { aws } = emu;
  // emu.aws seeds; the activities under test get the worker's clients, so the IAM proof records their calls.
  await aws.ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
  const image = (await aws.ec2.send(new DescribeImagesCommand({}))).Images?.[0]?.ImageId;
  if (!image) throw new Error('moto has no images');
  const lt = await aws.ec2.send(
    new CreateLaunchTemplateCommand({ LaunchTemplateName: 'demo-node', LaunchTemplateData: { ImageId: image, InstanceType: 'm5.large' }, TagSpecifications: [{ ResourceType: 'launch-template', Tags: [{ Key: 'fleetops:pool', Value: 'spot-instant' }] }] }),
  );
  const sfr = await aws.ec2.send(
    new RequestSpotFleetCommand({
      SpotFleetRequestConfig: {
        IamFleetRole: 'arn:aws:iam::123456789012:role/aws-ec2-spot-fleet-tagging-role',
        AllocationStrategy: 'diversified',
        TargetCapacity: 1,
        Type: 'maintain',
        // Tagged as an operator tags a pool's instances: the kit's roles terminate only those (deploy/aws/).
        LaunchSpecifications: [
          { ImageId: image, InstanceType: 'm5.large', WeightedCapacity: 1, TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'fleetops:pool', Value: 'spot-diversified' }] }] },
        ],
      },
    }),
  );
  await aws.autoscaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: ASG,
      Tags: [{ Key: 'fleetops:pool', Value: 'on-demand', PropagateAtLaunch: true }],
      LaunchTemplate: { LaunchTemplateId: lt.LaunchTemplate?.LaunchTemplateId, Version: '$Latest' },
      MinSize: 0,
      MaxSize: 50,
      DesiredCapacity: 0,
      AvailabilityZones: ['us-east-1a'],
    }),
  );
  const base = parse(readFileSync(join(ROOT, 'test', 'fixtures', 'fleetops.valid.yaml'), 'utf8')) as Record<string, unknown>;
  const timeout = opts.fulfilmentTimeoutSeconds !== undefined ? { fulfilmentTimeoutSeconds: opts.fulfilmentTimeoutSeconds } : {};
  const config = parseConfig({
    ...base,
    aws: { region: 'us-east-1', endpoint: emu.endpoint },
    alarmRoutes: [],
    services: [],
    clusters: {
      [CLUSTER]: {
        pools: [
          {
            name: 'spot-instant',
            kind: 'ec2-fleet',
            launchTemplate: { name: 'demo-node' },
            overrides: [
              { instanceType: 'm5.large', availabilityZone: 'us-east-1a', weight: 1 },
              { instanceType: 'm5a.large', availabilityZone: 'us-east-1b', weight: 1 },
            ],
            ...timeout,
          },
          { name: 'spot-diversified', kind: 'spot-fleet', spotFleetRequestId: sfr.SpotFleetRequestId, allocationStrategy: 'diversified', ...timeout },
          { name: 'on-demand', kind: 'asg', autoScalingGroupName: ASG, ...timeout, ...(opts.lowerMinSizeOnScaleIn ? { lowerMinSizeOnScaleIn: true } : {}) },
        ],
        capacity: { minUnits: 0, maxUnits: 100, cooldownSeconds: 0, ...(opts.unavailableTtlSeconds ? { unavailableTtlSeconds: opts.unavailableTtlSeconds } : {}) },
      },
    },
  });
  return { activities: createCapacityActivities({ aws: emu.worker, config }), config, spotFleetRequestId: sfr.SpotFleetRequestId ?? '' };
}
