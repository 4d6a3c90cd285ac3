import { CreateSubnetCommand, CreateVpcCommand } from '@aws-sdk/client-ec2';
import {
  CreateServiceCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  UpdateServiceCommand,
  type CreateServiceCommandInput,
} from '@aws-sdk/client-ecs';
import { CreateListenerCommand, CreateLoadBalancerCommand, CreateTargetGroupCommand, DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { createEcsDeploymentsBehaviour } from '../../simulator/behaviours/ecs-deployments';
import { addContainerInstances, type ContainerInstance } from '../harness/container-instances';
import { startEmulator } from '../../testkit/emulator';
import { useEmulator } from '../harness/emulator';

/**
 * The ecs-deployments behaviour on its own, on a clock the test moves: placement on container
 * instances with room, the rolling update, targets and their health checks, the grace period, the
 * circuit breaker only where enabled, the events ECS publishes, and what others do to the service's
 * tasks. Its use by the deploy activities is tested in test/deploy/activities.test.ts.
 */

jest.setTimeout(90_000);

let clock = Date.parse('2026-01-01T00:00:00Z');
// Reset in the describe block's beforeEach, with the behaviour's config and fresh container instances.
const emu = useEmulator(() => startEmulator({ behaviours: [() => createEcsDeploymentsBehaviour(() => clock)], autoTick: false }), { resetEach: false });

const CLUSTER = 'sim';
/** Health checks every 10 s; 2 failures make a target unhealthy. */
const INTERVAL_MS = 10_000;

interface Tracked {
  serviceName: string;
  placementFailure?: string;
  deployments: { id: string; status: string; taskDefinition: string; rolloutState: string; rolloutStateReason: string; runningCount: number; pendingCount: number; failedTasks: number }[];
  tasks: { taskArn: string; taskDefinitionArn: string; lastStatus: string; stopCode?: string; stoppedReason?: string; containerInstanceArn: string; targets: { id: string; port: number }[] }[];
}

async function tracked(name = 'api'): Promise<Tracked> {
  const all = (await emu.sim.request<{ services: Tracked[] }>('GET', 'ecs-deployments/services')).services;
  return all.find((s) => s.serviceName === name)!;
}

/** Moves the clock, then lets the behaviour catch up (a tick is one scheduler step). */
async function at(ms: number, steps = 1): Promise<void> {
  clock += ms;
  for (let i = 0; i < steps; i++) await emu.sim.tick('ecs-deployments');
}

async function events(name: string): Promise<string[]> {
  const all = (await emu.sim.request<{ events: { 'detail-type': string; resources: string[]; detail: { eventName: string } }[] }>('GET', 'events')).events;
  return all.filter((e) => e.resources.some((r) => r.endsWith(`/${name}`))).map((e) => e.detail.eventName);
}

async function targetGroup(): Promise<string> {
  const vpc = (await emu.aws.ec2.send(new CreateVpcCommand({ CidrBlock: '10.40.0.0/16' }))).Vpc!.VpcId!;
  const subnets = await Promise.all(
    ['a', 'b'].map(async (az, i) => (await emu.aws.ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: `10.40.${i}.0/24`, AvailabilityZone: `us-east-1${az}` }))).Subnet!.SubnetId!),
  );
  const name = `api-${clock % 100000}`;
  const tg = await emu.aws.elbv2.send(
    new CreateTargetGroupCommand({ Name: name, Protocol: 'HTTP', Port: 80, VpcId: vpc, HealthCheckIntervalSeconds: INTERVAL_MS / 1000, UnhealthyThresholdCount: 2 }),
  );
  const arn = tg.TargetGroups![0]!.TargetGroupArn!;
  // Behind a listener: ECS takes only a group a load balancer uses, and ELB health-checks only such a group.
  const lb = (await emu.aws.elbv2.send(new CreateLoadBalancerCommand({ Name: `${name}-alb`, Subnets: subnets }))).LoadBalancers![0]!.LoadBalancerArn!;
  await emu.aws.elbv2.send(new CreateListenerCommand({ LoadBalancerArn: lb, Protocol: 'HTTP', Port: 80, DefaultActions: [{ Type: 'forward', TargetGroupArn: arn }] }));
  return arn;
}

async function taskDefinition(image: string, memory = 512): Promise<string> {
  const td = await emu.aws.ecs.send(
    new RegisterTaskDefinitionCommand({ family: 'api', networkMode: 'bridge', containerDefinitions: [{ name: 'api', image, cpu: 256, memory, portMappings: [{ containerPort: 80, hostPort: 0 }] }] }),
  );
  return td.taskDefinition!.taskDefinitionArn!;
}

async function service(o: Partial<CreateServiceCommandInput> & { taskDefinition: string; tg?: string }): Promise<void> {
  const { tg, ...rest } = o;
  await emu.aws.ecs.send(
    new CreateServiceCommand({
      cluster: CLUSTER,
      serviceName: 'api',
      desiredCount: 3,
      launchType: 'EC2',
      ...(tg ? { loadBalancers: [{ targetGroupArn: tg, containerName: 'api', containerPort: 80 }] } : {}),
      ...rest,
    }),
  );
}

const describe1 = async () => (await emu.aws.ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: ['api'] }))).services![0]!;
const health = async (tg: string) =>
  ((await emu.aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }))).TargetHealthDescriptions ?? [])
    .map((d) => `${d.Target?.Id}:${d.Target?.Port}=${d.TargetHealth?.State}`)
    .sort();

describe('ecs-deployments behaviour', () => {
  let instances: ContainerInstance[];

  beforeEach(async () => {
    await emu.reset();
    await emu.sim.request('PUT', 'ecs-deployments/config', { rolloutMs: 1_000 });
    instances = await addContainerInstances(emu.aws, CLUSTER, { count: 3 });
  });

  it('places tasks on container instances with room, spread over AZs; registers them; completes once their targets are healthy', async () => {
    const tg = await targetGroup();
    const td = await taskDefinition('api:1');
    await service({ taskDefinition: td, tg, placementStrategy: [{ type: 'spread', field: 'attribute:ecs.availability-zone' }] });
    await at(0);
    const placed = await describe1();
    expect([placed.runningCount, placed.pendingCount, placed.deployments?.[0]?.rolloutState]).toEqual([0, 3, 'IN_PROGRESS']);
    const tasks = (await tracked()).tasks;
    expect(new Set(tasks.map((t) => t.containerInstanceArn))).toEqual(new Set(instances.map((i) => i.containerInstanceArn)));
    // They are moto tasks on those instances: a drain listing an instance's tasks sees them.
    const onFirst = await emu.aws.ecs.send(new ListTasksCommand({ cluster: CLUSTER, containerInstance: instances[0]!.containerInstanceArn }));
    expect(onFirst.taskArns).toHaveLength(1);

    await at(1_000);
    expect(await health(tg)).toEqual(instances.map((i) => `${i.instanceId}:32768=initial`).sort());
    const running = await describe1();
    expect([running.runningCount, running.deployments?.[0]?.rolloutState]).toEqual([3, 'IN_PROGRESS']);
    const described = (await emu.aws.ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [tasks[0]!.taskArn] }))).tasks![0]!;
    expect(described).toMatchObject({ lastStatus: 'RUNNING', group: 'service:api', containerInstanceArn: tasks[0]!.containerInstanceArn });
    expect(described.containers?.[0]?.networkBindings).toEqual([{ bindIP: '0.0.0.0', containerPort: 80, hostPort: 32768, protocol: 'tcp' }]);

    await at(INTERVAL_MS);
    expect(await health(tg)).toEqual(instances.map((i) => `${i.instanceId}:32768=healthy`).sort());
    expect((await describe1()).deployments?.map((d) => [d.status, d.rolloutState])).toEqual([['PRIMARY', 'COMPLETED']]);
    expect(await events('api')).toEqual(['SERVICE_DEPLOYMENT_IN_PROGRESS', 'SERVICE_DEPLOYMENT_COMPLETED']);
  });

  it('places only what fits: the rest waits, reported as a placement failure, until an instance with room joins', async () => {
    const td = await taskDefinition('api:1', 6_000);
    await service({ taskDefinition: td, desiredCount: 4 });
    await at(0);
    const t = await tracked();
    expect(t.tasks).toHaveLength(3);
    expect(t.placementFailure).toBe('RESOURCE:MEMORY');
    expect(await events('api')).toEqual(['SERVICE_DEPLOYMENT_IN_PROGRESS', 'SERVICE_TASK_PLACEMENT_FAILURE']);
    await at(1_000);
    expect(await describe1()).toMatchObject({ runningCount: 3, pendingCount: 0, desiredCount: 4 });
    await addContainerInstances(emu.aws, CLUSTER, { count: 1 });
    await at(0);
    expect((await tracked()).placementFailure).toBeUndefined();
    await at(1_000);
    expect(await describe1()).toMatchObject({ runningCount: 4, deployments: [expect.objectContaining({ rolloutState: 'COMPLETED' })] });
  });

  it('fails a deployment by the circuit breaker only where the service enables it', async () => {
    await emu.sim.request('POST', 'ecs-deployments/failing-revisions', { match: 'api:broken', stopCode: 'TaskFailedToStart', reason: 'CannotPullContainerError' });
    const td = await taskDefinition('api:broken');
    await service({ taskDefinition: td, desiredCount: 1, deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: false } } });
    await at(0);
    for (let i = 0; i < 3; i++) await at(1_000);
    const failed = (await describe1()).deployments![0]!;
    expect([failed.rolloutState, failed.failedTasks, failed.rolloutStateReason]).toEqual(['FAILED', 3, 'ECS deployment circuit breaker: tasks failed to start.']);
    await at(1_000, 3);
    expect((await tracked()).tasks.filter((k) => k.lastStatus !== 'STOPPED')).toEqual([]);
    expect(await events('api')).toEqual(['SERVICE_DEPLOYMENT_IN_PROGRESS', 'SERVICE_DEPLOYMENT_FAILED']);

    // The same revision in a service without the breaker: ECS goes on replacing the failing tasks.
    await emu.aws.ecs.send(new CreateServiceCommand({ cluster: CLUSTER, serviceName: 'plain', taskDefinition: td, desiredCount: 1, launchType: 'EC2' }));
    await at(0);
    for (let i = 0; i < 6; i++) await at(1_000);
    const plain = (await emu.aws.ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: ['plain'] }))).services![0]!;
    expect(plain.deployments?.[0]?.rolloutState).toBe('IN_PROGRESS');
    expect(plain.deployments?.[0]?.failedTasks).toBeGreaterThanOrEqual(5);
    expect(await events('plain')).toEqual(['SERVICE_DEPLOYMENT_IN_PROGRESS', 'SERVICE_TASK_START_IMPAIRED']);
    const stopped = await emu.aws.ecs.send(new ListTasksCommand({ cluster: CLUSTER, serviceName: 'plain', desiredStatus: 'STOPPED' }));
    const why = (await emu.aws.ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: stopped.taskArns!.slice(0, 1) }))).tasks![0]!;
    expect([why.stopCode, why.stoppedReason]).toEqual(['TaskFailedToStart', 'CannotPullContainerError']);
  });

  it('keeps a task whose target fails health checks for the grace period, then stops and replaces it', async () => {
    await emu.sim.request('POST', 'ecs-deployments/failing-revisions', { match: 'api:sick', mode: 'unhealthy' });
    const tg = await targetGroup();
    const td = await taskDefinition('api:sick');
    await service({ taskDefinition: td, tg, desiredCount: 1, healthCheckGracePeriodSeconds: 60, deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: false } } });
    await at(0);
    await at(1_000);
    const first = (await tracked()).tasks[0]!;
    expect(await health(tg)).toEqual([`${first.targets[0]!.id}:32768=initial`]);
    await at(2 * INTERVAL_MS);
    expect(await health(tg)).toEqual([`${first.targets[0]!.id}:32768=unhealthy`]);
    expect((await tracked()).tasks[0]!.lastStatus).toBe('RUNNING');
    await at(60_000);
    const stopped = (await tracked()).tasks.find((k) => k.taskArn === first.taskArn)!;
    expect([stopped.lastStatus, stopped.stopCode, stopped.stoppedReason]).toEqual(['STOPPED', 'ServiceSchedulerInitiated', `Task failed ELB health checks in (target-group ${tg})`]);
    expect(await health(tg)).toEqual([]);
    const d = (await describe1()).deployments![0]!;
    expect([d.rolloutState, d.failedTasks]).toEqual(['IN_PROGRESS', 1]);
  });

  it('rolls a new revision out within the percentages: old tasks stop only once new ones are healthy; one instance, distinct host ports', async () => {
    const tg = await targetGroup();
    await service({
      taskDefinition: await taskDefinition('api:1'),
      tg,
      desiredCount: 2,
      placementStrategy: [{ type: 'binpack', field: 'memory' }],
      deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200 },
    });
    await at(0);
    await at(1_000);
    await at(INTERVAL_MS);
    const v1 = await tracked();
    expect(new Set(v1.tasks.map((t) => t.containerInstanceArn)).size).toBe(1);
    const host = v1.tasks[0]!.targets[0]!.id;
    expect(await health(tg)).toEqual([`${host}:32768=healthy`, `${host}:32769=healthy`]);
    expect(instances.map((i) => i.instanceId)).toContain(host);

    const td2 = await taskDefinition('api:2');
    await emu.aws.ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'api', taskDefinition: td2 }));
    await at(0);
    await at(1_000);
    const during = await describe1();
    expect(during.deployments?.map((d) => [d.status, d.rolloutState, d.runningCount])).toEqual([
      ['PRIMARY', 'IN_PROGRESS', 2],
      ['ACTIVE', 'COMPLETED', 2],
    ]);
    expect(await health(tg)).toEqual([`${host}:32768=healthy`, `${host}:32769=healthy`, `${host}:32770=initial`, `${host}:32771=initial`]);
    await at(INTERVAL_MS, 2);
    const after = await describe1();
    expect(after.deployments?.map((d) => [d.status, d.taskDefinition, d.rolloutState, d.runningCount])).toEqual([['PRIMARY', td2, 'COMPLETED', 2]]);
    expect(await health(tg)).toEqual([`${host}:32770=healthy`, `${host}:32771=healthy`]);
  });

  it('returns the deployment settings moto drops, and notices tasks others stop or start for the service', async () => {
    const tg = await targetGroup();
    await service({
      taskDefinition: await taskDefinition('api:1'),
      tg,
      desiredCount: 2,
      healthCheckGracePeriodSeconds: 30,
      placementStrategy: [{ type: 'spread', field: 'instanceId' }],
      placementConstraints: [{ type: 'distinctInstance' }],
      deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: false }, minimumHealthyPercent: 50, maximumPercent: 150 },
    });
    expect(await describe1()).toMatchObject({
      healthCheckGracePeriodSeconds: 30,
      placementStrategy: [{ type: 'spread', field: 'instanceId' }],
      placementConstraints: [{ type: 'distinctInstance' }],
      deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: false }, minimumHealthyPercent: 50, maximumPercent: 150 },
    });
    await at(0);
    await at(1_000);
    await at(INTERVAL_MS);
    const [a, b] = (await tracked()).tasks;
    expect(a!.containerInstanceArn).not.toBe(b!.containerInstanceArn);

    // Someone stops one (a drain's scheduler moving it, say): ECS replaces it.
    await emu.aws.ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: a!.taskArn, reason: 'moved off a draining instance' }));
    await at(0);
    const replaced = await tracked();
    expect(replaced.tasks.find((k) => k.taskArn === a!.taskArn)).toMatchObject({ lastStatus: 'STOPPED', stoppedReason: 'moved off a draining instance' });
    expect(replaced.tasks.filter((k) => k.lastStatus !== 'STOPPED')).toHaveLength(2);

    // A task started elsewhere with the deployment's id (the drain scheduler's RunTask replacement) is the service's, in its target group.
    const deploymentId = replaced.deployments[0]!.id;
    await emu.aws.ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: (await describe1()).taskDefinition, count: 1, group: 'service:api', startedBy: deploymentId }));
    await at(0);
    const adopted = await tracked();
    const extra = adopted.tasks.filter((k) => k.lastStatus !== 'STOPPED');
    expect(extra).toHaveLength(2);
    expect(extra.every((k) => k.targets.length === 1)).toBe(true);
  });

  it('takes one cluster\'s rollout time where the config names it: that cluster\'s tasks wait, the others\' do not', async () => {
    await addContainerInstances(emu.aws, 'slow', { count: 1 });
    await emu.sim.request('PUT', 'ecs-deployments/config', { cluster: 'slow', rolloutMs: 60_000 });
    const td = await taskDefinition('api:1');
    await service({ taskDefinition: td, desiredCount: 1 });
    await service({ taskDefinition: td, desiredCount: 1, cluster: 'slow' });
    const counts = async (cluster: string) => {
      const s = (await emu.aws.ecs.send(new DescribeServicesCommand({ cluster, services: ['api'] }))).services![0]!;
      return [s.runningCount, s.pendingCount];
    };
    await at(0);
    await at(1_000);
    expect(await counts(CLUSTER)).toEqual([1, 0]);
    expect(await counts('slow')).toEqual([0, 1]);
    await at(59_000);
    expect(await counts('slow')).toEqual([1, 0]);
  });

  it('rejects malformed control bodies with the field, and reset forgets services, rules and rollout times', async () => {
    await expect(emu.sim.request('POST', 'ecs-deployments/failing-revisions', { match: '' })).rejects.toThrow(/HTTP 400.*match/s);
    await expect(emu.sim.request('POST', 'ecs-deployments/failing-revisions', { match: 'x', mode: 'sometimes' })).rejects.toThrow(/HTTP 400.*mode/s);
    await expect(emu.sim.request('PUT', 'ecs-deployments/config', { rolloutMs: -1 })).rejects.toThrow(/HTTP 400.*rolloutMs/s);
    await expect(emu.sim.request('PUT', 'ecs-deployments/config', { cluster: CLUSTER })).rejects.toThrow(/HTTP 400.*rolloutMs/s);
    await emu.sim.request('POST', 'ecs-deployments/failing-revisions', { match: 'api:1' });
    await emu.sim.request('PUT', 'ecs-deployments/config', { cluster: CLUSTER, rolloutMs: 60_000 });
    await service({ taskDefinition: await taskDefinition('api:1'), desiredCount: 1 });
    expect(await tracked()).toBeDefined();
    await emu.reset();
    expect((await emu.sim.request<{ services: unknown[] }>('GET', 'ecs-deployments/services')).services).toEqual([]);
    await addContainerInstances(emu.aws, CLUSTER, { count: 1 });
    await service({ taskDefinition: await taskDefinition('api:1'), desiredCount: 1 });
    await at(0);
    await at(1_000, 2);
    // The failing rule and the cluster's rollout time were forgotten with the reset: the same image now runs, in a second.
    expect((await tracked()).deployments[0]?.rolloutState).toBe('COMPLETED');
  });
});
