import { PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { CreateSubnetCommand, CreateVpcCommand } from '@aws-sdk/client-ec2';
import { CreateClusterCommand, CreateServiceCommand, RegisterTaskDefinitionCommand, type NetworkMode, type Tag } from '@aws-sdk/client-ecs';
import { CreateListenerCommand, CreateLoadBalancerCommand, CreateRuleCommand, CreateTargetGroupCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsClients } from '../../activities/aws/clients';

/**
 * An ECS service `web` behind an ALB rule that forwards 100 % to its stable target group, a second
 * (empty) target group for the canary, and a 5xx alarm: what the canary deploy needs in the weighted
 * listener-rule mode. Shared by the deploy activity tests and the deploy end to end below the router.
 */
export interface WeightedServiceOptions {
  cluster: string;
  /** Second octet of the VPC's 10.x.0.0/16, so suites on one emulator do not overlap. */
  cidrOctet: number;
  containerName: string;
  desiredCount: number;
  stableTargetGroupName: string;
  canaryTargetGroupName: string;
  alarmName: string;
  networkMode?: NetworkMode;
  launchType?: 'EC2';
  tags?: Tag[];
}

export interface WeightedService {
  stableTd: string;
  rule: { ruleArn: string; stableTargetGroupArn: string; canaryTargetGroupArn: string };
}

export async function seedWeightedService({ ecs, ec2, elbv2, cloudwatch }: AwsClients, o: WeightedServiceOptions): Promise<WeightedService> {
  await ecs.send(new CreateClusterCommand({ clusterName: o.cluster }));
  const td = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'web',
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
    (await elbv2.send(new CreateTargetGroupCommand({ Name, Protocol: 'HTTP', Port: 8080, VpcId: vpc, TargetType: 'instance' }))).TargetGroups![0]!.TargetGroupArn!;
  const stableTargetGroupArn = await tg(o.stableTargetGroupName);
  const canaryTargetGroupArn = await tg(o.canaryTargetGroupName);
  const listener = (
    await elbv2.send(new CreateListenerCommand({ LoadBalancerArn: lb, Protocol: 'HTTP', Port: 80, DefaultActions: [{ Type: 'forward', TargetGroupArn: stableTargetGroupArn }] }))
  ).Listeners![0]!.ListenerArn!;
  const ruleArn = (
    await elbv2.send(
      new CreateRuleCommand({
        ListenerArn: listener,
        Priority: 10,
        Conditions: [{ Field: 'path-pattern', Values: ['/*'] }],
        Actions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: stableTargetGroupArn, Weight: 100 }] } }],
      }),
    )
  ).Rules![0]!.RuleArn!;
  await ecs.send(
    new CreateServiceCommand({
      cluster: o.cluster,
      serviceName: 'web',
      taskDefinition: stableTd,
      desiredCount: o.desiredCount,
      ...(o.launchType ? { launchType: o.launchType } : {}),
      loadBalancers: [{ targetGroupArn: stableTargetGroupArn, containerName: o.containerName, containerPort: 8080 }],
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
  return { stableTd, rule: { ruleArn, stableTargetGroupArn, canaryTargetGroupArn } };
}
