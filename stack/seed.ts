/**
 * Seeds the local stack's demo environment into the AWS emulator with the real SDK clients, so the
 * demo is made by the same calls a user's account would see: a VPC over three AZs, a launch template,
 * three capacity pools (EC2 Fleet `instant` spot, a legacy Spot Fleet `maintain`, an on-demand ASG),
 * ECS cluster `demo` with one container instance per EC2 instance, service `web` behind an ALB, and the
 * three alarms the demo config routes, the incident-latency alarm its sev3 route names, and the S3 bucket
 * closed postmortems are stored in; and a second, smaller cluster `shop` (demo-seed/shop.ts) beside it.
 *
 * Each step is a file of stack/demo-seed/ (network, pools, cluster, load balancer, service, alarms,
 * postmortem bucket; the demo's names in demo.ts); this file runs them in order.
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
 *    launch later after a short boot delay, as the ECS agent on a new instance would: in the cluster
 *    its launch template's user data names (ECS_CLUSTER=demo or shop), else `demo`.
 *  - CreateFleet `instant`, RequestSpotFleet and CreateAutoScalingGroup all launch instances at once,
 *    each pool's in one AZ (the first override's subnet; an ASG's first subnet), which is how the seed
 *    spreads the three pools over three AZs. RequestSpotFleet ignores `Type`: the request keeps no
 *    `maintain` semantics (nothing replaces an interrupted instance) and DescribeSpotFleetRequests
 *    returns no Type; the seed still asks for `maintain`, as a real account would.
 */
import type { AwsClients } from '../activities/aws/clients';
import type { Logger } from '../common/logger';
import { ensureAlarms } from './demo-seed/alarms';
import { ensureCluster } from './demo-seed/cluster';
import { DEMO } from './demo-seed/demo';
import { keepTasksRunning, simulateNewCapacity } from './demo-seed/emulator-lifecycle';
import { ensureLoadBalancer } from './demo-seed/load-balancer';
import { ensureLaunchTemplate, ensureNetwork } from './demo-seed/network';
import { ensureAutoScalingGroup, ensureEc2Fleet, ensureSpotFleet, tagPoolInstances } from './demo-seed/pools';
import { ensurePostmortemBucket } from './demo-seed/postmortem-bucket';
import { must } from './demo-seed/resource-helpers';
import { ensureService } from './demo-seed/service';
import { seedShop, type SeededShop } from './demo-seed/shop';

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
  /** The second cluster, `shop` (demo-seed/shop.ts). */
  shop: SeededShop;
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
  // shop shares nothing with demo past the network: it is seeded alongside, awaited before new capacity is simulated.
  const shopReady = seedShop(aws, region, network.securityGroupId, network.subnets);
  void shopReady.catch(() => undefined);
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
  const shop = await shopReady;
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
    shop,
  };
}
