import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeServicesCommand } from '@aws-sdk/client-ecs';
import { DescribeRulesCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createDeployActivities } from '../../activities/deploy';
import { forwardWeights } from '../../activities/deploy/traffic';
import type { ActivityDeps } from '../../activities/deps';
import { createNotificationActivities } from '../../activities/notifications';
import { parseConfigText } from '../../config/load';
import type { FleetopsConfig } from '../../config/schema';
import { parseEvent } from '../../router/events';
import { routeEvent } from '../../router/routes';
import type { DeployResult } from '../../workflows/canary-deploy/messages';
import { seedWeightedService, type WeightedService } from '../deploy/weighted-service';
import { startEmulator, type Emulator } from '../harness/emulator';
import { ROOT } from '../harness/paths';
import { bundledWorkflows, connectDevServer, uniqueTaskQueue } from '../harness/temporal';

/**
 * End to end, in real time: a `Deploy Requested` event goes through the router's parsing and routing,
 * the workflow runs on the dev server with the real activities against moto + the simulator (whose
 * ecs-deployments behaviour rolls deployments out and fails the tasks of a bad image), and the test
 * reads AWS afterwards. The start uses the router's decision with this suite's own task queue, so no
 * other suite's `fleetops` workflows reach this worker.
 */

jest.setTimeout(180_000);

let env: TestWorkflowEnvironment;
let emu: Emulator;
const fixture = parseConfigText(readFileSync(join(ROOT, 'test', 'fixtures', 'fleetops.valid.yaml'), 'utf8'));

beforeAll(async () => {
  env = await connectDevServer();
  emu = await startEmulator();
});

afterAll(async () => {
  await emu?.stop();
  await env?.teardown();
});

interface World extends WeightedService {
  cluster: string;
  config: FleetopsConfig;
}

async function seed(): Promise<World> {
  await emu.reset();
  await emu.sim.request('PUT', 'ecs-deployments/config', { rolloutMs: 300 });
  const cluster = `e2e-${randomUUID().slice(0, 8)}`;
  const alarm = `${cluster}-web-5xx`;
  const { stableTd, rule } = await seedWeightedService(emu.aws, {
    cluster,
    cidrOctet: 20,
    containerName: 'web',
    desiredCount: 4,
    stableTargetGroupName: `${cluster}-web`,
    canaryTargetGroupName: `${cluster}-canary`,
    alarmName: alarm,
  });
  const config: FleetopsConfig = {
    ...fixture,
    clusters: { [cluster]: fixture.clusters.demo! },
    services: [
      {
        cluster,
        name: 'web',
        canary: {
          ...fixture.services[0]!.canary,
          alarms: [alarm],
          metricChecks: [],
          steps: [{ kind: 'setWeight', weight: 25 }, { kind: 'bake', seconds: 10 }, { kind: 'promote' }],
          analysisIntervalSeconds: 5,
          listenerRule: rule,
          promoteTimeoutSeconds: 120,
          postPromotionBakeSeconds: 10,
        },
      },
    ],
    notifications: { webhooks: [{ name: 'ops', url: 'http://hooks.example/ops' }] },
  };
  return { cluster, stableTd, rule, config };
}

async function deploy(world: World, image: string): Promise<{ result: DeployResult; posts: { text: string }[] }> {
  const posts: { text: string }[] = [];
  const deps: ActivityDeps = {
    aws: emu.aws,
    config: world.config,
    temporal: { client: env.client, namespace: 'default' },
    fetch: (async (_url: string | URL | Request, init?: RequestInit) => {
      posts.push(JSON.parse(String(init?.body)) as { text: string });
      return new Response('ok', { status: 200 });
    }) as typeof fetch,
  };
  const parsed = parseEvent({
    version: '0',
    id: randomUUID(),
    'detail-type': 'Deploy Requested',
    source: 'fleetops',
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [],
    detail: { cluster: world.cluster, service: 'web', image, requestedBy: 'alice' },
  });
  if (!parsed.ok) throw new Error(parsed.error);
  const decision = routeEvent(parsed.event, world.config);
  if (decision.action !== 'start') throw new Error(`router decided ${decision.action}`);
  const taskQueue = uniqueTaskQueue('deploy-e2e');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    ...bundledWorkflows(),
    activities: { ...createDeployActivities(deps), ...createNotificationActivities(deps) },
  });
  const result = await worker.runUntil(async () => {
    const handle = await env.client.workflow.start(decision.workflowType, {
      workflowId: decision.workflowId,
      taskQueue,
      args: decision.args,
      typedSearchAttributes: decision.searchAttributes,
      staticSummary: decision.staticSummary,
    });
    expect(handle.workflowId).toBe(`deploy-${world.cluster}-web`);
    return (await handle.result()) as DeployResult;
  });
  return { result, posts };
}

async function service(cluster: string, name: string) {
  return (await emu.aws.ecs.send(new DescribeServicesCommand({ cluster, services: [name] }))).services?.find((s) => s.serviceName === name);
}

async function weights(world: World) {
  const rule = (await emu.aws.elbv2.send(new DescribeRulesCommand({ RuleArns: [world.rule.ruleArn] }))).Rules?.[0];
  return forwardWeights(rule, world.rule.stableTargetGroupArn, world.rule.canaryTargetGroupArn);
}

describe('canary deploy end to end (router decision, dev server, moto + simulator)', () => {
  it('a Deploy Requested event with a good image ends promoted: main on the new revision, canary gone, weights restored', async () => {
    const world = await seed();
    const { result, posts } = await deploy(world, 'registry.example/web:2');
    expect(result.outcome).toBe('promoted');
    const web = await service(world.cluster, 'web');
    expect(web?.taskDefinition).toBe(result.taskDefinition);
    expect(web?.taskDefinition).not.toBe(world.stableTd);
    expect(web?.deployments?.map((d) => [d.status, d.rolloutState, d.runningCount])).toEqual([['PRIMARY', 'COMPLETED', 4]]);
    expect((await service(world.cluster, 'web-canary'))?.status).toBe('INACTIVE');
    expect(await weights(world)).toEqual({ stable: 100, canary: 0 });
    // Slack-compatible notifications with a Web UI link, one per phase change.
    expect(posts.map((p) => p.text.split('\n')[0])).toEqual(
      ['creating-canary', 'shifting-traffic', 'baking', 'promoting', 'post-promotion-bake', 'promoted'].map((ph) => `*deploy ${world.cluster}/web: ${ph}*`),
    );
    expect(posts[0]!.text).toContain(`/namespaces/default/workflows/deploy-${world.cluster}-web|deploy-${world.cluster}-web>`);
  });

  it('an image whose tasks fail is rolled back and the stable service is untouched', async () => {
    const world = await seed();
    await emu.sim.request('POST', 'ecs-deployments/failing-revisions', { match: 'registry.example/web:bad' });
    const { result } = await deploy(world, 'registry.example/web:bad');
    expect(result.outcome).toBe('rolled-back');
    expect(result.reason).toMatch(/canary deployment FAILED: ECS deployment circuit breaker|canary task\(s\) stopped unexpectedly/);
    const web = await service(world.cluster, 'web');
    expect(web?.taskDefinition).toBe(world.stableTd);
    expect(web?.deployments?.map((d) => [d.status, d.taskDefinition, d.rolloutState, d.runningCount])).toEqual([['PRIMARY', world.stableTd, 'COMPLETED', 4]]);
    expect((await service(world.cluster, 'web-canary'))?.status).toBe('INACTIVE');
    expect(await weights(world)).toEqual({ stable: 100, canary: 0 });
  });

  it('a canary whose tasks run but fail their health checks never gets weight and is rolled back', async () => {
    const world = await seed();
    await emu.sim.request('POST', 'ecs-deployments/failing-revisions', { match: 'registry.example/web:sick', mode: 'unhealthy' });
    const { result } = await deploy(world, 'registry.example/web:sick');
    expect(result.outcome).toBe('rolled-back');
    expect(result.reason).toMatch(/^rolled back: web-canary is not serving: \d+ canary task\(s\) stopped: ServiceSchedulerInitiated: Task failed ELB health checks in \(target-group /);
    // The rule was never modified: no weight ever reached the canary.
    const modified = await emu.sim.request<{ calls: unknown[] }>('GET', 'calls?service=elasticloadbalancing&action=ModifyRule');
    expect(modified.calls).toEqual([]);
    expect(await weights(world)).toEqual({ stable: 100, canary: 0 });
    expect((await service(world.cluster, 'web'))?.taskDefinition).toBe(world.stableTd);
    expect((await service(world.cluster, 'web-canary'))?.status).toBe('INACTIVE');
  });
});
