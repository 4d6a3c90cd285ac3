/**
 * Seeds the local stack's demo environment into the AWS emulator with the real SDK clients, so the
 * demo is made by the same calls a user's account would see: a VPC over three AZs, a launch template,
 * three capacity pools (EC2 Fleet `instant` spot, a legacy Spot Fleet `maintain`, an on-demand ASG),
 * ECS cluster `demo` with one container instance per EC2 instance, service `web` behind an ALB, and the
 * three alarms the demo config routes, the incident-latency alarm its sev3 route names, and the S3 bucket
 * closed postmortems are stored in.
 *
 * Every step finds its resource before creating it, so seeding a running emulator twice yields the
 * same environment. What moto does and does not do, and how the seed makes up for it:
 *  - RegisterContainerInstance: moto reads only `instanceId` from the identity document and takes
 *    AZ, instance type and AMI from the EC2 instance; it ignores `totalResources` (every container
 *    instance gets 4096 CPU / 7482 MiB). The seed sends the full document and resources anyway, as the
 *    ECS agent does.
 *  - Task lifecycle: by default moto reports every task as already stopped the first time it is
 *    described; `keepTasksRunning` makes tasks stay RUNNING until StopTask, as on ECS.
 *  - CreateService places no tasks in moto; the simulator's ECS (simulator/behaviours/ecs-deployments.ts)
 *    places them on the container instances, registers them in the target group and health-checks
 *    them, as ECS and the ALB do. The seed waits until the service is steady.
 *  - web is served the way an ALB service is in production: HTTPS (an ACM certificate) with users
 *    authenticated (authenticate-oidc) before a weighted forward to its stable target group, in a
 *    listener rule, and an empty canary target group beside it; the canary deploy shifts that rule's
 *    weights (config/demo.fleetops.yaml `listenerRule`). HTTP redirects to HTTPS.
 *  - Pool membership: fleetops finds an EC2 Fleet pool's instances by the `fleetops:cluster` and
 *    `fleetops:pool` tags it puts on what it launches (Spot Fleet and ASG pools by request id and group
 *    name), so the seed tags every pool's instances the same way. It tags them after launch, not in
 *    CreateFleet's TagSpecifications: the simulator registers tagged CreateFleet launches in their
 *    cluster itself, and the seed registers its instances itself.
 *  - New capacity: once seeded, the simulator's capacity behaviour is told to register what the pools
 *    launch later in cluster `demo` after a short boot delay, as the ECS agent on a new instance would.
 *  - CreateFleet `instant`, RequestSpotFleet and CreateAutoScalingGroup all launch instances at once,
 *    each pool's in one AZ (the first override's subnet; an ASG's first subnet), which is how the seed
 *    spreads the three pools over three AZs. RequestSpotFleet ignores `Type`: the request keeps no
 *    `maintain` semantics (nothing replaces an interrupted instance) and DescribeSpotFleetRequests
 *    returns no Type; the seed still asks for `maintain`, as a real account would.
 */
import {
  CreateAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
} from '@aws-sdk/client-auto-scaling';
import { PutMetricAlarmCommand, type PutMetricAlarmCommandInput } from '@aws-sdk/client-cloudwatch';
import { CreateBucketCommand, HeadBucketCommand, PutBucketVersioningCommand, type BucketLocationConstraint } from '@aws-sdk/client-s3';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateFleetCommand,
  CreateLaunchTemplateCommand,
  CreateTagsCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeFleetsCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplatesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSpotFleetInstancesCommand,
  DescribeSpotFleetRequestsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  RequestSpotFleetCommand,
  type Instance,
  type ResourceType,
  type TagSpecification,
  type _InstanceType,
} from '@aws-sdk/client-ec2';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeClustersCommand,
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  ListContainerInstancesCommand,
  ListTasksCommand,
  RegisterContainerInstanceCommand,
  RegisterTaskDefinitionCommand,
  DescribeTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  type CreateListenerCommandInput,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsClients } from '../activities/aws/clients';
import { POOL_TAG_CLUSTER, POOL_TAG_POOL } from '../activities/capacity/types';
import { createSimControl } from '../simulator/control-client';
import { ensureCertificate } from './certificate';
import type { Logger } from '../common/logger';

export const DEMO = {
  cluster: 'demo',
  service: 'web',
  vpcName: 'fleetops-demo',
  launchTemplate: 'demo-node',
  securityGroup: 'demo-node',
  ec2FleetTag: 'demo-spot-ec2-fleet',
  spotFleetTag: 'demo-spot-diversified',
  autoScalingGroup: 'demo-on-demand',
  loadBalancer: 'demo-alb',
  targetGroup: 'demo-web',
  canaryTargetGroup: 'demo-web-canary',
  domain: 'web.demo.fleetops.example',
  /** ALB health checks every 5 s (the shortest ELB allows; a real service often keeps the 30 s default). */
  healthCheckIntervalSeconds: 5,
  /**
   * How long ECS ignores failed health checks of a new task: as long as the target group takes to call
   * a failing target unhealthy (2 checks 5 s apart), so a task that never passes is stopped as soon as
   * ELB says so, and the demo's unhealthy-canary rollback takes seconds less.
   */
  healthCheckGracePeriodSeconds: 10,
  taskFamily: 'web',
  desiredCount: 4,
  alarms: { scaleOut: 'demo-scale-out', scaleIn: 'demo-scale-in', incident: 'demo-incident-5xx' },
  /** Routed to a sev3 incident for cluster demo (config/demo.fleetops.yaml): escalating it freezes demo's deploys. */
  latencyAlarm: 'demo-latency-high',
  /** incidents.postmortemBucket in config/demo.fleetops.yaml. */
  postmortemBucket: 'fleetops-demo-postmortems',
  /** Two instances per pool: six container instances in all. */
  instancesPerPool: 2,
  /** Pool names in config/demo.fleetops.yaml (stack/demo-config.ts checks they match). */
  pools: { ec2Fleet: 'spot-ec2-fleet', spotFleet: 'spot-diversified', asg: 'on-demand' },
  /**
   * New instances become ACTIVE container instances this long after launch (a real one takes a minute
   * or more), and Spot Fleet / ASG raises are fulfilled after this delay: long enough to watch in the
   * demo, short enough for end-to-end tests.
   */
  capacitySimulation: { bootDelaySeconds: 3, fulfilmentDelaySeconds: 1 },
} as const;

/** Instance types per pool; the EC2 Fleet's list matches the overrides in config/demo.fleetops.yaml. */
const EC2_FLEET_TYPES: _InstanceType[] = ['m5.large', 'm5a.large', 'm5.xlarge'];
const SPOT_FLEET_TYPES: _InstanceType[] = ['c5.large', 'c5a.large'];
const ASG_TYPE: _InstanceType = 'm5.large';
/** The demo identity provider in front of web (authenticate-oidc); nothing answers there, the ALB is emulated. */
const DEMO_OIDC = {
  Issuer: 'https://login.demo.fleetops.example',
  AuthorizationEndpoint: 'https://login.demo.fleetops.example/authorize',
  TokenEndpoint: 'https://login.demo.fleetops.example/token',
  UserInfoEndpoint: 'https://login.demo.fleetops.example/userinfo',
  ClientId: 'fleetops-demo-web',
  ClientSecret: 'demo-oidc-client-secret',
  OnUnauthenticatedRequest: 'authenticate' as const,
};
/** How long the seed waits for web to be steady (placed, running, healthy in its target group). */
const SERVICE_STEADY_TIMEOUT_MS = 120_000;

export interface SeededDemo {
  region: string;
  vpcId: string;
  /** Subnet id per availability zone. */
  subnets: Record<string, string>;
  securityGroupId: string;
  launchTemplateId: string;
  ec2FleetId: string;
  spotFleetRequestId: string;
  autoScalingGroupName: string;
  clusterArn: string;
  /** EC2 instance ids behind the cluster's container instances, by pool. */
  instancesByPool: { ec2Fleet: string[]; spotFleet: string[]; asg: string[] };
  instances: string[];
  containerInstanceArns: string[];
  loadBalancerArn: string;
  targetGroupArn: string;
  canaryTargetGroupArn: string;
  listenerArn: string;
  /** The HTTPS listener's rule that forwards to web's target groups, weighted. */
  listenerRuleArn: string;
  serviceArn: string;
  taskArns: string[];
  alarms: { scaleOut: string; scaleIn: string; incident: string };
}

function must<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new Error(`seed: the emulator returned no ${what}`);
  return value;
}

const nameTag = (resourceType: ResourceType, value: string): TagSpecification => ({
  ResourceType: resourceType,
  Tags: [
    { Key: 'Name', Value: value },
    { Key: 'fleetops:demo', Value: 'true' },
  ],
});

function azsOf(region: string): string[] {
  return ['a', 'b', 'c'].map((s) => `${region}${s}`);
}

async function ensureNetwork(aws: AwsClients, region: string) {
  const found = await aws.ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'tag:Name', Values: [DEMO.vpcName] }] }));
  let vpcId = found.Vpcs?.[0]?.VpcId;
  if (!vpcId) {
    const created = await aws.ec2.send(
      new CreateVpcCommand({ CidrBlock: '10.20.0.0/16', TagSpecifications: [nameTag('vpc', DEMO.vpcName)] }),
    );
    vpcId = must(created.Vpc?.VpcId, 'VPC id');
  }
  const subnets: Record<string, string> = {};
  const existing = await aws.ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }));
  for (const s of existing.Subnets ?? []) if (s.AvailabilityZone && s.SubnetId) subnets[s.AvailabilityZone] = s.SubnetId;
  for (const [i, az] of azsOf(region).entries()) {
    if (subnets[az]) continue;
    const created = await aws.ec2.send(
      new CreateSubnetCommand({
        VpcId: vpcId,
        AvailabilityZone: az,
        CidrBlock: `10.20.${i + 1}.0/24`,
        TagSpecifications: [nameTag('subnet', `${DEMO.vpcName}-${az}`)],
      }),
    );
    subnets[az] = must(created.Subnet?.SubnetId, 'subnet id');
  }

  const sgs = await aws.ec2.send(
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: 'vpc-id', Values: [vpcId] },
        { Name: 'group-name', Values: [DEMO.securityGroup] },
      ],
    }),
  );
  let securityGroupId = sgs.SecurityGroups?.[0]?.GroupId;
  if (!securityGroupId) {
    const created = await aws.ec2.send(
      new CreateSecurityGroupCommand({ GroupName: DEMO.securityGroup, Description: 'fleetops demo container instances', VpcId: vpcId }),
    );
    securityGroupId = must(created.GroupId, 'security group id');
    // ECS dynamic host ports, reachable from the ALB inside the VPC.
    await aws.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: securityGroupId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 32768, ToPort: 65535, IpRanges: [{ CidrIp: '10.20.0.0/16' }] }],
      }),
    );
  }
  return { vpcId, subnets, securityGroupId };
}

async function ensureLaunchTemplate(aws: AwsClients, securityGroupId: string): Promise<string> {
  try {
    const found = await aws.ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateNames: [DEMO.launchTemplate] }));
    const id = found.LaunchTemplates?.[0]?.LaunchTemplateId;
    if (id) return id;
  } catch (err) {
    if (!/NotFound/i.test((err as Error).name)) throw err;
  }
  const images = await aws.ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }));
  const imageId = must(images.Images?.find((i) => i.ImageId)?.ImageId, 'AMI');
  const created = await aws.ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: DEMO.launchTemplate,
      // The pools' templates carry fleetops:pool: the kit's roles launch only from those (deploy/aws/).
      TagSpecifications: [{ ResourceType: 'launch-template', Tags: [{ Key: POOL_TAG_POOL, Value: DEMO.pools.ec2Fleet }] }],
      LaunchTemplateData: {
        ImageId: imageId,
        InstanceType: ASG_TYPE,
        SecurityGroupIds: [securityGroupId],
        // What joins a real instance to the cluster; the seed registers the emulator's instances itself.
        UserData: Buffer.from(`#!/bin/bash\necho ECS_CLUSTER=${DEMO.cluster} >> /etc/ecs/ecs.config\n`).toString('base64'),
      },
    }),
  );
  return must(created.LaunchTemplate?.LaunchTemplateId, 'launch template id');
}

async function ensureEc2Fleet(aws: AwsClients, launchTemplateId: string, subnets: Record<string, string>) {
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

async function ensureSpotFleet(aws: AwsClients, launchTemplateId: string, subnets: Record<string, string>) {
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

async function ensureAutoScalingGroup(aws: AwsClients, launchTemplateId: string, subnets: Record<string, string>) {
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
async function tagPoolInstances(aws: AwsClients, instanceIds: string[], pool: string): Promise<void> {
  await aws.ec2.send(
    new CreateTagsCommand({
      Resources: instanceIds,
      Tags: [
        { Key: POOL_TAG_CLUSTER, Value: DEMO.cluster },
        { Key: POOL_TAG_POOL, Value: pool },
      ],
    }),
  );
}

async function describeInstances(aws: AwsClients, ids: string[]): Promise<Instance[]> {
  const res = await aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
  return (res.Reservations ?? []).flatMap((r) => r.Instances ?? []);
}

/** The document the ECS agent sends, from the instance's metadata service. */
function identityDocument(instance: Instance, region: string): string {
  return JSON.stringify({
    instanceId: instance.InstanceId,
    instanceType: instance.InstanceType,
    region,
    availabilityZone: instance.Placement?.AvailabilityZone,
    imageId: instance.ImageId,
    privateIp: instance.PrivateIpAddress,
    accountId: '123456789012',
    architecture: 'x86_64',
    pendingTime: instance.LaunchTime?.toISOString(),
  });
}

/** CPU units and MiB an instance type gives ECS (2 vCPU large, 4 vCPU xlarge). */
function resourcesFor(instanceType: string | undefined): { cpu: number; memory: number } {
  const xlarge = instanceType?.endsWith('.xlarge') ?? false;
  const compute = instanceType?.startsWith('c') ?? false;
  return { cpu: xlarge ? 4096 : 2048, memory: (xlarge ? 15_576 : 7_680) / (compute ? 2 : 1) };
}

async function ensureCluster(aws: AwsClients, region: string, instanceIds: string[]) {
  const described = await aws.ecs.send(new DescribeClustersCommand({ clusters: [DEMO.cluster] }));
  let clusterArn = described.clusters?.find((c) => c.status === 'ACTIVE')?.clusterArn;
  if (!clusterArn) {
    const created = await aws.ecs.send(
      new CreateClusterCommand({ clusterName: DEMO.cluster, tags: [{ key: 'fleetops:demo', value: 'true' }] }),
    );
    clusterArn = must(created.cluster?.clusterArn, 'cluster ARN');
  }

  const registered = new Map<string, string>();
  const listed = await aws.ecs.send(new ListContainerInstancesCommand({ cluster: DEMO.cluster }));
  if (listed.containerInstanceArns?.length) {
    const ci = await aws.ecs.send(new DescribeContainerInstancesCommand({ cluster: DEMO.cluster, containerInstances: listed.containerInstanceArns }));
    for (const c of ci.containerInstances ?? []) if (c.ec2InstanceId && c.containerInstanceArn) registered.set(c.ec2InstanceId, c.containerInstanceArn);
  }
  const missing = instanceIds.filter((id) => !registered.has(id));
  if (missing.length > 0) {
    for (const instance of await describeInstances(aws, missing)) {
      const { cpu, memory } = resourcesFor(instance.InstanceType);
      const res = await aws.ecs.send(
        new RegisterContainerInstanceCommand({
          cluster: DEMO.cluster,
          instanceIdentityDocument: identityDocument(instance, region),
          totalResources: [
            { name: 'CPU', type: 'INTEGER', integerValue: cpu },
            { name: 'MEMORY', type: 'INTEGER', integerValue: memory },
          ],
        }),
      );
      registered.set(must(instance.InstanceId, 'instance id'), must(res.containerInstance?.containerInstanceArn, 'container instance ARN'));
    }
  }
  return { clusterArn, containerInstances: registered };
}

async function ensureTargetGroup(aws: AwsClients, vpcId: string, name: string): Promise<string> {
  try {
    const found = await aws.elbv2.send(new DescribeTargetGroupsCommand({ Names: [name] }));
    const arn = found.TargetGroups?.[0]?.TargetGroupArn;
    if (arn) return arn;
  } catch (err) {
    if (!/NotFound/i.test((err as Error).name)) throw err;
  }
  const created = await aws.elbv2.send(
    new CreateTargetGroupCommand({
      Name: name,
      Protocol: 'HTTP',
      Port: 80,
      VpcId: vpcId,
      TargetType: 'instance',
      HealthCheckPath: '/healthz',
      HealthCheckIntervalSeconds: DEMO.healthCheckIntervalSeconds,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 2,
    }),
  );
  return must(created.TargetGroups?.[0]?.TargetGroupArn, 'target group ARN');
}

async function ensureListener(aws: AwsClients, loadBalancerArn: string, input: CreateListenerCommandInput): Promise<string> {
  const listeners = await aws.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: loadBalancerArn }));
  const found = listeners.Listeners?.find((l) => l.Port === input.Port)?.ListenerArn;
  if (found) return found;
  return must((await aws.elbv2.send(new CreateListenerCommand(input))).Listeners?.[0]?.ListenerArn, 'listener ARN');
}

async function ensureLoadBalancer(aws: AwsClients, region: string, endpoint: string | undefined, vpcId: string, subnets: Record<string, string>, securityGroupId: string) {
  let loadBalancerArn: string | undefined;
  try {
    const found = await aws.elbv2.send(new DescribeLoadBalancersCommand({ Names: [DEMO.loadBalancer] }));
    loadBalancerArn = found.LoadBalancers?.[0]?.LoadBalancerArn;
  } catch (err) {
    if (!/NotFound/i.test((err as Error).name)) throw err;
  }
  if (!loadBalancerArn) {
    const created = await aws.elbv2.send(
      new CreateLoadBalancerCommand({
        Name: DEMO.loadBalancer,
        Subnets: Object.values(subnets),
        SecurityGroups: [securityGroupId],
        Scheme: 'internet-facing',
        Type: 'application',
      }),
    );
    loadBalancerArn = must(created.LoadBalancers?.[0]?.LoadBalancerArn, 'load balancer ARN');
  }
  const targetGroupArn = await ensureTargetGroup(aws, vpcId, DEMO.targetGroup);
  const canaryTargetGroupArn = await ensureTargetGroup(aws, vpcId, DEMO.canaryTargetGroup);

  await ensureListener(aws, loadBalancerArn, {
    LoadBalancerArn: loadBalancerArn,
    Protocol: 'HTTP',
    Port: 80,
    DefaultActions: [{ Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' } }],
  });
  const certificateArn = await ensureCertificate({ region, endpoint, domain: DEMO.domain });
  const listenerArn = await ensureListener(aws, loadBalancerArn, {
    LoadBalancerArn: loadBalancerArn,
    Protocol: 'HTTPS',
    Port: 443,
    Certificates: [{ CertificateArn: certificateArn }],
    DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404', ContentType: 'text/plain', MessageBody: 'no route' } }],
  });
  const rules = await aws.elbv2.send(new DescribeRulesCommand({ ListenerArn: listenerArn }));
  let listenerRuleArn = rules.Rules?.find((r) => !r.IsDefault)?.RuleArn;
  if (!listenerRuleArn) {
    const created = await aws.elbv2.send(
      new CreateRuleCommand({
        ListenerArn: listenerArn,
        Priority: 10,
        // The kit's roles modify only rules tagged fleetops:service (deploy/aws/).
        Tags: [{ Key: 'fleetops:service', Value: 'web' }],
        Conditions: [{ Field: 'host-header', Values: [DEMO.domain] }],
        Actions: [
          { Type: 'authenticate-oidc', Order: 1, AuthenticateOidcConfig: DEMO_OIDC },
          {
            Type: 'forward',
            Order: 2,
            ForwardConfig: {
              TargetGroups: [{ TargetGroupArn: targetGroupArn, Weight: 100 }],
              TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 3600 },
            },
          },
        ],
      }),
    );
    listenerRuleArn = must(created.Rules?.[0]?.RuleArn, 'listener rule ARN');
  }
  return { loadBalancerArn, targetGroupArn, canaryTargetGroupArn, listenerArn, listenerRuleArn };
}

async function ensureService(aws: AwsClients, targetGroupArn: string) {
  let taskDefinitionArn: string | undefined;
  try {
    const found = await aws.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: DEMO.taskFamily }));
    taskDefinitionArn = found.taskDefinition?.taskDefinitionArn;
  } catch (err) {
    if (!/ClientException|NotFound/i.test((err as Error).name)) throw err;
  }
  if (!taskDefinitionArn) {
    const created = await aws.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: DEMO.taskFamily,
        networkMode: 'bridge',
        requiresCompatibilities: ['EC2'],
        containerDefinitions: [
          {
            name: 'web',
            image: 'public.ecr.aws/nginx/nginx:1.27',
            cpu: 256,
            memory: 512,
            essential: true,
            // Host port 0: ECS picks a dynamic port, which is what the target group registers.
            portMappings: [{ containerPort: 80, hostPort: 0, protocol: 'tcp' }],
          },
        ],
      }),
    );
    taskDefinitionArn = must(created.taskDefinition?.taskDefinitionArn, 'task definition ARN');
  }

  const services = await aws.ecs.send(new DescribeServicesCommand({ cluster: DEMO.cluster, services: [DEMO.service] }));
  let serviceArn = services.services?.find((s) => s.status === 'ACTIVE')?.serviceArn;
  if (!serviceArn) {
    const created = await aws.ecs.send(
      new CreateServiceCommand({
        cluster: DEMO.cluster,
        serviceName: DEMO.service,
        taskDefinition: taskDefinitionArn,
        desiredCount: DEMO.desiredCount,
        launchType: 'EC2',
        loadBalancers: [{ targetGroupArn, containerName: 'web', containerPort: 80 }],
        healthCheckGracePeriodSeconds: DEMO.healthCheckGracePeriodSeconds,
        deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200, deploymentCircuitBreaker: { enable: true, rollback: false } },
        placementStrategy: [
          { type: 'spread', field: 'attribute:ecs.availability-zone' },
          { type: 'spread', field: 'instanceId' },
        ],
      }),
    );
    serviceArn = must(created.service?.serviceArn, 'service ARN');
  }

  // ECS (the simulator) places the tasks and registers them in the target group; wait until web is steady.
  const deadline = Date.now() + SERVICE_STEADY_TIMEOUT_MS;
  for (;;) {
    const s = (await aws.ecs.send(new DescribeServicesCommand({ cluster: DEMO.cluster, services: [DEMO.service] }))).services?.[0];
    const d = s?.deployments ?? [];
    if (d.length === 1 && d[0]?.rolloutState === 'COMPLETED' && s?.runningCount === s?.desiredCount) break;
    if (Date.now() > deadline) throw new Error(`seed: ${DEMO.service} not steady after ${SERVICE_STEADY_TIMEOUT_MS} ms (${s?.runningCount} of ${s?.desiredCount} running)`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const taskArns = (await aws.ecs.send(new ListTasksCommand({ cluster: DEMO.cluster, serviceName: DEMO.service }))).taskArns ?? [];
  return { serviceArn, taskArns: [...taskArns].sort() };
}

async function ensureAlarms(aws: AwsClients, loadBalancerArn: string, targetGroupArn: string) {
  // ALB metric dimensions are the ARN suffixes ("app/<name>/<id>", "targetgroup/<name>/<id>").
  const lbDimension = loadBalancerArn.split(':loadbalancer/')[1] ?? DEMO.loadBalancer;
  const tgDimension = targetGroupArn.split(':')[5] ?? DEMO.targetGroup;
  const alarms: PutMetricAlarmCommandInput[] = [
    {
      AlarmName: DEMO.alarms.scaleOut,
      AlarmDescription: 'demo cluster is short of CPU to place tasks: fleetops scales out (alarm route in fleetops.yaml)',
      Namespace: 'AWS/ECS',
      MetricName: 'CPUReservation',
      Dimensions: [{ Name: 'ClusterName', Value: DEMO.cluster }],
      Statistic: 'Average',
      Period: 60,
      EvaluationPeriods: 3,
      Threshold: 75,
      ComparisonOperator: 'GreaterThanThreshold',
    },
    {
      AlarmName: DEMO.alarms.scaleIn,
      AlarmDescription: 'demo cluster has idle capacity: fleetops scales in',
      Namespace: 'AWS/ECS',
      MetricName: 'CPUReservation',
      Dimensions: [{ Name: 'ClusterName', Value: DEMO.cluster }],
      Statistic: 'Average',
      Period: 300,
      EvaluationPeriods: 3,
      Threshold: 25,
      ComparisonOperator: 'LessThanThreshold',
    },
    {
      AlarmName: DEMO.alarms.incident,
      AlarmDescription: 'web answers 5xx: fleetops opens an incident',
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'HTTPCode_Target_5XX_Count',
      Dimensions: [
        { Name: 'LoadBalancer', Value: lbDimension },
        { Name: 'TargetGroup', Value: tgDimension },
      ],
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 2,
      Threshold: 10,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    },
    {
      AlarmName: DEMO.latencyAlarm,
      AlarmDescription: 'web answers slowly: fleetops opens a sev3 incident for cluster demo',
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'TargetResponseTime',
      Dimensions: [
        { Name: 'LoadBalancer', Value: lbDimension },
        { Name: 'TargetGroup', Value: tgDimension },
      ],
      ExtendedStatistic: 'p99',
      Period: 60,
      EvaluationPeriods: 3,
      Threshold: 2,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    },
  ];
  // PutMetricAlarm creates or replaces: idempotent by name.
  for (const alarm of alarms) await aws.cloudwatch.send(new PutMetricAlarmCommand(alarm));
  return { ...DEMO.alarms };
}

/** What the rendered config needs from the seed (config/demo.fleetops.yaml names everything else). */
export type ConfigInputs = Pick<SeededDemo, 'region' | 'subnets' | 'spotFleetRequestId'> & {
  /** web's weighted listener rule, for its canary plan. */
  listenerRule: { ruleArn: string; stableTargetGroupArn: string; canaryTargetGroupArn: string };
};

/**
 * Seeds (or finds) the whole demo environment. `onConfigInputs` is called as soon as the config can
 * be rendered (network and Spot Fleet request exist), so the processes that load it can start while
 * the rest is seeded.
 */
export async function seedDemo(
  aws: AwsClients,
  opts: { region: string; endpoint?: string; log?: Logger; onConfigInputs?: (inputs: ConfigInputs) => void },
): Promise<SeededDemo> {
  const { region, endpoint, log } = opts;
  if (endpoint) await keepTasksRunning(endpoint);
  const network = await ensureNetwork(aws, region);
  const launchTemplateId = await ensureLaunchTemplate(aws, network.securityGroupId);
  const spotFleet = await ensureSpotFleet(aws, launchTemplateId, network.subnets);
  const lb = await ensureLoadBalancer(aws, region, endpoint, network.vpcId, network.subnets, network.securityGroupId);
  opts.onConfigInputs?.({
    region,
    subnets: network.subnets,
    spotFleetRequestId: spotFleet.requestId,
    listenerRule: { ruleArn: lb.listenerRuleArn, stableTargetGroupArn: lb.targetGroupArn, canaryTargetGroupArn: lb.canaryTargetGroupArn },
  });
  const ec2Fleet = await ensureEc2Fleet(aws, launchTemplateId, network.subnets);
  const asgInstances = await ensureAutoScalingGroup(aws, launchTemplateId, network.subnets);
  const instancesByPool = { ec2Fleet: ec2Fleet.instances, spotFleet: spotFleet.instances, asg: asgInstances };
  const instances = [...ec2Fleet.instances, ...spotFleet.instances, ...asgInstances];
  await tagPoolInstances(aws, ec2Fleet.instances, DEMO.pools.ec2Fleet);
  await tagPoolInstances(aws, spotFleet.instances, DEMO.pools.spotFleet);
  await tagPoolInstances(aws, asgInstances, DEMO.pools.asg);
  log?.info({ instancesByPool }, 'demo capacity pools launched');

  const cluster = await ensureCluster(aws, region, instances);
  const service = await ensureService(aws, lb.targetGroupArn);
  const alarms = await ensureAlarms(aws, lb.loadBalancerArn, lb.targetGroupArn);
  await ensurePostmortemBucket(aws, region);
  // Only now: the seed has registered its own instances, so nothing it launched is registered twice.
  if (endpoint) await simulateNewCapacity(endpoint);

  return {
    region,
    ...network,
    launchTemplateId,
    ec2FleetId: ec2Fleet.fleetId,
    spotFleetRequestId: spotFleet.requestId,
    autoScalingGroupName: DEMO.autoScalingGroup,
    clusterArn: cluster.clusterArn,
    instancesByPool,
    instances,
    containerInstanceArns: instances.map((id) => must(cluster.containerInstances.get(id), `container instance of ${id}`)),
    ...lb,
    ...service,
    alarms,
  };
}

/**
 * The bucket closed postmortems go to, versioned so an overwritten document can be recovered. us-east-1
 * takes no location constraint; every other region needs one (S3's CreateBucket rules).
 */
async function ensurePostmortemBucket(aws: AwsClients, region: string): Promise<void> {
  const Bucket = DEMO.postmortemBucket;
  const exists = await aws.s3.send(new HeadBucketCommand({ Bucket })).then(
    () => true,
    () => false,
  );
  if (!exists) {
    await aws.s3.send(
      new CreateBucketCommand({ Bucket, ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }) }),
    );
  }
  await aws.s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
}

/**
 * What the pools launch from now on boots and joins cluster `demo` (simulator/behaviours/capacity.ts):
 * moto launches instances but has no ECS agent to register them.
 */
export async function simulateNewCapacity(endpoint: string): Promise<void> {
  await createSimControl(endpoint).request('POST', 'capacity/config', { cluster: DEMO.cluster, ...DEMO.capacitySimulation });
}

/**
 * moto's ECS tasks have a managed lifecycle whose default progression is "immediate": the first
 * DescribeTasks already reports a task at the end of its lifecycle (stopped). A real task stays
 * RUNNING until something stops it, so the stack sets the progression to manual with a count that
 * is never reached; StopTask still stops a task at once.
 */
export async function keepTasksRunning(endpoint: string): Promise<void> {
  const res = await fetch(`${endpoint.replace(/\/$/, '')}/moto-api/state-manager/set-transition`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model_name: 'ecs::task', transition: { progression: 'manual', times: 1_000_000_000 } }),
    signal: AbortSignal.timeout(5_000),
  });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`seed: could not set the emulator's ECS task lifecycle (HTTP ${res.status})`);
}
