import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeServicesCommand, DescribeTaskDefinitionCommand, ListTaskDefinitionsCommand, ListTagsForResourceCommand } from '@aws-sdk/client-ecs';
import { DescribeRulesCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createDeployActivities, type DeployActivities } from '../../activities/deploy';
import { forwardWeights } from '../../activities/deploy/traffic';
import { blockingIncidentsQuery } from '../../activities/deploy/incidents';
import { parseConfigText } from '../../config/load';
import type { FleetopsConfig } from '../../config/schema';
import { seedWeightedService, type WeightedService } from './weighted-service';
import { startEmulator, type Emulator } from '../harness/emulator';
import { ROOT } from '../harness/paths';

/**
 * The deploy activities against moto behind the simulator (its ecs-deployments behaviour runs ECS
 * deployments as ECS does), asserting AWS state afterwards.
 */

jest.setTimeout(120_000);

let emu: Emulator;
let baseConfig: FleetopsConfig;

beforeAll(async () => {
  emu = await startEmulator();
  baseConfig = parseConfigText(readFileSync(join(ROOT, 'test', 'fixtures', 'fleetops.valid.yaml'), 'utf8'));
});

afterAll(async () => {
  await emu?.stop();
});

beforeEach(async () => {
  await emu.reset();
  // Deployments roll out on the next read: the tests assert states, not wall-clock waits.
  await emu.sim.request('PUT', 'ecs-deployments/config', { rolloutMs: 0 });
});

interface Seeded extends WeightedService {
  acts: DeployActivities;
}

/** Cluster `demo`, service `web` (2 tasks of web:1 in the stable target group), an ALB rule forwarding to it, alarm `web-5xx`. */
async function seed(): Promise<Seeded> {
  const { stableTd, rule } = await seedWeightedService(emu.aws, {
    cluster: 'demo',
    cidrOctet: 10,
    containerName: 'app',
    desiredCount: 2,
    stableTargetGroupName: 'web',
    canaryTargetGroupName: 'web-canary',
    alarmName: 'web-5xx',
    networkMode: 'bridge',
    launchType: 'EC2',
    tags: [{ key: 'team', value: 'flyers' }],
  });
  const config: FleetopsConfig = {
    ...baseConfig,
    services: [
      {
        cluster: 'demo',
        name: 'web',
        canary: { ...baseConfig.services[0]!.canary, alarms: ['web-5xx'], listenerRule: rule },
      },
    ],
  };
  return { stableTd, rule, acts: createDeployActivities({ aws: emu.aws, config }) };
}

async function run<A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> {
  return new MockActivityEnvironment().run(fn, ...args);
}

async function service(name: string) {
  const out = await emu.aws.ecs.send(new DescribeServicesCommand({ cluster: 'demo', services: [name] }));
  return out.services?.find((s) => s.serviceName === name);
}

describe('deploy activities against moto + simulator', () => {
  it('reads the plan from config and refuses a service it does not know', async () => {
    const { acts } = await seed();
    const plan = await run(acts.resolveDeployPlan, { cluster: 'demo', service: 'web' });
    expect(plan.canaryService).toBe('web-canary');
    expect(plan.plan.listenerRule?.ruleArn).toMatch(/^arn:aws:elasticloadbalancing:/);
    const err = await run(acts.resolveDeployPlan, { cluster: 'demo', service: 'api' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('InvalidRequest');
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
  });

  it('sees the stable service healthy once ECS (the simulator) has rolled it out, and alarm states', async () => {
    const { acts, stableTd } = await seed();
    const snap = await run(acts.describeDeployService, { cluster: 'demo', service: 'web' });
    expect(snap).toMatchObject({ serviceName: 'web', taskDefinition: stableTd, desiredCount: 2, runningCount: 2 });
    expect(snap?.deployments).toEqual([expect.objectContaining({ status: 'PRIMARY', rolloutState: 'COMPLETED', taskDefinition: stableTd, runningCount: 2 })]);
    expect(await run(acts.describeDeployService, { cluster: 'demo', service: 'nope' })).toBeNull();
    const alarms = await run(acts.describeAlarmStates, { alarmNames: ['web-5xx', 'no-such-alarm'] });
    expect(alarms.map((a) => [a.name, a.state])).toEqual([
      ['web-5xx', expect.stringMatching(/^(OK|INSUFFICIENT_DATA)$/)],
      ['no-such-alarm', 'MISSING'],
    ]);
  });

  it('registers a revision with the image replaced (dry run registers nothing), or checks a given ARN', async () => {
    const { acts, stableTd } = await seed();
    const dry = await run(acts.resolveDeployRevision, { cluster: 'demo', service: 'web', currentTaskDefinition: stableTd, image: 'registry.example/web:2', dryRun: true });
    expect(dry.dryRunCalls.map((c) => c.action)).toEqual(['ecs:RegisterTaskDefinition']);
    expect((await emu.aws.ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: 'web' }))).taskDefinitionArns).toHaveLength(1);

    const rev = await run(acts.resolveDeployRevision, { cluster: 'demo', service: 'web', currentTaskDefinition: stableTd, image: 'registry.example/web:2' });
    expect(rev.registered).toBe(true);
    expect(rev.taskDefinitionArn).toMatch(/task-definition\/web:2$/);
    const td = (await emu.aws.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: rev.taskDefinitionArn }))).taskDefinition!;
    expect(td.containerDefinitions?.map((c) => [c.name, c.image, c.portMappings?.[0]?.containerPort])).toEqual([['app', 'registry.example/web:2', 8080]]);
    expect(td.networkMode).toBe('bridge');

    const same = await run(acts.resolveDeployRevision, { cluster: 'demo', service: 'web', currentTaskDefinition: stableTd, image: 'registry.example/web:1' });
    expect(same).toEqual({ taskDefinitionArn: stableTd, registered: false, dryRunCalls: [] });
    const given = await run(acts.resolveDeployRevision, { cluster: 'demo', service: 'web', currentTaskDefinition: stableTd, taskDefinition: rev.taskDefinitionArn });
    expect(given.taskDefinitionArn).toBe(rev.taskDefinitionArn);
    const wrongContainer = await run(acts.resolveDeployRevision, {
      cluster: 'demo',
      service: 'web',
      currentTaskDefinition: stableTd,
      image: 'x:1',
      container: 'sidecar',
    }).catch((e: unknown) => e);
    expect((wrongContainer as ApplicationFailure).message).toBe('task definition web has no container "sidecar" (has app)');
  });

  it('creates the canary with the stable settings in the canary target group, scales it, and deletes it', async () => {
    const { acts, rule } = await seed();
    const rev = await run(acts.resolveDeployRevision, { cluster: 'demo', service: 'web', currentTaskDefinition: (await service('web'))!.taskDefinition!, image: 'registry.example/web:2' });
    await run(acts.createCanaryService, {
      cluster: 'demo',
      service: 'web',
      canaryService: 'web-canary',
      taskDefinition: rev.taskDefinitionArn,
      desiredCount: 0,
      canaryTargetGroupArn: rule.canaryTargetGroupArn,
    });
    // A retried create (answer lost) finds the canary and moves it instead of failing.
    await run(acts.createCanaryService, {
      cluster: 'demo',
      service: 'web',
      canaryService: 'web-canary',
      taskDefinition: rev.taskDefinitionArn,
      desiredCount: 0,
      canaryTargetGroupArn: rule.canaryTargetGroupArn,
    });
    const canary = await service('web-canary');
    expect(canary?.taskDefinition).toBe(rev.taskDefinitionArn);
    expect(canary?.loadBalancers).toEqual([expect.objectContaining({ targetGroupArn: rule.canaryTargetGroupArn, containerName: 'app', containerPort: 8080 })]);
    expect(canary?.launchType).toBe('EC2');
    const tags = (await emu.aws.ecs.send(new ListTagsForResourceCommand({ resourceArn: canary!.serviceArn! }))).tags;
    expect(tags).toEqual(expect.arrayContaining([{ key: 'fleetops:canary-of', value: 'web' }, { key: 'team', value: 'flyers' }]));

    await run(acts.scaleService, { cluster: 'demo', service: 'web-canary', desiredCount: 1 });
    const scaled = await run(acts.describeDeployService, { cluster: 'demo', service: 'web-canary' });
    expect(scaled).toMatchObject({ desiredCount: 1, runningCount: 1 });

    const refused = await run(acts.deleteCanaryService, { cluster: 'demo', canaryService: 'web' }).catch((e: unknown) => e);
    expect((refused as ApplicationFailure).message).toBe('refusing to delete web: not a canary service');
    await run(acts.deleteCanaryService, { cluster: 'demo', canaryService: 'web-canary' });
    expect((await service('web-canary'))?.status).toBe('INACTIVE');
    expect(await run(acts.describeDeployService, { cluster: 'demo', service: 'web-canary' })).toBeNull();
    // Deleting what is gone is success (a compensation retried after a lost answer).
    await run(acts.deleteCanaryService, { cluster: 'demo', canaryService: 'web-canary' });
    expect((await service('web'))?.status).toBe('ACTIVE');
  });

  it('sets listener weights and reports what the load balancer reads back', async () => {
    const { acts, rule } = await seed();
    const set = await run(acts.setTrafficWeight, { listenerRule: rule, canaryWeight: 10 });
    expect(set).toEqual({ stableWeight: 90, canaryWeight: 10, dryRunCalls: [] });
    const read = async () => forwardWeights((await emu.aws.elbv2.send(new DescribeRulesCommand({ RuleArns: [rule.ruleArn] }))).Rules?.[0], rule.stableTargetGroupArn, rule.canaryTargetGroupArn);
    expect(await read()).toEqual({ stable: 90, canary: 10 });
    const dry = await run(acts.setTrafficWeight, { listenerRule: rule, canaryWeight: 50, dryRun: true });
    expect(dry.dryRunCalls).toEqual([{ action: 'elasticloadbalancing:ModifyRule', params: { ruleArn: rule.ruleArn, stableWeight: 50, canaryWeight: 50 } }]);
    expect(await read()).toEqual({ stable: 90, canary: 10 });
    await run(acts.setTrafficWeight, { listenerRule: rule, canaryWeight: 0 });
    expect(await read()).toEqual({ stable: 100, canary: 0 });
  });

  it('promotes the main service: ECS deployments go PRIMARY/ACTIVE IN_PROGRESS, then one COMPLETED', async () => {
    const { acts, stableTd } = await seed();
    await emu.sim.request('PUT', 'ecs-deployments/config', { rolloutMs: 60_000 });
    const rev = await run(acts.resolveDeployRevision, { cluster: 'demo', service: 'web', currentTaskDefinition: stableTd, image: 'registry.example/web:2' });
    await run(acts.updateServiceRevision, { cluster: 'demo', service: 'web', taskDefinition: rev.taskDefinitionArn });
    const during = await run(acts.describeDeployService, { cluster: 'demo', service: 'web' });
    expect(during?.deployments.map((d) => [d.status, d.taskDefinition, d.rolloutState])).toEqual([
      ['PRIMARY', rev.taskDefinitionArn, 'IN_PROGRESS'],
      ['ACTIVE', stableTd, 'IN_PROGRESS'],
    ]);
    await emu.sim.request('PUT', 'ecs-deployments/config', { rolloutMs: 0 });
    const after = await run(acts.describeDeployService, { cluster: 'demo', service: 'web' });
    expect(after?.deployments.map((d) => [d.status, d.taskDefinition, d.rolloutState, d.runningCount])).toEqual([['PRIMARY', rev.taskDefinitionArn, 'COMPLETED', 2]]);
    expect(after?.runningCount).toBe(2);
  });

  it('analysis: alarms, metric checks against thresholds and stable, and canary tasks that fail', async () => {
    const { acts, stableTd } = await seed();
    await emu.sim.request('POST', 'ecs-deployments/failing-revisions', { match: 'registry.example/web:bad' });
    const rev = await run(acts.resolveDeployRevision, { cluster: 'demo', service: 'web', currentTaskDefinition: stableTd, image: 'registry.example/web:bad' });
    const sinceMs = Date.now() - 1000;
    await run(acts.createCanaryService, { cluster: 'demo', service: 'web', canaryService: 'web-canary', taskDefinition: rev.taskDefinitionArn, desiredCount: 1 });
    const now = new Date();
    await emu.aws.cloudwatch.send(
      new PutMetricDataCommand({
        Namespace: 'App',
        MetricData: [
          { MetricName: 'Errors', Dimensions: [{ Name: 'Service', Value: 'web-canary' }], Value: 12, Timestamp: now },
          { MetricName: 'Errors', Dimensions: [{ Name: 'Service', Value: 'web' }], Value: 2, Timestamp: now },
        ],
      }),
    );
    const input = {
      cluster: 'demo',
      service: 'web',
      canaryService: 'web-canary',
      alarms: ['web-5xx'],
      sinceMs,
      windowSeconds: 300,
      metricChecks: [
        { name: 'errors-abs', namespace: 'App', metricName: 'Errors', stat: 'Sum', dimensions: { Service: '{canary}' }, periodSeconds: 60, maxValue: 20 },
        { name: 'errors-vs-stable', namespace: 'App', metricName: 'Errors', stat: 'Sum', dimensions: { Service: '{canary}' }, periodSeconds: 60, maxRatioToStable: 2 },
        { name: 'latency', namespace: 'App', metricName: 'LatencyP99', stat: 'p99', dimensions: { Service: '{canary}' }, periodSeconds: 60, maxValue: 1 },
      ],
    };
    // Several rollout rounds: each starts a canary task that exits; the third trips the circuit breaker.
    for (let i = 0; i < 3; i++) await run(acts.describeDeployService, { cluster: 'demo', service: 'web-canary' });
    const a = await run(acts.analyzeCanary, input);
    expect(a.alarms.map((x) => x.name)).toEqual(['web-5xx']);
    expect(a.metrics.map((m) => [m.name, m.verdict, m.value, m.stableValue])).toEqual([
      ['errors-abs', 'pass', 12, undefined],
      ['errors-vs-stable', 'fail', 12, 2],
      ['latency', 'inconclusive', undefined, undefined],
    ]);
    expect(a.stoppedTasks.length).toBeGreaterThanOrEqual(3);
    expect(a.stoppedTasks[0]).toMatchObject({ taskDefinition: rev.taskDefinitionArn, stopCode: 'EssentialContainerExited' });
    expect(a.canary).toMatchObject({ runningCount: 0, desiredCount: 1, rolloutState: 'FAILED' });

    await emu.sim.request('POST', 'ecs-deployments/alarm-schedule', { alarmName: 'web-5xx', state: 'ALARM', reason: 'canary 5xx', afterMs: 0 });
    await emu.sim.tick('ecs-deployments');
    const b = await run(acts.analyzeCanary, { ...input, sinceMs: Date.now() + 60_000 });
    expect(b.alarms).toEqual([{ name: 'web-5xx', state: 'ALARM', reason: 'canary 5xx' }]);
    // Tasks that stopped before `sinceMs` were reported by an earlier run and are not counted again.
    expect(b.stoppedTasks).toEqual([]);
  });

  it('healthy canary tasks of a good revision are not reported as stopped when scaled in', async () => {
    const { acts, stableTd } = await seed();
    const rev = await run(acts.resolveDeployRevision, { cluster: 'demo', service: 'web', currentTaskDefinition: stableTd, image: 'registry.example/web:2' });
    const sinceMs = Date.now() - 1000;
    await run(acts.createCanaryService, { cluster: 'demo', service: 'web', canaryService: 'web-canary', taskDefinition: rev.taskDefinitionArn, desiredCount: 2 });
    expect(await run(acts.describeDeployService, { cluster: 'demo', service: 'web-canary' })).toMatchObject({ runningCount: 2 });
    await run(acts.scaleService, { cluster: 'demo', service: 'web-canary', desiredCount: 1 });
    const a = await run(acts.analyzeCanary, { cluster: 'demo', service: 'web', canaryService: 'web-canary', alarms: [], metricChecks: [], sinceMs, windowSeconds: 60 });
    expect(a.canary).toMatchObject({ runningCount: 1, desiredCount: 1, rolloutState: 'COMPLETED' });
    expect(a.stoppedTasks).toEqual([]);
  });

  it('builds the incident freeze query for the cluster', () => {
    expect(blockingIncidentsQuery("demo")).toBe(
      "FleetopsKind = 'incident' AND FleetopsCluster = 'demo' AND FleetopsSeverity IN ('sev1', 'sev2') AND " +
        "(FleetopsPhase IS NULL OR FleetopsPhase NOT IN ('postmortem', 'postmortem-overdue', 'closed', 'aborted')) AND ExecutionStatus = 'Running'",
    );
  });
});
