import { CreateSubnetCommand, CreateVpcCommand } from '@aws-sdk/client-ec2';
import { CreateClusterCommand, CreateServiceCommand, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ModifyRuleCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { startEmulator } from '../../testkit/emulator';
import { useEmulator } from '../harness/emulator';

/**
 * The elb-target-health behaviour: a target group no listener forwards to reports its targets
 * `unused` (Target.NotInUse) and lists no load balancer; one with health checks off reports them
 * `unavailable` (Target.HealthCheckDisabled); ECS CreateService refuses a group with no load balancer.
 * A group added to a rule later (ModifyRule, at weight 0) is in use from then on.
 */


const emu = useEmulator(() => startEmulator({ autoTick: false }));

const FUNCTION = 'arn:aws:lambda:us-east-1:123456789012:function:web';

async function world() {
  const { ec2, elbv2 } = emu.aws;
  const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.31.0.0/16' }))).Vpc!.VpcId!;
  const subnets = await Promise.all(
    ['a', 'b'].map(async (az, i) => (await ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: `10.31.${i}.0/24`, AvailabilityZone: `us-east-1${az}` }))).Subnet!.SubnetId!),
  );
  const lb = (await elbv2.send(new CreateLoadBalancerCommand({ Name: 'health', Subnets: subnets }))).LoadBalancers![0]!.LoadBalancerArn!;
  const tg = async (Name: string) =>
    (await elbv2.send(new CreateTargetGroupCommand({ Name, Protocol: 'HTTP', Port: 80, VpcId: vpc, TargetType: 'ip' }))).TargetGroups![0]!.TargetGroupArn!;
  const stable = await tg('stable');
  const canary = await tg('canary');
  // Health checks can be off only for Lambda targets, where they are off unless enabled (target-group-health-checks.html).
  const unchecked = (await elbv2.send(new CreateTargetGroupCommand({ Name: 'unchecked', TargetType: 'lambda' }))).TargetGroups![0]!.TargetGroupArn!;
  const listener = (
    await elbv2.send(new CreateListenerCommand({ LoadBalancerArn: lb, Protocol: 'HTTP', Port: 80, DefaultActions: [{ Type: 'forward', TargetGroupArn: unchecked }] }))
  ).Listeners![0]!.ListenerArn!;
  const ruleArn = (
    await elbv2.send(
      new CreateRuleCommand({
        ListenerArn: listener,
        Priority: 1,
        Conditions: [{ Field: 'path-pattern', Values: ['/*'] }],
        Actions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: stable, Weight: 100 }] } }],
      }),
    )
  ).Rules![0]!.RuleArn!;
  for (const [group, ip] of [[stable, '10.31.0.10'], [canary, '10.31.0.11']] as const) {
    await elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: group, Targets: [{ Id: ip, Port: 80 }] }));
  }
  await elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: unchecked, Targets: [{ Id: FUNCTION }] }));
  return { lb, stable, canary, unchecked, ruleArn };
}

const health = async (TargetGroupArn: string) =>
  ((await emu.aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn }))).TargetHealthDescriptions ?? []).map((d) => [d.Target?.Id, d.TargetHealth?.State, d.TargetHealth?.Reason]);

const loadBalancers = async (arn: string) => (await emu.aws.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [arn] }))).TargetGroups?.[0]?.LoadBalancerArns ?? [];

async function createService(targetGroupArn: string, serviceName: string) {
  const { ecs } = emu.aws;
  await ecs.send(new CreateClusterCommand({ clusterName: 'health' }));
  const td = await ecs.send(
    new RegisterTaskDefinitionCommand({ family: 'web', containerDefinitions: [{ name: 'web', image: 'web:1', memory: 128, portMappings: [{ containerPort: 80 }] }] }),
  );
  return ecs
    .send(
      new CreateServiceCommand({
        cluster: 'health',
        serviceName,
        taskDefinition: td.taskDefinition!.taskDefinitionArn!,
        desiredCount: 0,
        loadBalancers: [{ targetGroupArn, containerName: 'web', containerPort: 80 }],
      }),
    )
    .then(
      () => 'created',
      (e: Error) => `${e.name}: ${e.message}`,
    );
}

test('targets of a group no listener uses are unused, and of a group with health checks off unavailable', async () => {
  const w = await world();
  expect(await health(w.stable)).toEqual([['10.31.0.10', 'healthy', undefined]]);
  expect(await health(w.canary)).toEqual([['10.31.0.11', 'unused', 'Target.NotInUse']]);
  expect(await health(w.unchecked)).toEqual([[FUNCTION, 'unavailable', 'Target.HealthCheckDisabled']]);
  expect(await loadBalancers(w.canary)).toEqual([]);
  expect(await loadBalancers(w.stable)).toEqual([w.lb]);
});

test('ECS refuses a service whose target group has no load balancer, until a rule forwards to it (weight 0 is enough)', async () => {
  const w = await world();
  expect(await createService(w.canary, 'web-canary')).toBe(
    `InvalidParameterException: The target group with targetGroupArn ${w.canary} does not have an associated load balancer.`,
  );
  await emu.aws.elbv2.send(
    new ModifyRuleCommand({
      RuleArn: w.ruleArn,
      Actions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: w.stable, Weight: 100 }, { TargetGroupArn: w.canary, Weight: 0 }] } }],
    }),
  );
  expect(await loadBalancers(w.canary)).toEqual([w.lb]);
  expect(await health(w.canary)).toEqual([['10.31.0.11', 'healthy', undefined]]);
  expect(await createService(w.canary, 'web-canary')).toBe('created');
});
