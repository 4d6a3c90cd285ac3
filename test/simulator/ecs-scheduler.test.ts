import { CreateSubnetCommand, CreateVpcCommand } from '@aws-sdk/client-ec2';
import { CreateServiceCommand, ListTasksCommand, RegisterTaskDefinitionCommand, UpdateContainerInstancesStateCommand } from '@aws-sdk/client-ecs';
import { CreateListenerCommand, CreateLoadBalancerCommand, CreateTargetGroupCommand, DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { addContainerInstances } from '../harness/container-instances';
import { startEmulator } from '../../testkit/emulator';
import { useEmulator } from '../harness/emulator';
import { until } from '../../testkit/poll';

/**
 * The ecs-scheduler behaviour against "Container instance draining" (ECS Developer Guide): a service
 * task on a DRAINING instance is replaced first, within maximumPercent, and stopped only once its
 * replacement is healthy in the service's target group, so the service never has fewer healthy
 * targets than minimumHealthyPercent of its desired count while it moves.
 */

jest.setTimeout(90_000);

// The one test resets the emulator itself.
const emu = useEmulator(() => startEmulator(), { resetEach: false });

const CLUSTER = 'sched';

async function healthy(tg: string): Promise<number> {
  const out = await emu.aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }));
  return (out.TargetHealthDescriptions ?? []).filter((d) => d.TargetHealth?.State === 'healthy').length;
}

it('moves service tasks off a DRAINING instance replacement first: healthy targets never drop below minimumHealthyPercent', async () => {
  await emu.reset();
  const [a] = await addContainerInstances(emu.aws, CLUSTER, { count: 2 });
  const vpc = (await emu.aws.ec2.send(new CreateVpcCommand({ CidrBlock: '10.41.0.0/16' }))).Vpc!.VpcId!;
  const subnets = await Promise.all(
    ['a', 'b'].map(async (az, i) => (await emu.aws.ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: `10.41.${i}.0/24`, AvailabilityZone: `us-east-1${az}` }))).Subnet!.SubnetId!),
  );
  const tg = (await emu.aws.elbv2.send(new CreateTargetGroupCommand({ Name: 'sched', Protocol: 'HTTP', Port: 80, VpcId: vpc, HealthCheckIntervalSeconds: 5 }))).TargetGroups![0]!.TargetGroupArn!;
  // Behind a listener: ECS takes only a group a load balancer uses, and ELB health-checks only such a group.
  const lb = (await emu.aws.elbv2.send(new CreateLoadBalancerCommand({ Name: 'sched-alb', Subnets: subnets }))).LoadBalancers![0]!.LoadBalancerArn!;
  await emu.aws.elbv2.send(new CreateListenerCommand({ LoadBalancerArn: lb, Protocol: 'HTTP', Port: 80, DefaultActions: [{ Type: 'forward', TargetGroupArn: tg }] }));
  const td = await emu.aws.ecs.send(
    new RegisterTaskDefinitionCommand({ family: 'api', networkMode: 'bridge', containerDefinitions: [{ name: 'api', image: 'api:1', cpu: 256, memory: 512, portMappings: [{ containerPort: 80, hostPort: 0 }] }] }),
  );
  await emu.sim.request('POST', 'ecs-scheduler/config', { replaceDelayMs: 0 });
  await emu.aws.ecs.send(
    new CreateServiceCommand({
      cluster: CLUSTER,
      serviceName: 'api',
      taskDefinition: td.taskDefinition!.taskDefinitionArn,
      desiredCount: 4,
      launchType: 'EC2',
      loadBalancers: [{ targetGroupArn: tg, containerName: 'api', containerPort: 80 }],
      deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200 },
    }),
  );
  await until('4 healthy targets', async () => ((await healthy(tg)) === 4 ? true : undefined), { timeoutMs: 30_000, intervalMs: 250 });
  const onA = async () => (await emu.aws.ecs.send(new ListTasksCommand({ cluster: CLUSTER, containerInstance: a!.containerInstanceArn, desiredStatus: 'RUNNING' }))).taskArns ?? [];
  expect((await onA()).length).toBeGreaterThan(0);

  await emu.aws.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: CLUSTER, containerInstances: [a!.containerInstanceArn], status: 'DRAINING' }));
  let min = 4;
  // The healthy targets are sampled at each check while tasks are still on the instance.
  await until(
    'no service task left on the DRAINING instance',
    async () => {
      if ((await onA()).length === 0) return true;
      min = Math.min(min, await healthy(tg));
      return undefined;
    },
    { timeoutMs: 40_000, intervalMs: 200 },
  );
  expect(await onA()).toEqual([]);
  expect(min).toBeGreaterThanOrEqual(4);
  const { moves } = await emu.sim.request<{ moves: { to: string | null; fromContainerInstance: string }[] }>('GET', 'ecs-scheduler');
  expect(moves.length).toBeGreaterThan(0);
  expect(moves.every((m) => m.to !== null && m.fromContainerInstance === a!.containerInstanceArn)).toBe(true);
});
