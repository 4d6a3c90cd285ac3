import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeContainerInstancesCommand } from '@aws-sdk/client-ecs';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { TestWorkflowEnvironment } from '@temporalio/testing';

import { createDrainActivities } from '../../activities/drain';
import { drainStartOptions } from '../../contracts/spot-drain/start';
import { capacityWorkflowId } from '../../common/workflow-ids';
import type { DrainEvent } from '../../contracts/spot-drain/input';
import { parseConfigText } from '../../config/load';
import { drainEventSignal, type SpotDrainWorkflow } from '../../contracts/spot-drain/messages';
import { seedDrainFleet, tasksOn } from './drain-fleet';
import { startEmulator, type Emulator } from '../../testkit/emulator';
import { ROOT } from '../../testkit/paths';
import { bundledWorkflows, connectDevServer, recordHistory, uniqueTaskQueue } from '../harness/temporal';
import { createWorker } from '../harness/workers';

/**
 * The drain end to end below the router: the real workflow and real activities on the dev server,
 * against moto + simulator (its ECS scheduler moves service tasks off DRAINING instances). A warning
 * arrives by signal-with-start as the router sends it; afterwards the AWS state is checked, and the
 * replacement request must be in `capacity-demo`'s history (started by the drain's signal-with-start).
 */

jest.setTimeout(120_000);

let env: TestWorkflowEnvironment;
let emu: Emulator;

beforeAll(async () => {
  [env, emu] = await Promise.all([connectDevServer(), startEmulator()]);
});

afterAll(async () => {
  await Promise.all([env?.teardown(), emu?.stop()]);
});

it('a warning drains the instance before the deadline: DRAINING, targets off, tasks moved, replacement asked for', async () => {
  const config = parseConfigText(readFileSync(join(ROOT, 'test', 'fixtures', 'fleetops.valid.yaml'), 'utf8'));
  const fleet = await seedDrainFleet(emu.aws, 3);
  await emu.sim.request('POST', 'ecs-scheduler/config', { replaceDelayMs: 2_000 });
  const [instanceId, ...others] = fleet.instances;
  const [arn, ...otherArns] = fleet.containerInstances;
  const taskQueue = uniqueTaskQueue('drain-e2e');
  const worker = await createWorker({
    connection: env.nativeConnection,
    taskQueue,
    ...bundledWorkflows(),
    activities: createDrainActivities({ aws: emu.worker, config }, { pollIntervalMs: 500 }),
  });

  const eventTime = new Date();
  const { result, handle } = await worker.runUntil(async () => {
    const start = drainStartOptions({ instanceId: instanceId! }, { why: 'interruption warning' });
    const h = await env.client.workflow.signalWithStart<SpotDrainWorkflow, [DrainEvent]>(start.workflowType, {
      ...start,
      taskQueue,
      signal: drainEventSignal,
      signalArgs: [{ kind: 'interruption-warning', instanceId: instanceId!, eventId: `e2e-${instanceId}`, eventTime: eventTime.toISOString() }],
    });
    const r = await h.result();
    await recordHistory(h, 'spot-drain', 'emulator-end-to-end');
    return { result: r, handle: h };
  });
  const tookMs = Date.now() - eventTime.getTime();

  expect(result.outcome).toBe('drained');
  expect(result.notDone).toEqual([]);
  expect(tookMs).toBeLessThan(120_000);

  const ci = await emu.aws.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'demo', containerInstances: [arn!] }));
  expect(ci.containerInstances?.[0]?.status).toBe('DRAINING');
  expect(await tasksOn(emu.aws, arn!)).toEqual([]);
  const elsewhere = (await Promise.all(otherArns.map((a) => tasksOn(emu.aws, a)))).flat();
  expect(elsewhere.filter((t) => t.group === 'service:web')).toHaveLength(2);
  expect(elsewhere.filter((t) => t.group === 'family:batch')).toHaveLength(1);

  const health = await emu.aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: fleet.targetGroupArn }));
  const serving = (health.TargetHealthDescriptions ?? []).filter((d) => d.TargetHealth?.State !== 'draining').map((d) => d.Target?.Id);
  expect(serving).toEqual([others[0]]);

  const capacity = env.client.workflow.getHandle(capacityWorkflowId('demo'));
  const history = await capacity.fetchHistory();
  const signals = (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'capacityRequest');
  expect(signals).toHaveLength(1);
  await capacity.terminate('test over: nobody runs the capacity workflow here');

  const status = await handle.describe();
  expect(status.status.name).toBe('COMPLETED');
});
