import {
  DeleteLifecycleHookCommand,
  DescribeAutoScalingGroupsCommand,
  PutLifecycleHookCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, DescribeSpotFleetInstancesCommand, DescribeSpotFleetRequestsCommand } from '@aws-sdk/client-ec2';
import { DescribeContainerInstancesCommand, DescribeServicesCommand, ListContainerInstancesCommand } from '@aws-sdk/client-ecs';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { POOL_TAG_POOL } from '../../activities/capacity/types';
import { WorkflowNotFoundError, type Client, type Connection } from '@temporalio/client';
import { statusQuery } from '../../contracts/controls';
import type { DrainCoordinatorStatus } from '../../contracts/drain-coordinator/messages';
import type { AwsClients } from '../../activities/aws/clients';
import { drainStartOptions } from '../../contracts/spot-drain/start';
import { drainCoordinatorWorkflowId, drainWorkflowId } from '../../common/workflow-ids';
import { TASK_QUEUE_DRAIN_COORDINATOR } from '../../common/task-queues';
import type { DrainEvent } from '../../contracts/spot-drain/input';
import type { SimControl } from '../../simulator/control-client';
import type { LifecycleActionState } from '../../simulator/behaviours/asg-lifecycle';
import { drainEventSignal, type SpotDrainResult, type SpotDrainWorkflow } from '../../contracts/spot-drain/messages';
import { until } from '../../testkit/poll';
import { STACK_READY_TIMEOUT_MS, type LocalStack } from '../../testkit/local-stack';
import { closeStack, openStack } from '../harness/local-stack';

/**
 * Drains as AWS behaves, end to end on the local stack (`make up` on free ports): what AWS does is made to happen in
 * the emulator (a terminate lifecycle hook firing, a spot reclaim in a `maintain` Spot Fleet) and
 * reaches the router through EventBridge → SQS, as in an account; the test reads AWS afterwards.
 *  (a) a scale-in drain of an ASG instance finishes, then TerminateInstanceInAutoScalingGroup fires the
 *      group's terminate hook: the action is completed within seconds, not at the hook's timeout;
 *  (b) a rebalance: the replacement is ACTIVE before DRAINING; the service's healthy targets, sampled
 *      through the drain, never fall below its minimumHealthyPercent;
 *  (c) an interruption in the `maintain` Spot Fleet: the fleet replaces the instance, the drain asks
 *      capacity for nothing, and the cluster ends with as many instances as before;
 *  (d) an instance interrupted with `stop`, restarted when capacity returns (same instance id), then
 *      interrupted with `terminate`: the first drain sets it ACTIVE again on `running`, and the second
 *      warning starts a new drain run that drains it.
 *  (e) a rebalance recommendation in the ASG with Capacity Rebalancing, at its MinSize: the group's
 *      replacement is the only one, the drain waits for it, and no instance is left DRAINING.
 */

jest.setTimeout(STACK_READY_TIMEOUT_MS + 60_000);

let local: LocalStack;
let aws: AwsClients;
let sim: SimControl;
let connection: Connection;
let client: Client;
const CLUSTER = 'demo';
const ASG = 'demo-on-demand';

function figure(line: string): void {
  process.stdout.write(`[e2e drain] ${line}\n`);
}

beforeAll(async () => {
  ({ local, aws, sim, connection, client } = await openStack());
});

afterAll(() => closeStack({ local, aws, connection }));

async function activeInstances(): Promise<Map<string, string>> {
  const arns = (await aws.ecs.send(new ListContainerInstancesCommand({ cluster: CLUSTER }))).containerInstanceArns ?? [];
  const out = new Map<string, string>();
  if (arns.length === 0) return out;
  const d = await aws.ecs.send(new DescribeContainerInstancesCommand({ cluster: CLUSTER, containerInstances: arns }));
  for (const ci of d.containerInstances ?? []) if (ci.ec2InstanceId) out.set(ci.ec2InstanceId, ci.status ?? '');
  return out;
}

/** The drain coordinator's counts, or undefined when no coordinator was ever started. */
async function coordinatorCounts(): Promise<DrainCoordinatorStatus['counts'] | undefined> {
  try {
    return ((await client.workflow.getHandle(drainCoordinatorWorkflowId()).query(statusQuery)) as DrainCoordinatorStatus).counts;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

describe('spot drain on the local stack, AWS behaving as it does', () => {
  test('(a) a terminate lifecycle action after a finished scale-in drain is completed within seconds', async () => {
    await aws.autoscaling.send(
      new PutLifecycleHookCommand({
        AutoScalingGroupName: ASG,
        LifecycleHookName: 'drain',
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        HeartbeatTimeout: 3600,
        DefaultResult: 'CONTINUE',
      }),
    );
    const group = (await aws.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [ASG] }))).AutoScalingGroups![0]!;
    const victim = group.Instances!.find((i) => i.LifecycleState === 'InService')!.InstanceId!;
    // The capacity workflow's scale-in: its drain child, then the group's termination.
    const start = drainStartOptions({ instanceId: victim }, { why: 'scale-in', cluster: CLUSTER });
    const event: DrainEvent = { kind: 'scale-in', instanceId: victim, eventId: `e2e-scale-in-${victim}`, eventTime: new Date().toISOString() };
    const first = await client.workflow.signalWithStart<SpotDrainWorkflow, [DrainEvent]>(start.workflowType, { ...start, signal: drainEventSignal, signalArgs: [event] });
    const drained = (await first.result()) as SpotDrainResult;
    expect(drained.outcome).toBe('drained');

    const t0 = Date.now();
    await aws.autoscaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: victim, ShouldDecrementDesiredCapacity: true }));
    const closed = await until(
      'the lifecycle action to be completed',
      async () => {
        const { closed } = await sim.request<{ closed: LifecycleActionState[] }>('GET', 'asg-lifecycle/actions');
        return closed.find((a) => a.instanceId === victim);
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    const completedMs = Date.parse(closed.closed!.at) - t0;
    expect(closed.closed).toMatchObject({ how: 'completed', result: 'CONTINUE' });
    expect(completedMs).toBeLessThan(30_000);
    const runs = [];
    for await (const w of client.workflow.list({ query: `WorkflowId = '${drainWorkflowId(victim)}'` })) runs.push(w.runId);
    expect(runs.length).toBe(2);
    figure(`(a) scale-in drain of ${victim} drained; terminate hook fired → action completed (CONTINUE) ${completedMs} ms later (hook HeartbeatTimeout 3600 s); ${runs.length} drain runs`);
  });

  test('(b) a rebalance: the replacement is ACTIVE before DRAINING, and web never has fewer healthy targets than its minimumHealthyPercent', async () => {
    const svc = (await aws.ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: [local.stack.demo.service] }))).services![0]!;
    const tg = svc.loadBalancers![0]!.targetGroupArn!;
    const desired = svc.desiredCount!;
    const minHealthy = Math.ceil((desired * (svc.deploymentConfiguration?.minimumHealthyPercent ?? 100)) / 100);
    const healthy = async () => ((await aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }))).TargetHealthDescriptions ?? []).filter((d) => d.TargetHealth?.State === 'healthy');
    await until('web to be steady', async () => ((await healthy()).length >= desired ? true : undefined), { timeoutMs: 60_000, intervalMs: 500 });
    const ec2Fleet = await aws.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: `tag:${POOL_TAG_POOL}`, Values: ['spot-ec2-fleet'] }, { Name: 'instance-state-name', Values: ['running'] }] }));
    const fleetIds = new Set((ec2Fleet.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId!));
    const victim = (await healthy()).map((d) => d.Target!.Id!).find((id) => fleetIds.has(id))!;
    expect(victim).toBeDefined();
    const t0 = Date.now();
    await sim.request('POST', 'events', {
      source: 'aws.ec2',
      detailType: 'EC2 Instance Rebalance Recommendation',
      detail: { 'instance-id': victim },
      resources: [`arn:aws:ec2:us-east-1:123456789012:instance/${victim}`],
    });
    let min = Number.POSITIVE_INFINITY;
    let samples = 0;
    let result: SpotDrainResult | undefined;
    const handle = () => client.workflow.getHandle(drainWorkflowId(victim));
    // Healthy targets are sampled while the drain runs; the sampling ends with the wait, also when the wait fails.
    let waiting = true;
    const done = until('the rebalance drain to end', () => handle().result().then((r) => r as SpotDrainResult, () => undefined), { timeoutMs: 240_000, intervalMs: 1_000 })
      .then((r) => (result = r))
      .finally(() => (waiting = false));
    while (waiting) {
      min = Math.min(min, (await healthy()).length);
      samples += 1;
      await new Promise((r) => setTimeout(r, 250));
    }
    await done;
    if (!result) throw new Error('the rebalance drain ended without a result');
    expect(result.outcome).toBe('drained');
    const step = (name: string) => result!.steps.find((s) => s.name === name);
    expect(step('wait-for-replacement')).toMatchObject({ status: 'done' });
    expect(Date.parse(step('set-draining')!.startedAt)).toBeGreaterThanOrEqual(Date.parse(step('wait-for-replacement')!.endedAt!));
    expect(step('deregister-targets')).toMatchObject({ status: 'skipped' });
    expect(step('terminate-instance')).toMatchObject({ status: 'done' });
    expect(min).toBeGreaterThanOrEqual(minHealthy);
    // A rebalance replaces first: it never goes to the drain coordinator, which would set DRAINING at
    // once. (The instances (a) and (b) terminated reach it as shutting-down, already DRAINING.)
    expect((await coordinatorCounts())?.draining ?? 0).toBe(0);
    figure(
      `(b) rebalance of ${victim}: ${step('wait-for-replacement')!.detail} before DRAINING (${Date.parse(step('set-draining')!.startedAt) - t0} ms after the event); ` +
        `drained and taken out of its pool ${Date.now() - t0} ms after the event; healthy ${svc.serviceName} targets sampled ${samples}× every 250 ms: minimum ${min} (desired ${desired}, minimumHealthyPercent floor ${minHealthy})`,
    );
  });

  test('(c) an interruption in the maintain Spot Fleet: the fleet replaces it, the drain asks for nothing, the cluster keeps its count', async () => {
    const sfr = (await aws.ec2.send(new DescribeSpotFleetRequestsCommand({}))).SpotFleetRequestConfigs![0]!.SpotFleetRequestId!;
    const members = (await aws.ec2.send(new DescribeSpotFleetInstancesCommand({ SpotFleetRequestId: sfr }))).ActiveInstances!.map((a) => a.InstanceId!);
    const before = await activeInstances();
    const activeBefore = [...before.values()].filter((s) => s === 'ACTIVE').length;
    const victim = members.find((id) => before.get(id) === 'ACTIVE')!;
    const coordinatorBefore = await coordinatorCounts();
    const t0 = Date.now();
    await sim.request('POST', 'spot-interruption/interrupt', { instanceId: victim, afterSeconds: 30 });
    const result = (await until(
      'the drain to end',
      () => client.workflow.getHandle(drainWorkflowId(victim)).result().then((r) => r as SpotDrainResult, () => undefined),
      { timeoutMs: 90_000, intervalMs: 1_000 },
    ))!;
    expect(result.outcome).toBe('drained');
    expect(result.steps.find((s) => s.name === 'request-capacity')).toMatchObject({ status: 'skipped' });
    // The warning reached the drain coordinator through EventBridge → SQS → router, and it set DRAINING
    // (or found the drain had already: the two race, and either is right). The instance's
    // shutting-down may follow it there, already DRAINING or a duplicate.
    const counts = (await coordinatorCounts()) ?? {};
    const delta = (k: keyof typeof counts) => (counts[k] ?? 0) - (coordinatorBefore?.[k] ?? 0);
    expect(delta('received')).toBeGreaterThanOrEqual(1);
    expect(delta('draining') + delta('already-draining')).toBeGreaterThanOrEqual(1);
    expect(delta('failed')).toBe(0);
    // The router started it on its own task queue (the stack's worker polls it) at the highest task priority.
    const coordinator = await client.workflow.getHandle(drainCoordinatorWorkflowId()).describe();
    expect(coordinator.taskQueue).toBe(TASK_QUEUE_DRAIN_COORDINATOR);
    expect(coordinator.raw.workflowExecutionInfo?.priority?.priorityKey).toBe(1);
    const after = await until(
      'the replacement to join the cluster',
      async () => {
        const m = await activeInstances();
        const active = [...m.entries()].filter(([, s]) => s === 'ACTIVE');
        return !m.has(victim) && active.length === activeBefore - 1 + 1 ? m : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    const fleetNow = (await aws.ec2.send(new DescribeSpotFleetInstancesCommand({ SpotFleetRequestId: sfr }))).ActiveInstances!.map((a) => a.InstanceId!);
    const replacement = fleetNow.find((id) => !members.includes(id));
    expect(replacement).toBeDefined();
    expect(after.get(replacement!)).toBe('ACTIVE');
    const draining = [...after.values()].filter((s) => s === 'DRAINING').length;
    figure(
      `(c) maintain Spot Fleet ${sfr}: ${victim} interrupted, drained (capacity asked for nothing), replaced by ${replacement} ` +
        `ACTIVE ${Date.now() - t0} ms after the warning; ACTIVE container instances ${activeBefore} before, ${[...after.values()].filter((s) => s === 'ACTIVE').length} after (${draining} DRAINING)`,
    );
  });

  test('(d) stop, restart, then terminate: the second warning drains the instance in a new run', async () => {
    const ec2Fleet = await aws.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: `tag:${POOL_TAG_POOL}`, Values: ['spot-ec2-fleet'] }, { Name: 'instance-state-name', Values: ['running'] }] }));
    const before = await activeInstances();
    const victim = (ec2Fleet.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId!).find((id) => before.get(id) === 'ACTIVE')!;
    expect(victim).toBeDefined();
    const count = (m: Map<string, string>, s: string) => [...m.values()].filter((v) => v === s).length;
    const ec2State = async () => (await aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: [victim] }))).Reservations![0]!.Instances![0]!.State!.Name;
    const drain = () => client.workflow.getHandle(drainWorkflowId(victim));

    await sim.request('POST', 'spot-interruption/interrupt', { instanceId: victim, afterSeconds: 10, action: 'stop' });
    await until('the instance to stop', async () => ((await ec2State()) === 'stopped' ? true : undefined), { timeoutMs: 60_000, intervalMs: 500 });
    await sim.request('POST', 'spot-interruption/resume', { instanceId: victim });
    // EC2 `running` reaches the first drain, which sets the instance ACTIVE again and ends.
    const first = (await until('the stop drain to end', () => drain().result().then((r) => r as SpotDrainResult, () => undefined), { timeoutMs: 60_000, intervalMs: 500 }))!;
    expect(first.steps.at(-1)).toMatchObject({ name: 'reactivate', status: 'done' });
    const firstRun = (await drain().describe()).runId;
    expect((await activeInstances()).get(victim)).toBe('ACTIVE');

    await sim.request('POST', 'spot-interruption/interrupt', { instanceId: victim, afterSeconds: 20, action: 'terminate' });
    const second = (await until(
      'a new drain run to drain the instance',
      async () => {
        const d = await drain().describe();
        return d.runId !== firstRun && d.status.name !== 'RUNNING' ? ((await drain().result()) as SpotDrainResult) : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 1_000 },
    ))!;
    expect(second.outcome).toBe('drained');
    expect(second.steps.find((s) => s.name === 'set-draining')).toMatchObject({ status: 'done' });
    const after = await until('the instance to leave the cluster', async () => {
      const m = await activeInstances();
      return m.has(victim) ? undefined : m;
    }, { timeoutMs: 60_000, intervalMs: 500 });
    expect(after.get(victim)).toBeUndefined();
    figure(
      `(d) ${victim}: stop warning → drained, restarted → ACTIVE again (reactivate done); terminate warning → new drain run, drained (${second.steps.find((s) => s.name === 'wait-for-tasks')?.detail ?? ''}); ` +
        `container instances ACTIVE ${count(before, 'ACTIVE')} before, ${count(after, 'ACTIVE')} after, ${count(after, 'DRAINING')} DRAINING`,
    );
  });

  test('(e) a rebalance in an ASG with Capacity Rebalancing at its MinSize: exactly one replacement, no instance left DRAINING', async () => {
    const describeGroup = async () => (await aws.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [ASG] }))).AutoScalingGroups![0]!;
    // (a) left a terminate hook on the group; this case is about the group's own replacement, not the hook.
    await aws.autoscaling.send(new DeleteLifecycleHookCommand({ AutoScalingGroupName: ASG, LifecycleHookName: 'drain' }));
    const g0 = await describeGroup();
    await aws.autoscaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: ASG, CapacityRebalance: true, MinSize: g0.DesiredCapacity, HealthCheckGracePeriod: 3600 }));
    const groupBefore = (g0.Instances ?? []).filter((i) => i.LifecycleState === 'InService').map((i) => i.InstanceId!);
    const before = await activeInstances();
    const victim = groupBefore.find((id) => before.get(id) === 'ACTIVE')!;
    expect(victim).toBeDefined();
    const capacityCalls = async () => (await sim.calls({ service: 'autoscaling', action: 'SetDesiredCapacity' })).length + (await sim.calls({ service: 'ec2', action: 'CreateFleet' })).length + (await sim.calls({ service: 'ec2', action: 'ModifySpotFleetRequest' })).length;
    const callsBefore = await capacityCalls();
    const t0 = Date.now();
    await sim.request('POST', 'events', {
      source: 'aws.ec2',
      detailType: 'EC2 Instance Rebalance Recommendation',
      detail: { 'instance-id': victim },
      resources: [`arn:aws:ec2:us-east-1:123456789012:instance/${victim}`],
    });
    const result = (await until(
      'the rebalance drain to end',
      () => client.workflow.getHandle(drainWorkflowId(victim)).result().then((r) => r as SpotDrainResult, () => undefined),
      { timeoutMs: 240_000, intervalMs: 1_000 },
    ))!;
    expect(result.outcome).toBe('drained');
    const step = (name: string) => result.steps.find((st) => st.name === name);
    expect(step('request-capacity')).toMatchObject({ status: 'skipped' });
    expect(step('wait-for-replacement')).toMatchObject({ status: 'done' });
    expect(step('terminate-instance')).toMatchObject({ status: 'done' });
    const g1 = await until(
      'the group to be back at its count without the victim',
      async () => {
        const g = await describeGroup();
        const ids = (g.Instances ?? []).map((i) => i.InstanceId!);
        return !ids.includes(victim) && ids.length === groupBefore.length ? g : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    const groupAfter = (g1.Instances ?? []).map((i) => i.InstanceId!);
    const replacements = groupAfter.filter((id) => !groupBefore.includes(id));
    expect(replacements).toHaveLength(1);
    expect(g1.DesiredCapacity).toBe(g0.DesiredCapacity);
    // Nothing else was asked of any pool for this instance.
    expect(await capacityCalls()).toBe(callsBefore);
    const after = await activeInstances();
    // Earlier cases may have left instances of other pools; none is new here, and the victim is gone.
    const draining = [...after.entries()].filter(([, st]) => st === 'DRAINING').map(([id]) => id);
    expect(draining.filter((id) => before.get(id) !== 'DRAINING')).toEqual([]);
    expect(after.has(victim)).toBe(false);
    expect(after.get(replacements[0]!)).toBe('ACTIVE');
    const count = (m: Map<string, string>, st: string) => [...m.values()].filter((x) => x === st).length;
    figure(
      `(e) ASG ${ASG} with Capacity Rebalancing at MinSize ${g0.DesiredCapacity}: rebalance of ${victim} → replacements launched ${replacements.length} (${replacements[0]}), ` +
        `group ${groupBefore.length} → ${groupAfter.length} instances (desired ${g0.DesiredCapacity} → ${g1.DesiredCapacity}); cluster ACTIVE ${count(before, 'ACTIVE')} → ${count(after, 'ACTIVE')}, ` +
        `DRAINING ${count(before, 'DRAINING')} → ${draining.length}; drained and taken out ${Date.now() - t0} ms after the event`,
    );
  });
});
