import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  PutLifecycleHookCommand,
  SetDesiredCapacityCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateCommand,
  CreateSecurityGroupCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSpotFleetInstancesCommand,
  DescribeSubnetsCommand,
  RequestSpotFleetCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { CreateServiceCommand, DeregisterContainerInstanceCommand, DescribeContainerInstancesCommand, DescribeTasksCommand, RegisterContainerInstanceCommand, RegisterTaskDefinitionCommand, RunTaskCommand } from '@aws-sdk/client-ecs';
import { DescribeTargetGroupAttributesCommand, DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createDrainActivities, type DrainActivities } from '../../activities/drain';
import { rerunParams } from '../../activities/drain/rerun';
import { parseConfigText } from '../../config/load';
import type { FleetopsConfig } from '../../config/schema';
import { startEmulator } from '../../testkit/emulator';
import { useEmulator } from '../harness/emulator';
import { seedDrainFleet, servedTargetGroup, tasksOn } from './drain-fleet';
import { until } from '../../testkit/poll';
import { seedCapacityWorld } from '../../testkit/capacity-world';
import { POOL_TAG_CLUSTER, POOL_TAG_POOL } from '../../activities/capacity/types';
import { asgDriver } from '../../activities/capacity/pools/asg';
import { spotFleetDriver } from '../../activities/capacity/pools/spot-fleet';
import { ROOT } from '../../testkit/paths';

/**
 * The drain activities against moto behind the simulator (with its ecs-scheduler, asg-lifecycle and
 * spot-interruption behaviours), asserting AWS state afterwards.
 */

jest.setTimeout(120_000);

const emu = useEmulator(() => startEmulator());
let config: FleetopsConfig;

beforeAll(() => {
  config = parseConfigText(readFileSync(join(ROOT, 'test', 'fixtures', 'fleetops.valid.yaml'), 'utf8'));
});

/** An ASG `demo-on-demand` with a terminate hook, and one of its instances in Terminating:Wait (the action's token from its EventBridge event). */
async function terminatingInGroup(): Promise<{ instanceId: string; token: string }> {
  const image = (await emu.aws.ec2.send(new DescribeImagesCommand({}))).Images?.[0]?.ImageId;
  const lt = await emu.aws.ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'node', LaunchTemplateData: { ImageId: image, InstanceType: 'm5.large' }, TagSpecifications: [{ ResourceType: 'launch-template', Tags: [{ Key: 'fleetops:pool', Value: 'on-demand' }] }] }));
  await emu.aws.autoscaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: 'demo-on-demand',
      Tags: [{ Key: 'fleetops:pool', Value: 'on-demand', PropagateAtLaunch: true }],
      LaunchTemplate: { LaunchTemplateId: lt.LaunchTemplate?.LaunchTemplateId, Version: '$Latest' },
      MinSize: 0,
      MaxSize: 4,
      DesiredCapacity: 1,
      AvailabilityZones: ['us-east-1a'],
    }),
  );
  await emu.aws.autoscaling.send(
    new PutLifecycleHookCommand({ AutoScalingGroupName: 'demo-on-demand', LifecycleHookName: 'drain-hook', LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING', HeartbeatTimeout: 120 }),
  );
  const g = await emu.aws.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['demo-on-demand'] }));
  const instanceId = g.AutoScalingGroups![0]!.Instances![0]!.InstanceId!;
  await emu.aws.autoscaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: instanceId, ShouldDecrementDesiredCapacity: true }));
  const { events } = await emu.sim.request<{ events: { 'detail-type': string; detail: Record<string, string> }[] }>('GET', 'events');
  const token = events.find((e) => e['detail-type'] === 'EC2 Instance-terminate Lifecycle Action')?.detail.LifecycleActionToken;
  if (!token) throw new Error('no lifecycle action was announced');
  return { instanceId, token };
}

async function instanceState(instanceId: string): Promise<string | undefined> {
  const out = await emu.aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  return out.Reservations?.[0]?.Instances?.[0]?.State?.Name;
}

function activities(): { acts: DrainActivities; signals: { type: string; args: unknown[] }[] } {
  const signals: { type: string; args: unknown[] }[] = [];
  const acts = createDrainActivities(
    { aws: emu.worker, config },
    { pollIntervalMs: 200, indexMinIntervalMs: 100, signalWithStart: async (type, a) => void signals.push({ type, args: [a] }) },
  );
  return { acts, signals };
}

async function runActivity<A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> {
  return new MockActivityEnvironment().run(fn, ...args);
}

describe('drain activities against moto + simulator', () => {
  it('drains an instance: DRAINING, targets draining with the group\'s own delay, standalone task rerun, service tasks moved by ECS', async () => {
    const fleet = await seedDrainFleet(emu.aws, 3);
    const [instanceId] = fleet.instances;
    const [arn] = fleet.containerInstances;
    await emu.sim.request('POST', 'ecs-scheduler/config', { replaceDelayMs: 0 });
    const { acts } = activities();

    const target = await runActivity(acts.resolveDrainTarget, { instanceId: instanceId! });
    expect(target).toMatchObject({ found: true, cluster: 'demo', containerInstanceArn: arn, status: 'ACTIVE', runningTasks: 3, instanceType: 'm5.large', capacityUnits: 1 });

    await runActivity(acts.setContainerInstanceDraining, { cluster: 'demo', containerInstanceArn: arn! });
    const ci = await emu.aws.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'demo', containerInstances: [arn!] }));
    expect(ci.containerInstances?.[0]?.status).toBe('DRAINING');

    const dereg = await runActivity(acts.deregisterInstanceTargets, { instanceId: instanceId! });
    expect(dereg.targetGroups).toEqual([{ targetGroupArn: fleet.targetGroupArn, targets: 1, deregistrationDelaySeconds: 300 }]);
    // ELB drains the target for the group's delay (simulator elb-target-draining); the other one still serves.
    const health = await emu.aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: fleet.targetGroupArn }));
    expect((health.TargetHealthDescriptions ?? []).map((d) => [d.Target?.Id, d.TargetHealth?.State]).sort()).toEqual(
      [
        [instanceId, 'draining'],
        [fleet.instances[1], 'healthy'],
      ].sort(),
    );
    // The group's settings are the service's: never changed by a drain.
    const attrs = await emu.aws.elbv2.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: fleet.targetGroupArn }));
    expect(attrs.Attributes?.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value).toBe('300');
    const calls = await emu.sim.calls({ service: 'elasticloadbalancing' });
    expect(calls.filter((c) => c.action === 'ModifyTargetGroupAttributes')).toEqual([]);

    const moved = await runActivity(acts.moveStandaloneTasks, {
      cluster: 'demo',
      containerInstanceArn: arn!,
      instanceId: instanceId!,
      rerun: true,
      reason: 'fleetops: interruption-warning',
      idempotencyKey: 'drain-test/run-1',
    });
    expect(moved.stopped).toEqual([fleet.batchTaskArn.split('/').pop()]);
    expect(moved.rerun).toHaveLength(1);
    // ECS replaces the service tasks on its own once the instance is DRAINING: how many were still
    // there when the step listed them depends on its timing, so only where they end up is asserted.
    expect(moved.serviceTasks).toBeLessThanOrEqual(2);
    const elsewhere = [...(await tasksOn(emu.aws, fleet.containerInstances[1]!)), ...(await tasksOn(emu.aws, fleet.containerInstances[2]!))];
    expect(elsewhere.filter((t) => t.group === 'family:batch')).toHaveLength(1);

    const waited = await runActivity(acts.waitForInstanceTasks, { cluster: 'demo', containerInstanceArn: arn!, stopAtEpochMs: Date.now() + 20_000 });
    expect(waited.tasksLeft).toBe(0);
    expect(await tasksOn(emu.aws, arn!)).toEqual([]);
    const after = [...(await tasksOn(emu.aws, fleet.containerInstances[1]!)), ...(await tasksOn(emu.aws, fleet.containerInstances[2]!))];
    expect(after.filter((t) => t.group === 'service:web')).toHaveLength(2);
    const scheduler = await emu.sim.request<{ moves: { service: string; to: string | null }[] }>('GET', 'ecs-scheduler');
    expect(scheduler.moves.map((m) => m.service)).toEqual(['web', 'web']);
    expect(scheduler.moves.every((m) => m.to !== null)).toBe(true);
  });

  it('reports a stop time with tasks still there when ECS cannot move them (minimum healthy 100 %, no room)', async () => {
    const fleet = await seedDrainFleet(emu.aws, 1);
    await emu.sim.request('POST', 'ecs-scheduler/config', { replaceDelayMs: 0 });
    const { acts } = activities();
    await runActivity(acts.setContainerInstanceDraining, { cluster: 'demo', containerInstanceArn: fleet.containerInstances[0]! });
    const waited = await runActivity(acts.waitForInstanceTasks, { cluster: 'demo', containerInstanceArn: fleet.containerInstances[0]!, stopAtEpochMs: Date.now() + 2_500 });
    expect(waited.tasksLeft).toBe(3);
    expect((await tasksOn(emu.aws, fleet.containerInstances[0]!)).filter((t) => t.group === 'service:web')).toHaveLength(2);
  });

  it('not in a managed cluster: an EC2 instance no cluster knows', async () => {
    const fleet = await seedDrainFleet(emu.aws, 1);
    const { acts } = activities();
    const run = await emu.aws.ec2.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', InstanceType: 'm5.large', MinCount: 1, MaxCount: 1 }));
    const stray = run.Instances![0]!.InstanceId!;
    expect(await runActivity(acts.resolveDrainTarget, { instanceId: stray })).toEqual({ found: false, searchedClusters: ['demo'] });
    expect((await runActivity(acts.resolveDrainTarget, { instanceId: fleet.instances[0]! })).found).toBe(true);
  });

  it('coalesces concurrent drains: 12 DRAINING requests are 2 UpdateContainerInstancesState calls, resolves share one sweep', async () => {
    const fleet = await seedDrainFleet(emu.aws, 12);
    const { acts } = activities();
    await emu.sim.clearCalls();
    const targets = await Promise.all(fleet.instances.map((instanceId) => runActivity(acts.resolveDrainTarget, { instanceId })));
    expect(targets.every((t) => t.found)).toBe(true);
    await Promise.all(fleet.containerInstances.map((arn) => runActivity(acts.setContainerInstanceDraining, { cluster: 'demo', containerInstanceArn: arn })));
    const calls = await emu.sim.calls({ service: 'ecs' });
    const count = (action: string) => calls.filter((c) => c.action === action).length;
    expect(count('UpdateContainerInstancesState')).toBe(2);
    expect(count('ListContainerInstances')).toBe(1);
    expect(count('DescribeContainerInstances')).toBe(1);
    const states = await emu.aws.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'demo', containerInstances: fleet.containerInstances }));
    expect(new Set(states.containerInstances?.map((c) => c.status))).toEqual(new Set(['DRAINING']));
  });

  it('sets a batch DRAINING at once for the coordinator: one sweep, 10 a call, each instance reported', async () => {
    const fleet = await seedDrainFleet(emu.aws, 14);
    const { acts } = activities();
    // One already DRAINING, one in no managed cluster.
    await runActivity(acts.setContainerInstanceDraining, { cluster: 'demo', containerInstanceArn: fleet.containerInstances[13]! });
    const stray = (await emu.aws.ec2.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', InstanceType: 'm5.large', MinCount: 1, MaxCount: 1 }))).Instances![0]!.InstanceId!;
    await emu.sim.clearCalls();
    const r = await runActivity(acts.setDrainingAtOnce, { instanceIds: [...fleet.instances, stray] });
    const outcome = Object.fromEntries(r.instances.map((i) => [i.instanceId, i.outcome]));
    expect(fleet.instances.slice(0, 13).map((id) => outcome[id])).toEqual(Array(13).fill('draining'));
    expect(outcome[fleet.instances[13]!]).toBe('already-draining');
    expect(outcome[stray]).toBe('not-in-cluster');
    const calls = await emu.sim.calls({ service: 'ecs' });
    const count = (action: string) => calls.filter((c) => c.action === action).length;
    expect(count('UpdateContainerInstancesState')).toBe(2);
    expect(count('ListContainerInstances')).toBe(1);
    const states = await emu.aws.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'demo', containerInstances: fleet.containerInstances }));
    expect(new Set(states.containerInstances?.map((c) => c.status))).toEqual(new Set(['DRAINING']));
  });

  it('the coordinator finds an instance this worker set DRAINING after its last sweep already DRAINING, without sweeping again', async () => {
    const fleet = await seedDrainFleet(emu.aws, 2);
    const { acts } = activities();
    // A drain resolves (one sweep: ACTIVE), then sets DRAINING; its instance's notice reaches the coordinator soon after.
    expect(await runActivity(acts.resolveDrainTarget, { instanceId: fleet.instances[0]! })).toMatchObject({ status: 'ACTIVE' });
    await runActivity(acts.setContainerInstanceDraining, { cluster: 'demo', containerInstanceArn: fleet.containerInstances[0]! });
    await emu.sim.clearCalls();
    const r = await runActivity(acts.setDrainingAtOnce, { instanceIds: fleet.instances });
    expect(r.instances.map((i) => i.outcome)).toEqual(['already-draining', 'draining']);
    expect((await emu.sim.calls({ service: 'ecs', action: 'ListContainerInstances' })).length).toBe(0);
  });

  it('a drain resolving after the coordinator\'s call finds its instance set DRAINING, though the sweep it reads was taken before the call', async () => {
    const fleet = await seedDrainFleet(emu.aws, 3);
    const { acts } = activities();
    const busy = fleet.instances[0]!;
    const before = await runActivity(acts.resolveDrainTarget, { instanceId: busy });
    expect(before).toMatchObject({ found: true, status: 'ACTIVE', runningTasks: 3 });
    const r = await runActivity(acts.setDrainingAtOnce, { instanceIds: [busy] });
    expect(r.instances[0]?.outcome).toBe('draining');
    await emu.sim.clearCalls();
    // The coordinator's sweep, still the cluster index, read ACTIVE; the worker's own set shows over it.
    const after = await runActivity(acts.resolveDrainTarget, { instanceId: busy });
    expect(after).toMatchObject({ found: true, status: 'DRAINING', runningTasks: 3 });
    expect(before).not.toHaveProperty('drainingSet');
    expect((await emu.sim.calls({ service: 'ecs' })).filter((c) => c.action === 'ListContainerInstances')).toHaveLength(0);
  });

  it('a coordinator batch partly throttled sends the throttled instances again, and only those', async () => {
    const fleet = await seedDrainFleet(emu.aws, 12);
    const { acts } = activities();
    await emu.sim.clearCalls();
    await emu.sim.setFaults({ service: 'ecs', action: 'UpdateContainerInstancesState', fault: { kind: 'throttle' }, count: 1 });
    const r = await runActivity(acts.setDrainingAtOnce, { instanceIds: fleet.instances });
    expect(r.instances.map((i) => i.outcome)).toEqual(Array(12).fill('draining'));
    const updates = (await emu.sim.calls({ service: 'ecs' })).filter((c) => c.action === 'UpdateContainerInstancesState');
    // Two calls (10 + 2), one throttled, then that one's instances alone.
    expect(updates).toHaveLength(3);
    expect(updates.map((u) => u.status)).toContain(400);
    const states = await emu.aws.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'demo', containerInstances: fleet.containerInstances }));
    expect(new Set(states.containerInstances?.map((c) => c.status))).toEqual(new Set(['DRAINING']));
  });

  it('a coordinator batch that cannot reach ECS at all fails with the classified error, for its retry policy', async () => {
    const fleet = await seedDrainFleet(emu.aws, 2);
    const { acts } = activities();
    await emu.sim.setFaults({ service: 'ecs', action: 'ListContainerInstances', fault: { kind: 'throttle' }, count: 20 });
    await expect(runActivity(acts.setDrainingAtOnce, { instanceIds: fleet.instances })).rejects.toMatchObject({ type: 'AwsThrottled', nonRetryable: false });
    await emu.sim.clearFaults();
    const r = await runActivity(acts.setDrainingAtOnce, { instanceIds: fleet.instances });
    expect(r.instances.map((i) => i.outcome)).toEqual(['draining', 'draining']);
  });

  it('a throttled DRAINING call fails retryable with the typed failure, then succeeds', async () => {
    const fleet = await seedDrainFleet(emu.aws, 1);
    const { acts } = activities();
    await emu.sim.setFaults({ service: 'ecs', action: 'UpdateContainerInstancesState', fault: { kind: 'throttle' }, count: 1 });
    const input = { cluster: 'demo', containerInstanceArn: fleet.containerInstances[0]! };
    await expect(runActivity(acts.setContainerInstanceDraining, input)).rejects.toMatchObject({ type: 'AwsThrottled', nonRetryable: false });
    await runActivity(acts.setContainerInstanceDraining, input);
    const ci = await emu.aws.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'demo', containerInstances: [input.containerInstanceArn] }));
    expect(ci.containerInstances?.[0]?.status).toBe('DRAINING');
  });

  it('takes out the IP targets of the instance\'s awsvpc service tasks on the deadline, describing only their services\' target groups', async () => {
    const fleet = await seedDrainFleet(emu.aws, 1);
    const [instanceId] = fleet.instances;
    const other = await servedTargetGroup(emu.aws, 'other', 'instance');
    const apiGroup = await servedTargetGroup(emu.aws, 'api', 'ip');
    const subnet = (await emu.aws.ec2.send(new DescribeSubnetsCommand({}))).Subnets![0]!;
    const sg = await emu.aws.ec2.send(new CreateSecurityGroupCommand({ GroupName: 'api', Description: 'api tasks', VpcId: subnet.VpcId }));
    const td = await emu.aws.ecs.send(
      new RegisterTaskDefinitionCommand({ family: 'api', networkMode: 'awsvpc', containerDefinitions: [{ name: 'api', image: 'api:1', cpu: 64, memory: 128, portMappings: [{ containerPort: 8080 }] }] }),
    );
    await emu.aws.ecs.send(
      new CreateServiceCommand({
        cluster: 'demo',
        serviceName: 'api',
        taskDefinition: td.taskDefinition!.taskDefinitionArn,
        desiredCount: 1,
        networkConfiguration: { awsvpcConfiguration: { subnets: [subnet.SubnetId!], securityGroups: [sg.GroupId!] } },
        loadBalancers: [{ targetGroupArn: apiGroup, containerName: 'api', containerPort: 8080 }],
      }),
    );
    // ECS registers the task by its ENI's IP (simulator ecs-deployments).
    const ipTargets = await until('the api task\'s IP target', async () => {
      const d = (await emu.aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: apiGroup }))).TargetHealthDescriptions ?? [];
      return d.length === 1 && d[0]!.Target!.Id!.startsWith('i-') === false ? d.map((x) => x.Target!.Id!) : undefined;
    });
    const { acts } = activities();
    await emu.sim.clearCalls();
    const dereg = await runActivity(acts.deregisterInstanceTargets, { instanceId: instanceId!, cluster: 'demo' });
    expect(dereg.targetGroups.map((g) => [g.targetGroupArn, g.targets])).toEqual([[apiGroup, 1]]);
    const described = (await emu.sim.calls()).filter((c) => c.action === 'DescribeTargetHealth');
    const states = (await emu.aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: apiGroup }))).TargetHealthDescriptions ?? [];
    expect(ipTargets).toHaveLength(1);
    // Out of service: gone, or draining for the group's delay.
    expect(states.filter((d) => d.TargetHealth?.State !== 'draining')).toEqual([]);
    // Only the groups of the services on the instance were described, not every group in the account.
    expect(described.length).toBe(1);
    expect(JSON.stringify(described)).not.toContain(fleet.targetGroupArn);
    expect(JSON.stringify(described)).not.toContain(other);
  });

  it('dryRun makes no mutating call and returns each one', async () => {
    const fleet = await seedDrainFleet(emu.aws, 2);
    const { acts } = activities();
    await emu.sim.clearCalls();
    const arn = fleet.containerInstances[0]!;
    const instanceId = fleet.instances[0]!;
    const d = await runActivity(acts.setContainerInstanceDraining, { cluster: 'demo', containerInstanceArn: arn, dryRun: true });
    const t = await runActivity(acts.deregisterInstanceTargets, { instanceId, dryRun: true });
    const m = await runActivity(acts.moveStandaloneTasks, { cluster: 'demo', containerInstanceArn: arn, instanceId, rerun: true, reason: 'dry', idempotencyKey: 'k', dryRun: true });
    const actions = [...d.dryRunCalls, ...t.dryRunCalls, ...m.dryRunCalls].map((c) => c.action);
    expect(actions.sort()).toEqual([
      'ecs:RunTask',
      'ecs:StopTask',
      'ecs:UpdateContainerInstancesState',
      'elasticloadbalancing:DeregisterTargets',
    ]);
    const made = (await emu.sim.calls()).map((c) => c.action);
    expect(made.filter((a) => !/^(Describe|List)/.test(a))).toEqual([]);
    const ci = await emu.aws.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'demo', containerInstances: [arn] }));
    expect(ci.containerInstances?.[0]?.status).toBe('ACTIVE');
  });

  it('heartbeats and completes a terminate lifecycle action; a repeat completion is success; reads the hook timeout', async () => {
    const { acts } = activities();
    const { instanceId, token } = await terminatingInGroup();
    const lifecycle = { hookName: 'drain-hook', asgName: 'demo-on-demand', actionToken: token };
    expect(await runActivity(acts.describeLifecycleHook, { asgName: 'demo-on-demand', hookName: 'drain-hook' })).toEqual({
      found: true,
      heartbeatTimeoutSeconds: 120,
      globalTimeoutSeconds: 12_000,
      defaultResult: 'ABANDON',
    });
    expect(await runActivity(acts.recordLifecycleHeartbeat, { lifecycle, instanceId })).toMatchObject({ active: true });
    expect(await runActivity(acts.completeLifecycleAction, { lifecycle, instanceId })).toMatchObject({ alreadyCompleted: false });
    expect(await instanceState(instanceId)).toBe('terminated');
    // After a crash between the call and its answer, the retry finds no action waiting: success, not a failed step.
    expect(await runActivity(acts.completeLifecycleAction, { lifecycle, instanceId })).toMatchObject({ alreadyCompleted: true });
    expect(await runActivity(acts.recordLifecycleHeartbeat, { lifecycle, instanceId })).toMatchObject({ active: false });
    const { calls } = await emu.sim.request<{ calls: { action: string; result?: string; lifecycleActionToken?: string; accepted: boolean }[] }>('GET', 'asg-lifecycle/actions');
    expect(calls.map((c) => [c.action, c.result ?? null, c.accepted])).toEqual([
      ['RecordLifecycleActionHeartbeat', null, true],
      ['CompleteLifecycleAction', 'CONTINUE', true],
      ['CompleteLifecycleAction', 'CONTINUE', false],
      ['RecordLifecycleActionHeartbeat', null, false],
    ]);
  });

  it('finds the pool of an instance and whether it replaces an interrupted instance itself', async () => {
    const world = await seedCapacityWorld(emu);
    const acts = createDrainActivities({ aws: emu.worker, config: world.config }, { indexMinIntervalMs: 100 });
    const members = await emu.aws.ec2.send(new DescribeSpotFleetInstancesCommand({ SpotFleetRequestId: world.spotFleetRequestId }));
    const spot = members.ActiveInstances![0]!.InstanceId!;
    expect(await runActivity(acts.findInstancePool, { cluster: 'demo', instanceId: spot })).toEqual({
      found: true,
      pool: 'spot-diversified',
      kind: 'spot-fleet',
      replacesOwnInstances: true,
    });
    await emu.aws.autoscaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'demo-on-demand', DesiredCapacity: 1 }));
    const g = await emu.aws.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['demo-on-demand'] }));
    const asgInstance = g.AutoScalingGroups![0]!.Instances![0]!.InstanceId!;
    expect(await runActivity(acts.findInstancePool, { cluster: 'demo', instanceId: asgInstance })).toMatchObject({ pool: 'on-demand', kind: 'asg', replacesOwnInstances: true });
    expect(await runActivity(acts.findInstancePool, { cluster: 'demo', instanceId: asgInstance })).not.toHaveProperty('replacesOnRebalance');
    // With Capacity Rebalancing the group also replaces an instance on its rebalance recommendation (a fresh index: the first one's sweep is kept).
    await emu.aws.autoscaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'demo-on-demand', CapacityRebalance: true }));
    const fresh = createDrainActivities({ aws: emu.worker, config: world.config }, { indexMinIntervalMs: 100 });
    expect(await runActivity(fresh.findInstancePool, { cluster: 'demo', instanceId: asgInstance })).toMatchObject({ pool: 'on-demand', replacesOwnInstances: true, replacesOnRebalance: true });
    // A `request` Spot Fleet launches once and replaces nothing ("Spot Fleet request types").
    const ctx = { aws: emu.worker, cluster: 'demo', clusterConfig: world.config.clusters.demo! };
    const requestFleet = await emu.aws.ec2.send(
      new RequestSpotFleetCommand({
        SpotFleetRequestConfig: {
          IamFleetRole: 'arn:aws:iam::123456789012:role/aws-ec2-spot-fleet-tagging-role',
          AllocationStrategy: 'diversified',
          TargetCapacity: 1,
          Type: 'request',
          LaunchSpecifications: [{ ImageId: 'ami-12c6146b', InstanceType: 'm5.large', WeightedCapacity: 1 }],
        },
      }),
    );
    const asRequest = { name: 'once', kind: 'spot-fleet' as const, spotFleetRequestId: requestFleet.SpotFleetRequestId!, allocationStrategy: 'lowestPrice' as const, fulfilmentTimeoutSeconds: 60 };
    expect((await spotFleetDriver.describe(ctx, asRequest)).replaces).toEqual({ interrupted: false, onRebalance: false });
    expect((await asgDriver.describe(ctx, { name: 'on-demand', kind: 'asg', market: 'on-demand', autoScalingGroupName: 'demo-on-demand', lowerMinSizeOnScaleIn: false, fulfilmentTimeoutSeconds: 60 })).maxUnits).toBe(g.AutoScalingGroups![0]!.MaxSize);
    // What an EC2 Fleet `instant` launch of the pool carries: the pool's tags.
    const run = await emu.aws.ec2.send(
      new RunInstancesCommand({
        ImageId: 'ami-12c6146b',
        InstanceType: 'm5.large',
        MinCount: 1,
        MaxCount: 1,
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: POOL_TAG_CLUSTER, Value: 'demo' }, { Key: POOL_TAG_POOL, Value: 'spot-instant' }] }],
      }),
    );
    const fleetInstance = run.Instances![0]!.InstanceId!;
    expect(await runActivity(acts.findInstancePool, { cluster: 'demo', instanceId: fleetInstance })).toMatchObject({ pool: 'spot-instant', kind: 'ec2-fleet', replacesOwnInstances: false });
    expect(await runActivity(acts.findInstancePool, { cluster: 'demo', instanceId: 'i-0123456789abcdef0' })).toEqual({ found: false });
  });

  it('waits for a replacement: only a container instance registered since the request counts', async () => {
    const fleet = await seedDrainFleet(emu.aws, 2);
    const { acts } = activities();
    const since = Date.now();
    const waiting = runActivity(acts.waitForReplacement, { cluster: 'demo', instanceId: fleet.instances[0]!, sinceEpochMs: since, stopAtEpochMs: Date.now() + 15_000 });
    let settled = false;
    void waiting.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 1_000));
    expect(settled).toBe(false);
    const run = await emu.aws.ec2.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', InstanceType: 'm5.large', MinCount: 1, MaxCount: 1 }));
    const fresh = run.Instances![0]!.InstanceId!;
    await emu.aws.ecs.send(new RegisterContainerInstanceCommand({ cluster: 'demo', instanceIdentityDocument: JSON.stringify({ instanceId: fresh }) }));
    await expect(waiting).resolves.toMatchObject({ arrived: true, instanceId: fresh });
    expect(await runActivity(acts.waitForReplacement, { cluster: 'demo', instanceId: fleet.instances[0]!, sinceEpochMs: Date.now(), stopAtEpochMs: Date.now() + 500 })).toEqual({ arrived: false });
  });

  it('takes a drained instance out through its pool: the ASG terminates it and lowers its desired count, the Spot Fleet does not replace it', async () => {
    const world = await seedCapacityWorld(emu);
    const acts = createDrainActivities({ aws: emu.worker, config: world.config }, { indexMinIntervalMs: 100 });
    await emu.aws.autoscaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'demo-on-demand', DesiredCapacity: 2 }));
    const group = async () => (await emu.aws.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['demo-on-demand'] }))).AutoScalingGroups![0]!;
    const victim = (await group()).Instances![0]!.InstanceId!;
    await runActivity(acts.terminateDrainedInstance, { cluster: 'demo', pool: 'on-demand', instanceId: victim, weight: 1 });
    expect((await group()).DesiredCapacity).toBe(1);
    expect((await group()).Instances?.map((i) => i.InstanceId)).not.toContain(victim);
    expect(await instanceState(victim)).toBe('terminated');

    const members = await emu.aws.ec2.send(new DescribeSpotFleetInstancesCommand({ SpotFleetRequestId: world.spotFleetRequestId }));
    const spot = members.ActiveInstances![0]!.InstanceId!;
    await runActivity(acts.terminateDrainedInstance, { cluster: 'demo', pool: 'spot-diversified', instanceId: spot, weight: 1 });
    expect(await instanceState(spot)).toBe('terminated');
    const after = await emu.aws.ec2.send(new DescribeSpotFleetInstancesCommand({ SpotFleetRequestId: world.spotFleetRequestId }));
    expect(after.ActiveInstances ?? []).toEqual([]);
  });

  it('a stopped instance back: interrupt with stop keeps its container instance; setContainerInstanceActive makes it ACTIVE again', async () => {
    const fleet = await seedDrainFleet(emu.aws, 2);
    const { acts } = activities();
    const [instanceId] = fleet.instances;
    const [arn] = fleet.containerInstances;
    await runActivity(acts.setContainerInstanceDraining, { cluster: 'demo', containerInstanceArn: arn! });
    await emu.sim.request('POST', 'spot-interruption/interrupt', { instanceId, afterSeconds: 0, action: 'stop' });
    await emu.sim.tick('spot-interruption');
    // `stopped` follows `stopping` on the state events' next tick (simulator/behaviours/ec2-state-events.ts).
    await emu.sim.tick('ec2-state-events');
    expect(await instanceState(instanceId!)).toBe('stopped');
    await emu.sim.request('POST', 'spot-interruption/resume', { instanceId });
    await emu.sim.tick('ec2-state-events');
    expect(await instanceState(instanceId!)).toBe('running');
    const states = (await emu.sim.request<{ events: { 'detail-type': string; detail: Record<string, string> }[] }>('GET', 'events')).events
      .filter((e) => e.detail['instance-id'] === instanceId)
      .map((e) => e.detail.state ?? e.detail['instance-action']);
    expect(states).toEqual(['stop', 'stopping', 'stopped', 'pending', 'running']);
    await runActivity(acts.setContainerInstanceActive, { cluster: 'demo', containerInstanceArn: arn! });
    const ci = await emu.aws.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'demo', containerInstances: [arn!] }));
    expect(ci.containerInstances?.[0]?.status).toBe('ACTIVE');
  });

  it('reruns a standalone task with what it needs (network configuration, tags, startedBy); an orchestrated one is only stopped', async () => {
    const fleet = await seedDrainFleet(emu.aws, 1);
    const { acts } = activities();
    const subnet = (await emu.aws.ec2.send(new DescribeSubnetsCommand({}))).Subnets![0]!;
    const sg = await emu.aws.ec2.send(new CreateSecurityGroupCommand({ GroupName: 'report', Description: 'report tasks', VpcId: subnet.VpcId }));
    const td = await emu.aws.ecs.send(
      new RegisterTaskDefinitionCommand({ family: 'report', networkMode: 'awsvpc', containerDefinitions: [{ name: 'report', image: 'report:1', cpu: 64, memory: 128 }] }),
    );
    const network = { awsvpcConfiguration: { subnets: [subnet.SubnetId!], securityGroups: [sg.GroupId!] } };
    const report = await emu.aws.ecs.send(
      new RunTaskCommand({ cluster: 'demo', taskDefinition: td.taskDefinition!.taskDefinitionArn, networkConfiguration: network, startedBy: 'nightly-report', tags: [{ key: 'team', value: 'data' }] }),
    );
    const stepFn = await emu.aws.ecs.send(
      new RunTaskCommand({ cluster: 'demo', taskDefinition: td.taskDefinition!.taskDefinitionArn, networkConfiguration: network, startedBy: 'AWS Step Functions' }),
    );
    const run = await emu.aws.ec2.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', InstanceType: 'm5.large', MinCount: 1, MaxCount: 1 }));
    await emu.aws.ecs.send(new RegisterContainerInstanceCommand({ cluster: 'demo', instanceIdentityDocument: JSON.stringify({ instanceId: run.Instances![0]!.InstanceId! }) }));

    const moved = await runActivity(acts.moveStandaloneTasks, {
      cluster: 'demo',
      containerInstanceArn: fleet.containerInstances[0]!,
      instanceId: fleet.instances[0]!,
      rerun: true,
      reason: 'fleetops: interruption-warning',
      idempotencyKey: 'drain-test/run-2',
    });
    expect(moved.rerunFailed).toEqual([]);
    expect(moved.orchestrated).toEqual([{ task: stepFn.tasks![0]!.taskArn!.split('/').pop(), by: 'Step Functions' }]);
    expect(moved.rerun.map((r) => r.from).sort()).toEqual([fleet.batchTaskArn, report.tasks![0]!.taskArn].sort());
    const rerunOf = moved.rerun.find((r) => r.from === report.tasks![0]!.taskArn)!.to[0]!;
    const again = (await emu.aws.ecs.send(new DescribeTasksCommand({ cluster: 'demo', tasks: [rerunOf], include: ['TAGS'] }))).tasks![0]!;
    expect(again.startedBy).toBe('nightly-report');
    expect(again.tags).toEqual([{ key: 'team', value: 'data' }]);
    const eni = again.attachments?.[0]?.details?.find((d) => d.name === 'networkInterfaceId')?.value;
    expect(again.attachments?.[0]?.details?.find((d) => d.name === 'subnetId')?.value).toBe(subnet.SubnetId);
    const groups = (await emu.aws.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eni!] }))).NetworkInterfaces?.[0]?.Groups?.map((g) => g.GroupId);
    expect(groups).toEqual([sg.GroupId]);
    expect(moved.stopped.sort()).toEqual([fleet.batchTaskArn, report.tasks![0]!.taskArn!, stepFn.tasks![0]!.taskArn!].map((a) => a.split('/').pop()).sort());
  });

  it('reruns an awsvpc task in the subnets of the cluster\'s other instances outside the reclaimed zone, not in its own one subnet', async () => {
    const fleet = await seedDrainFleet(emu.aws, 1);
    const dying = fleet.instances[0]!;
    const where = (await emu.aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: [dying] }))).Reservations![0]!.Instances![0]!;
    const subnets = (await emu.aws.ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [where.VpcId!] }] }))).Subnets!;
    const own = subnets.find((s) => s.AvailabilityZone === where.Placement!.AvailabilityZone)!;
    const other = subnets.find((s) => s.AvailabilityZone !== where.Placement!.AvailabilityZone)!;
    const sg = await emu.aws.ec2.send(new CreateSecurityGroupCommand({ GroupName: 'zonal', Description: 'zonal tasks', VpcId: where.VpcId }));
    const td = await emu.aws.ecs.send(
      new RegisterTaskDefinitionCommand({ family: 'zonal', networkMode: 'awsvpc', containerDefinitions: [{ name: 'zonal', image: 'zonal:1', cpu: 64, memory: 128 }] }),
    );
    const ran = await emu.aws.ecs.send(
      new RunTaskCommand({ cluster: 'demo', taskDefinition: td.taskDefinition!.taskDefinitionArn, networkConfiguration: { awsvpcConfiguration: { subnets: [own.SubnetId!], securityGroups: [sg.GroupId!] } }, startedBy: 'nightly' }),
    );
    // Another instance, in another zone, joins the cluster.
    const run = await emu.aws.ec2.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', InstanceType: 'm5.large', MinCount: 1, MaxCount: 1, SubnetId: other.SubnetId }));
    await emu.aws.ecs.send(new RegisterContainerInstanceCommand({ cluster: 'demo', instanceIdentityDocument: JSON.stringify({ instanceId: run.Instances![0]!.InstanceId! }) }));
    const task = (await emu.aws.ecs.send(new DescribeTasksCommand({ cluster: 'demo', tasks: [ran.tasks![0]!.taskArn!] }))).tasks![0]!;

    const params = await rerunParams(emu.aws, 'demo', task, dying, 'tok');
    expect(params.networkConfiguration?.awsvpcConfiguration?.subnets).toEqual([other.SubnetId]);
  });

  it('sets DRAINING within the disruption budget: concurrent voluntary drains beyond it are refused until one ends', async () => {
    const fleet = await seedDrainFleet(emu.aws, 4);
    const { acts } = activities();
    const ask = (arn: string) => runActivity(acts.setDrainingWithinBudget, { cluster: 'demo', containerInstanceArn: arn, budget: 2 });
    const answers = await Promise.all(fleet.containerInstances.map(ask));
    expect(answers.filter((a) => a.granted)).toHaveLength(2);
    const states = await emu.aws.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'demo', containerInstances: fleet.containerInstances }));
    expect(states.containerInstances?.filter((c) => c.status === 'DRAINING')).toHaveLength(2);
    const refused = fleet.containerInstances.filter((_, i) => !answers[i]!.granted);
    expect(await ask(refused[0]!)).toMatchObject({ granted: false, draining: 2 });
    // One drained instance leaves the cluster: the next one gets its turn.
    const done = fleet.containerInstances.find((_, i) => answers[i]!.granted)!;
    await emu.aws.ecs.send(new DeregisterContainerInstanceCommand({ cluster: 'demo', containerInstance: done, force: true }));
    expect(await ask(refused[0]!)).toMatchObject({ granted: true, draining: 1 });
  });

  it('signal-with-start of capacity-<cluster> carries the replacement request', async () => {
    const { acts, signals } = activities();
    const r = await runActivity(acts.requestReplacementCapacity, { cluster: 'demo', instanceId: 'i-0123456789abcdef0', units: 2, reason: 'interruption-warning', source: 'drain-i-0123456789abcdef0' });
    expect(r.workflowId).toBe('capacity-demo');
    expect(signals).toEqual([
      {
        type: 'capacity',
        args: [
          expect.objectContaining({
            workflowId: 'capacity-demo',
            taskQueue: 'fleetops',
            args: [{ cluster: 'demo' }],
            signal: 'capacityRequest',
            signalArgs: [{ direction: 'out', units: 2, reason: 'interruption-warning', source: { kind: 'drain', instanceId: 'i-0123456789abcdef0', eventId: 'drain-i-0123456789abcdef0' } }],
          }),
        ],
      },
    ]);
  });

  it('spot-interruption terminates the instance and takes its container instance away at the scheduled time', async () => {
    const fleet = await seedDrainFleet(emu.aws, 2);
    await emu.sim.request('POST', 'spot-interruption/schedule', { instanceId: fleet.instances[0], afterSeconds: 0 });
    await emu.sim.tick('spot-interruption');
    const state = await emu.sim.request<{ terminated: { instanceId: string; tasksLost: number }[] }>('GET', 'spot-interruption');
    expect(state.terminated).toEqual([expect.objectContaining({ instanceId: fleet.instances[0], tasksLost: 3 })]);
    const ci = await emu.aws.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'demo', containerInstances: [fleet.containerInstances[0]!] }));
    expect(ci.containerInstances ?? []).toEqual([]);
  });
});
