import { CreateAutoScalingGroupCommand, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { CreateFleetCommand, DescribeFleetsCommand, type _InstanceType } from '@aws-sdk/client-ec2';
import { CreateServiceCommand, DescribeServicesCommand, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import type { AwsClients } from '../../activities/aws/clients';
import { POOL_TAG_CLUSTER, POOL_TAG_POOL } from '../../activities/capacity/types';
import { ensureCluster } from './cluster';
import { ensureLaunchTemplate } from './network';
import { tagPoolInstances } from './pools';
import { must, nameTag } from './resource-helpers';

/**
 * The demo's second cluster, `shop`, in the same account and VPC: a spot EC2 Fleet (`instant`) and an
 * on-demand ASG of one instance each, launched from their own template whose user data joins them to
 * `shop` (so what capacity launches for it later boots into `shop`, not `demo`), and six small
 * services of one task each (no load balancer) for windows and releases across several services.
 * Kept small: every end-to-end file starts a stack, and this seed runs beside demo's.
 */

export const SHOP = {
  cluster: 'shop',
  /** Pool names in config/demo.fleetops.yaml (clusters.shop.pools). */
  pools: { spot: 'shop-spot', onDemand: 'shop-on-demand' },
  launchTemplate: 'shop-node',
  ec2FleetTag: 'shop-spot-ec2-fleet',
  autoScalingGroup: 'shop-on-demand',
  /** The spot pool's one override: the instance type and AZ (index into the demo's subnets) it launches. */
  spotType: 'm5.large' as _InstanceType,
  services: ['cart', 'catalog', 'checkout', 'search', 'reviews', 'payments'],
  /** Routed to a scale-in of shop (config/demo.fleetops.yaml): what brings shop back down after a window. */
  scaleInAlarm: 'shop-scale-in',
} as const;

export interface SeededShop {
  cluster: string;
  instancesByPool: { spot: string[]; onDemand: string[] };
  services: string[];
}

async function ensureSpot(aws: AwsClients, launchTemplateId: string, subnetId: string): Promise<string[]> {
  const fleets = await aws.ec2.send(new DescribeFleetsCommand({ Filters: [{ Name: 'type', Values: ['instant'] }] }));
  const existing = fleets.Fleets?.find((f) => f.Tags?.some((t) => t.Key === 'Name' && t.Value === SHOP.ec2FleetTag));
  if (existing) return (existing.Instances ?? []).flatMap((i) => i.InstanceIds ?? []).sort();
  const created = await aws.ec2.send(
    new CreateFleetCommand({
      Type: 'instant',
      TargetCapacitySpecification: { TotalTargetCapacity: 1, DefaultTargetCapacityType: 'spot', SpotTargetCapacity: 1 },
      LaunchTemplateConfigs: [{ LaunchTemplateSpecification: { LaunchTemplateId: launchTemplateId, Version: '$Latest' }, Overrides: [{ InstanceType: SHOP.spotType, SubnetId: subnetId }] }],
      TagSpecifications: [nameTag('fleet', SHOP.ec2FleetTag), nameTag('instance', SHOP.ec2FleetTag)],
    }),
  );
  const instances = (created.Instances ?? []).flatMap((i) => i.InstanceIds ?? []);
  if (instances.length === 0) throw new Error(`seed: shop's EC2 Fleet launched no instances`);
  return instances.sort();
}

async function ensureOnDemand(aws: AwsClients, launchTemplateId: string, subnetId: string): Promise<string[]> {
  const describe = () => aws.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [SHOP.autoScalingGroup] }));
  let group = (await describe()).AutoScalingGroups?.[0];
  if (!group) {
    await aws.autoscaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: SHOP.autoScalingGroup,
        LaunchTemplate: { LaunchTemplateId: launchTemplateId, Version: '$Latest' },
        MinSize: 0,
        MaxSize: 10,
        DesiredCapacity: 1,
        VPCZoneIdentifier: subnetId,
        Tags: [
          { Key: 'Name', Value: SHOP.autoScalingGroup, PropagateAtLaunch: true },
          { Key: POOL_TAG_CLUSTER, Value: SHOP.cluster, PropagateAtLaunch: true },
          { Key: POOL_TAG_POOL, Value: SHOP.pools.onDemand, PropagateAtLaunch: true },
        ],
      }),
    );
    group = (await describe()).AutoScalingGroups?.[0];
  }
  const instances = (group?.Instances ?? []).map((i) => must(i.InstanceId, 'instance id')).sort();
  if (instances.length === 0) throw new Error(`seed: Auto Scaling group ${SHOP.autoScalingGroup} launched no instances`);
  return instances;
}

/** Six services of one small task each; the simulator's ECS places them. Not waited for: nothing at start reads them. */
async function ensureServices(aws: AwsClients): Promise<void> {
  const found = await aws.ecs.send(new DescribeServicesCommand({ cluster: SHOP.cluster, services: [...SHOP.services] }));
  const active = new Set((found.services ?? []).filter((s) => s.status === 'ACTIVE').map((s) => s.serviceName));
  for (const name of SHOP.services.filter((s) => !active.has(s))) {
    const td = await aws.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: `shop-${name}`,
        networkMode: 'bridge',
        requiresCompatibilities: ['EC2'],
        containerDefinitions: [{ name, image: 'public.ecr.aws/nginx/nginx:1.27', cpu: 128, memory: 256, essential: true }],
      }),
    );
    await aws.ecs.send(
      new CreateServiceCommand({
        cluster: SHOP.cluster,
        serviceName: name,
        taskDefinition: must(td.taskDefinition?.taskDefinitionArn, 'task definition ARN'),
        desiredCount: 1,
        launchType: 'EC2',
        deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200, deploymentCircuitBreaker: { enable: true, rollback: false } },
        placementStrategy: [{ type: 'spread', field: 'instanceId' }],
      }),
    );
  }
}

async function ensureScaleInAlarm(aws: AwsClients): Promise<void> {
  await aws.cloudwatch.send(
    new PutMetricAlarmCommand({
      AlarmName: SHOP.scaleInAlarm,
      AlarmDescription: 'shop cluster has idle capacity: fleetops scales in',
      Namespace: 'AWS/ECS',
      MetricName: 'CPUReservation',
      Dimensions: [{ Name: 'ClusterName', Value: SHOP.cluster }],
      Statistic: 'Average',
      Period: 300,
      EvaluationPeriods: 3,
      Threshold: 25,
      ComparisonOperator: 'LessThanThreshold',
    }),
  );
}

/** Seeds (or finds) cluster shop in the demo's VPC: its pools, their instances registered, its services, its scale-in alarm. */
export async function seedShop(aws: AwsClients, region: string, securityGroupId: string, subnets: Record<string, string>): Promise<SeededShop> {
  const azs = Object.keys(subnets).sort();
  const launchTemplateId = await ensureLaunchTemplate(aws, securityGroupId, { name: SHOP.launchTemplate, pool: SHOP.pools.spot, cluster: SHOP.cluster });
  const spot = await ensureSpot(aws, launchTemplateId, must(subnets[azs[0]!], 'subnet'));
  const onDemand = await ensureOnDemand(aws, launchTemplateId, must(subnets[azs[1]!], 'subnet'));
  await tagPoolInstances(aws, spot, SHOP.pools.spot, SHOP.cluster);
  await ensureCluster(aws, region, [...spot, ...onDemand], SHOP.cluster);
  await ensureServices(aws);
  await ensureScaleInAlarm(aws);
  return { cluster: SHOP.cluster, instancesByPool: { spot, onDemand }, services: [...SHOP.services] };
}
