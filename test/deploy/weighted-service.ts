import { PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { CreateSubnetCommand, CreateVpcCommand } from '@aws-sdk/client-ec2';
import { CreateServiceCommand, DescribeServicesCommand, RegisterTaskDefinitionCommand, type Deployment, type ECSClient, type NetworkMode, type Tag } from '@aws-sdk/client-ecs';
import { CreateListenerCommand, CreateLoadBalancerCommand, CreateRuleCommand, CreateTargetGroupCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsClients } from '../../activities/aws/clients';
import { ensureCertificate } from '../../stack/certificate';
import { addContainerInstances } from '../harness/container-instances';
import { until } from '../../testkit/poll';

/**
 * An ECS service `web` behind an ALB rule that forwards 100 % to its stable target group and 0 % to a
 * second (empty) target group for the canary (ECS creates a service only in a group a load balancer
 * uses: the weight-0 entry is what makes the canary group one), and a 5xx alarm: what the canary deploy needs in the weighted
 * listener-rule mode. The rule is what a production one looks like: on an HTTPS listener, users are
 * authenticated (authenticate-oidc, Order 1) before the forward (Order 2), which keeps sessions on one
 * target group (stickiness). Its tasks run on three container instances (one per AZ), are checked
 * every 5 s by their target group (the shortest interval ELB allows), and the service is returned
 * once ECS (the simulator) has it steady. Shared by the deploy activity tests and the Slack deploy tests.
 */

/** The stable service's deployment settings, which a canary of it must carry too. */
export const STABLE_SETTINGS = {
  placementStrategy: [
    { type: 'spread', field: 'attribute:ecs.availability-zone' },
    { type: 'binpack', field: 'memory' },
  ],
  // A little longer than the target group takes to call a failing target unhealthy (2 checks 5 s
  // apart): the activity tests see the unhealthy target, then ECS stopping its task 5 s later.
  healthCheckGracePeriodSeconds: 15,
  deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200 },
} as const;
export const HEALTH_CHECK_INTERVAL_SECONDS = 5;

/** The rule's authentication action as created (the client secret is never read back). */
export const OIDC_ACTION = {
  Type: 'authenticate-oidc',
  Order: 1,
  AuthenticateOidcConfig: {
    Issuer: 'https://idp.example',
    AuthorizationEndpoint: 'https://idp.example/authorize',
    TokenEndpoint: 'https://idp.example/token',
    UserInfoEndpoint: 'https://idp.example/userinfo',
    ClientId: 'web',
    ClientSecret: 'oidc-client-secret',
    OnUnauthenticatedRequest: 'authenticate',
  },
} as const;
export const STICKINESS = { Enabled: true, DurationSeconds: 3600 } as const;
export interface WeightedServiceOptions {
  cluster: string;
  /** Second octet of the VPC's 10.x.0.0/16, so suites on one emulator do not overlap. */
  cidrOctet: number;
  containerName: string;
  /** The task definition family (default `web`); tests side by side on one emulator each take their own. */
  family?: string;
  desiredCount: number;
  stableTargetGroupName: string;
  canaryTargetGroupName: string;
  alarmName: string;
  networkMode?: NetworkMode;
  launchType?: 'EC2';
  tags?: Tag[];
  /**
   * Wait for ECS to have the service steady before returning (default true). `false` returns once the
   * service is created, for tests that read only the rule, the task definitions and the config: steady
   * takes one health-check interval (5 s).
   */
  steady?: boolean;
  /**
   * Name the canary group in the rule at weight 0 (default true). `false`: the rule forwards only to
   * the stable group, and no load balancer uses the canary group.
   */
  canaryInRule?: boolean;
}

export interface WeightedService {
  stableTd: string;
  rule: { ruleArn: string; stableTargetGroupArn: string; canaryTargetGroupArn: string };
}

export async function seedWeightedService(aws: AwsClients, o: WeightedServiceOptions): Promise<WeightedService> {
  const { ecs, ec2, elbv2, cloudwatch } = aws;
  await addContainerInstances(aws, o.cluster, { count: 3 });
  const td = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: o.family ?? 'web',
      ...(o.networkMode ? { networkMode: o.networkMode } : {}),
      containerDefinitions: [{ name: o.containerName, image: 'registry.example/web:1', cpu: 128, memory: 256, portMappings: [{ containerPort: 8080 }] }],
    }),
  );
  const stableTd = td.taskDefinition!.taskDefinitionArn!;
  const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: `10.${o.cidrOctet}.0.0/16` }))).Vpc!.VpcId!;
  const subnets = await Promise.all(
    ['a', 'b'].map(
      async (az, i) =>
        (await ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: `10.${o.cidrOctet}.${i}.0/24`, AvailabilityZone: `us-east-1${az}` }))).Subnet!.SubnetId!,
    ),
  );
  const lb = (await elbv2.send(new CreateLoadBalancerCommand({ Name: o.cluster, Subnets: subnets }))).LoadBalancers![0]!.LoadBalancerArn!;
  const tg = async (Name: string) =>
    (
      await elbv2.send(
        new CreateTargetGroupCommand({
          Name,
          Protocol: 'HTTP',
          Port: 8080,
          VpcId: vpc,
          TargetType: 'instance',
          HealthCheckIntervalSeconds: HEALTH_CHECK_INTERVAL_SECONDS,
          HealthyThresholdCount: 2,
          UnhealthyThresholdCount: 2,
        }),
      )
    ).TargetGroups![0]!.TargetGroupArn!;
  const stableTargetGroupArn = await tg(o.stableTargetGroupName);
  const canaryTargetGroupArn = await tg(o.canaryTargetGroupName);
  const region = await elbv2.config.region();
  const endpoint = await endpointOf(elbv2);
  const certificate = await oneCertificateAtATime(() => ensureCertificate({ region, endpoint, domain: `${o.cluster}.example` }));
  const listener = (
    await elbv2.send(
      new CreateListenerCommand({
        LoadBalancerArn: lb,
        Protocol: 'HTTPS',
        Port: 443,
        Certificates: [{ CertificateArn: certificate }],
        DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }],
      }),
    )
  ).Listeners![0]!.ListenerArn!;
  const ruleArn = (
    await elbv2.send(
      new CreateRuleCommand({
        ListenerArn: listener,
        Priority: 10,
        // As operators tag a service's rule for the kit's roles (deploy/aws/: ModifyRule on fleetops:service).
        Tags: [{ Key: 'fleetops:service', Value: 'web' }],
        Conditions: [{ Field: 'path-pattern', Values: ['/*'] }],
        Actions: [
          OIDC_ACTION,
          {
            Type: 'forward',
            Order: 2,
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: stableTargetGroupArn, Weight: 100 },
                ...(o.canaryInRule === false ? [] : [{ TargetGroupArn: canaryTargetGroupArn, Weight: 0 }]),
              ],
              TargetGroupStickinessConfig: STICKINESS,
            },
          },
        ],
      }),
    )
  ).Rules![0]!.RuleArn!;
  // Once its target group is behind the listener (ECS refuses a target group with no load balancer):
  // ECS (the simulator) rolls it out and ELB health-checks its targets while the alarm is created.
  await ecs.send(
    new CreateServiceCommand({
      cluster: o.cluster,
      serviceName: 'web',
      taskDefinition: stableTd,
      desiredCount: o.desiredCount,
      ...(o.launchType ? { launchType: o.launchType } : {}),
      loadBalancers: [{ targetGroupArn: stableTargetGroupArn, containerName: o.containerName, containerPort: 8080 }],
      ...STABLE_SETTINGS,
      placementStrategy: [...STABLE_SETTINGS.placementStrategy],
      ...(o.tags ? { tags: o.tags } : {}),
    }),
  );
  await cloudwatch.send(
    new PutMetricAlarmCommand({
      AlarmName: o.alarmName,
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'HTTPCode_Target_5XX_Count',
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 10,
      ComparisonOperator: 'GreaterThanThreshold',
    }),
  );
  if (o.steady !== false) await untilSteady(ecs, o.cluster, 'web');
  return { stableTd, rule: { ruleArn, stableTargetGroupArn, canaryTargetGroupArn } };
}

/**
 * Services seeded side by side (concurrent tests) ask for their certificates one at a time: moto
 * lists ACM certificates by walking the very dict a concurrent RequestCertificate adds to, and then
 * answers 500 ("dictionary changed size during iteration").
 */
let certificates: Promise<unknown> = Promise.resolve();
function oneCertificateAtATime<T>(request: () => Promise<T>): Promise<T> {
  const next = certificates.then(request);
  certificates = next.catch(() => undefined);
  return next;
}

async function endpointOf(client: AwsClients['elbv2']): Promise<string | undefined> {
  const e = await client.config.endpoint?.();
  return e ? `${e.protocol}//${e.hostname}${e.port ? `:${e.port}` : ''}${e.path}`.replace(/\/$/, '') : undefined;
}

/** Polls until ECS reports the service steady: one COMPLETED deployment, running = desired. */
export async function untilSteady(ecs: ECSClient, cluster: string, service: string, timeoutMs = 60_000): Promise<void> {
  let d: Deployment[] = [];
  await until(
    `${cluster}/${service} to be steady`,
    async () => {
      const s = (await ecs.send(new DescribeServicesCommand({ cluster, services: [service] }))).services?.[0];
      d = s?.deployments ?? [];
      return d.length === 1 && d[0]?.rolloutState === 'COMPLETED' && s?.runningCount === s?.desiredCount;
    },
    { timeoutMs, intervalMs: 250, describe: () => JSON.stringify(d.map((x) => [x.status, x.rolloutState, x.runningCount])) },
  );
}
