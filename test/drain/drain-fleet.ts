import { DescribeImagesCommand, DescribeSubnetsCommand, DescribeVpcsCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateClusterCommand, CreateServiceCommand, DescribeTasksCommand, ListTasksCommand, RegisterContainerInstanceCommand, RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { CreateListenerCommand, CreateLoadBalancerCommand, CreateTargetGroupCommand, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsClients } from '../../activities/aws/clients';

/** A small ECS fleet in the emulator for drain tests: cluster `demo`, service `web`, one target group. */

export interface Fleet {
  instances: string[];
  containerInstances: string[];
  targetGroupArn: string;
  batchTaskArn: string;
}

/** Cluster `demo` with `n` instances; two `web` service tasks and one standalone batch task run on the first. */
export async function seedDrainFleet(aws: AwsClients, n: number): Promise<Fleet> {
  const { ec2, ecs, elbv2 } = aws;
  const image = (await ec2.send(new DescribeImagesCommand({}))).Images?.[0]?.ImageId ?? 'ami-12c6146b';
  const run = await ec2.send(new RunInstancesCommand({ ImageId: image, InstanceType: 'm5.large', MinCount: n, MaxCount: n }));
  const instances = (run.Instances ?? []).map((i) => i.InstanceId!);
  await ecs.send(new CreateClusterCommand({ clusterName: 'demo' }));
  const register = (instanceId: string) =>
    ecs.send(new RegisterContainerInstanceCommand({ cluster: 'demo', instanceIdentityDocument: JSON.stringify({ instanceId }) }));
  const first = await register(instances[0]!);
  const web = await ecs.send(
    new RegisterTaskDefinitionCommand({ family: 'web', containerDefinitions: [{ name: 'web', image: 'web:1', cpu: 128, memory: 256 }] }),
  );
  const batch = await ecs.send(
    new RegisterTaskDefinitionCommand({ family: 'batch', containerDefinitions: [{ name: 'batch', image: 'batch:1', cpu: 128, memory: 256 }] }),
  );
  await ecs.send(
    new CreateServiceCommand({
      cluster: 'demo',
      serviceName: 'web',
      taskDefinition: web.taskDefinition!.taskDefinitionArn,
      desiredCount: 2,
      deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200 },
    }),
  );
  // Only the first instance is registered yet, so these land on it.
  const webRun = await ecs.send(new RunTaskCommand({ cluster: 'demo', taskDefinition: web.taskDefinition!.taskDefinitionArn, count: 2, group: 'service:web', startedBy: 'ecs-svc/1' }));
  // The simulator's scheduler (ecs-deployments) counts these as the service's, but a tick between
  // CreateService and RunTask may already have placed two of its own (seen under load: 5 tasks on the
  // instance instead of 3). Stop those, so the fleet is the same on every run.
  const ours = new Set((webRun.tasks ?? []).map((t) => t.taskArn));
  for (const t of await tasksOn(aws, first.containerInstance!.containerInstanceArn!)) {
    if (t.group === 'service:web' && !ours.has(t.arn)) await ecs.send(new StopTaskCommand({ cluster: 'demo', task: t.arn, reason: 'test fleet: placed before the fixture tasks' }));
  }
  const batchRun = await ecs.send(new RunTaskCommand({ cluster: 'demo', taskDefinition: batch.taskDefinition!.taskDefinitionArn, count: 1, group: 'family:batch' }));
  const others = [];
  for (const i of instances.slice(1)) others.push(await register(i));

  // Registered by hand, as an ASG's target groups register its instances (no service names the group);
  // behind a listener, so ELB health-checks its targets (a group no listener uses reports them unused).
  const targetGroupArn = await servedTargetGroup(aws, 'web', 'instance');
  await elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: instances.slice(0, 2).map((Id) => ({ Id, Port: 80 })) }));
  return {
    instances,
    containerInstances: [first, ...others].map((r) => r.containerInstance!.containerInstanceArn!),
    targetGroupArn,
    batchTaskArn: batchRun.tasks![0]!.taskArn!,
  };
}

export async function tasksOn(aws: AwsClients, containerInstanceArn: string): Promise<{ arn: string; group: string; taskDefinitionArn: string }[]> {
  const arns = (await aws.ecs.send(new ListTasksCommand({ cluster: 'demo', containerInstance: containerInstanceArn, desiredStatus: 'RUNNING' }))).taskArns ?? [];
  if (arns.length === 0) return [];
  const tasks = (await aws.ecs.send(new DescribeTasksCommand({ cluster: 'demo', tasks: arns }))).tasks ?? [];
  return tasks.filter((t) => t.desiredStatus === 'RUNNING').map((t) => ({ arn: t.taskArn!, group: t.group ?? '', taskDefinitionArn: t.taskDefinitionArn ?? '' }));
}

/** A target group `name` that an ALB listener forwards to (ECS takes no group without a load balancer). */
export async function servedTargetGroup(aws: AwsClients, name: string, targetType: 'instance' | 'ip'): Promise<string> {
  const { ec2, elbv2 } = aws;
  const vpc = (await ec2.send(new DescribeVpcsCommand({}))).Vpcs?.[0]?.VpcId;
  const subnets = ((await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc!] }] }))).Subnets ?? []).slice(0, 2).map((s) => s.SubnetId!);
  const tg = await elbv2.send(new CreateTargetGroupCommand({ Name: name, Protocol: 'HTTP', Port: 80, VpcId: vpc, TargetType: targetType, HealthCheckIntervalSeconds: 5 }));
  const targetGroupArn = tg.TargetGroups![0]!.TargetGroupArn!;
  const lb = await elbv2.send(new CreateLoadBalancerCommand({ Name: `${name}-alb`, Subnets: subnets, Type: 'application' }));
  await elbv2.send(
    new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancers![0]!.LoadBalancerArn!, Protocol: 'HTTP', Port: 80, DefaultActions: [{ Type: 'forward', TargetGroupArn: targetGroupArn }] }),
  );
  return targetGroupArn;
}
