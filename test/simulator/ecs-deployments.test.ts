import { CreateClusterCommand, CreateServiceCommand, DescribeServicesCommand, ListTasksCommand, RegisterTaskDefinitionCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { startEmulator, type Emulator } from '../harness/emulator';

/**
 * The ecs-deployments behaviour on its own: deployments and tasks as ECS keeps them, failing
 * revisions, control-route validation and reset. Its use by the deploy activities is tested in
 * test/deploy/activities.test.ts.
 */

jest.setTimeout(60_000);

let emu: Emulator;

beforeAll(async () => {
  emu = await startEmulator({ autoTick: false });
});

afterAll(async () => {
  await emu?.stop();
});

interface TrackedService {
  serviceName: string;
  deployments: { status: string; rolloutState: string; runningCount: number; failedTasks: number }[];
  tasks: { lastStatus: string; stopCode?: string }[];
}

async function tracked(): Promise<TrackedService[]> {
  return (await emu.sim.request<{ services: TrackedService[] }>('GET', 'ecs-deployments/services')).services;
}

async function seed(image: string): Promise<string> {
  await emu.aws.ecs.send(new CreateClusterCommand({ clusterName: 'sim' }));
  const td = await emu.aws.ecs.send(new RegisterTaskDefinitionCommand({ family: 'api', containerDefinitions: [{ name: 'api', image, memory: 128 }] }));
  await emu.aws.ecs.send(new CreateServiceCommand({ cluster: 'sim', serviceName: 'api', taskDefinition: td.taskDefinition!.taskDefinitionArn, desiredCount: 3 }));
  return td.taskDefinition!.taskDefinitionArn!;
}

describe('ecs-deployments behaviour', () => {
  beforeEach(async () => {
    await emu.reset();
  });

  it('holds a new deployment IN_PROGRESS with no tasks until the rollout delay, then runs it', async () => {
    await emu.sim.request('PUT', 'ecs-deployments/config', { rolloutMs: 60_000 });
    await seed('api:1');
    const before = (await emu.aws.ecs.send(new DescribeServicesCommand({ cluster: 'sim', services: ['api'] }))).services![0]!;
    expect([before.runningCount, before.pendingCount, before.deployments?.[0]?.rolloutState]).toEqual([0, 3, 'IN_PROGRESS']);
    await emu.sim.request('PUT', 'ecs-deployments/config', { rolloutMs: 0 });
    const after = (await emu.aws.ecs.send(new DescribeServicesCommand({ cluster: 'sim', services: ['api'] }))).services![0]!;
    expect([after.runningCount, after.pendingCount, after.deployments?.[0]?.rolloutState]).toEqual([3, 0, 'COMPLETED']);
    const running = await emu.aws.ecs.send(new ListTasksCommand({ cluster: 'sim', serviceName: 'api' }));
    expect(running.taskArns).toHaveLength(3);
  });

  it('fails a matching revision like the circuit breaker and keeps the stopped tasks listable', async () => {
    await emu.sim.request('PUT', 'ecs-deployments/config', { rolloutMs: 0, failureThreshold: 2 });
    await emu.sim.request('POST', 'ecs-deployments/failing-revisions', { match: 'api:broken', stopCode: 'TaskFailedToStart', reason: 'CannotPullContainerError' });
    await seed('api:1');
    const bad = await emu.aws.ecs.send(new RegisterTaskDefinitionCommand({ family: 'api', containerDefinitions: [{ name: 'api', image: 'api:broken', memory: 128 }] }));
    await emu.aws.ecs.send(new UpdateServiceCommand({ cluster: 'sim', service: 'api', taskDefinition: bad.taskDefinition!.taskDefinitionArn }));
    await emu.sim.tick('ecs-deployments');
    const [svc] = await tracked();
    expect(svc?.deployments.map((d) => [d.status, d.rolloutState])).toEqual([
      ['PRIMARY', 'FAILED'],
      ['ACTIVE', 'COMPLETED'],
    ]);
    expect(svc?.deployments[0]?.failedTasks).toBeGreaterThanOrEqual(2);
    // The old revision keeps serving: a failed rollout never took its tasks away.
    expect(svc?.deployments[1]?.runningCount).toBe(3);
    const stopped = await emu.aws.ecs.send(new ListTasksCommand({ cluster: 'sim', serviceName: 'api', desiredStatus: 'STOPPED' }));
    expect(stopped.taskArns?.length).toBeGreaterThanOrEqual(2);
  });

  it('rejects malformed control bodies with the field, and reset forgets services and rules', async () => {
    await expect(emu.sim.request('POST', 'ecs-deployments/failing-revisions', { match: '' })).rejects.toThrow(/HTTP 400.*match/s);
    await expect(emu.sim.request('PUT', 'ecs-deployments/config', { rolloutMs: -1 })).rejects.toThrow(/HTTP 400.*rolloutMs/s);
    await emu.sim.request('POST', 'ecs-deployments/failing-revisions', { match: 'api:1' });
    await seed('api:1');
    expect(await tracked()).toHaveLength(1);
    await emu.reset();
    expect(await tracked()).toEqual([]);
    await seed('api:1');
    await emu.sim.request('PUT', 'ecs-deployments/config', { rolloutMs: 0 });
    await emu.sim.tick('ecs-deployments');
    // The failing rule was forgotten with the reset: the same image now runs.
    expect((await tracked())[0]?.deployments[0]?.rolloutState).toBe('COMPLETED');
  });
});
