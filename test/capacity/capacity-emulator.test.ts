import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import type { TestWorkflowEnvironment } from '@temporalio/testing';

import { statusQuery } from '../../contracts/controls';
import { capacityStartOptions } from '../../contracts/capacity/start';
import type { CapacityRequest } from '../../contracts/capacity/input';
import { capacityRequestSignal, type CapacityStatus, type CapacityWorkflow } from '../../contracts/capacity/messages';
import { startEmulator, type Emulator } from '../../testkit/emulator';
import { untilValue } from '../../testkit/poll';
import { bundledWorkflows, connectDevServer, uniqueTaskQueue } from '../harness/temporal';
import { ASG, CLUSTER, seedCapacityWorld } from '../../testkit/capacity-world';
import { createWorker } from '../harness/workers';

/**
 * The capacity workflow end to end below the router: the real workflow and real activities on the
 * dev server (real time), against moto + simulator. EC2 and Auto Scaling throttle every call in the
 * middle of a scale-out until the step fails past its activity retries; the workflow must stay Running,
 * show the error, keep the request, and deliver exactly what was asked once the throttling ends.
 */

jest.setTimeout(300_000);

let env: TestWorkflowEnvironment;
let emu: Emulator;

beforeAll(async () => {
  [env, emu] = await Promise.all([connectDevServer(), startEmulator()]);
});

afterAll(async () => {
  await Promise.all([env?.teardown(), emu?.stop()]);
});

it('EC2 and Auto Scaling throttled mid scale-out until the step fails: Running, the error on status, capacity after the throttling, nothing lost or doubled', async () => {
  const world = await seedCapacityWorld(emu, { fulfilmentTimeoutSeconds: 30 });
  // Spot is out: the EC2 Fleet overrides have no capacity and the Spot Fleet cannot grow; the ASG delivers.
  await emu.sim.request('POST', 'capacity/limits', { overrides: [{ market: 'spot', available: 0 }], pools: { [world.spotFleetRequestId]: { maxUnits: 1 } } });
  await emu.sim.request('POST', 'capacity/config', { bootDelaySeconds: 3, fulfilmentDelaySeconds: 1, cluster: CLUSTER });
  const notified: string[] = [];
  const taskQueue = uniqueTaskQueue('capacity-e2e');
  const worker = await createWorker({
    connection: env.nativeConnection,
    taskQueue,
    ...bundledWorkflows(),
    activities: {
      ...world.activities,
      notify: async (n: { title: string }) => (notified.push(n.title), { sent: [], skipped: [] }),
      openIncidentFromAutomation: async (r: { title: string }) => (notified.push(r.title), { workflowId: 'incident-test' }),
    },
  });
  await worker.runUntil(async () => {
    const start = capacityStartOptions(CLUSTER);
    const request: CapacityRequest = { direction: 'out', units: 2, reason: 'e2e alarm', source: { kind: 'alarm', alarmName: 'e2e-scale-out', eventId: `e2e-${Date.now()}` } };
    const handle = await env.client.workflow.signalWithStart<CapacityWorkflow, [CapacityRequest]>(start.workflowType, {
      ...start,
      workflowId: `${start.workflowId}-throttle-${Date.now()}`,
      taskQueue,
      signal: capacityRequestSignal,
      signalArgs: [request],
    });
    const status = () => handle.query(statusQuery) as Promise<CapacityStatus>;
    // In the middle of the scale-out: the plan has begun, then EC2 and Auto Scaling throttle every call.
    await untilValue('the scale-out to begin', status, (s) => s.decisions.some((d) => d.action === 'scale-out'), { timeoutMs: 30_000, intervalMs: 250 });
    await emu.sim.setFaults({ id: 'ec2-storm', service: 'ec2', fault: { kind: 'throttle' } }, { id: 'asg-storm', service: 'autoscaling', fault: { kind: 'throttle' } });

    const failing = await untilValue('the error on status', status, (s) => s.error !== undefined, { timeoutMs: 90_000, intervalMs: 250 });
    expect(failing.error?.message).toMatch(/RequestLimitExceeded|Throttling/);
    expect(failing.pending.out).toBeGreaterThan(0);
    expect((await handle.describe()).status.name).toBe('RUNNING');

    // The throttling has outlasted the activity's own retries (six attempts, 31 s of backoff) and the
    // step failed: AWS answers again now, and the workflow's next attempt on its backoff timer delivers.
    await emu.sim.clearFaults();

    const done = await untilValue(
      'the capacity after the throttling',
      status,
      // The pools are described again once the instances are ACTIVE; wait for that too.
      (s) => s.error === undefined && s.pending.out === 0 && s.booting.units === 0 && s.pools.find((p) => p.name === 'on-demand')?.activeUnits === 2,
      { timeoutMs: 180_000, intervalMs: 250 },
    );
    expect((await handle.describe()).status.name).toBe('RUNNING');
    expect(done.decisions.some((d) => d.action === 'aws-error')).toBe(true);
    expect(done.decisions.some((d) => d.action === 'recovered')).toBe(true);
    expect(done.decisions.some((d) => d.action === 'registered')).toBe(true);
    // Exactly the 2 units asked for, from the ASG; the throttled attempts launched nothing extra.
    const g = (await emu.aws.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [ASG] }))).AutoScalingGroups![0]!;
    expect(g.DesiredCapacity).toBe(2);
    expect(g.Instances).toHaveLength(2);
    expect(done.pools.find((p) => p.name === 'on-demand')).toMatchObject({ actualUnits: 2, activeUnits: 2 });
    expect(done.pools.find((p) => p.name === 'spot-instant')?.actualUnits).toBe(0);
    expect(done.pools.find((p) => p.name === 'spot-diversified')?.actualUnits).toBe(1);
    await handle.terminate('test over');
  });
});
