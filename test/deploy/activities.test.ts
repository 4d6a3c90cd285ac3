import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateCapacityProviderCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ListContainerInstancesCommand,
  ListTaskDefinitionsCommand,
  ListTagsForResourceCommand,
  type Service,
  PutClusterCapacityProvidersCommand,
  RegisterTaskDefinitionCommand,
  UpdateContainerInstancesStateCommand,
} from '@aws-sdk/client-ecs';
import { DescribeRulesCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createDeployActivities, type DeployActivities } from '../../activities/deploy';
import { forwardWeights } from '../../activities/deploy/traffic';
import { blockingIncidentsQuery } from '../../activities/deploy/incidents';
import { parseConfigText } from '../../config/load';
import type { FleetopsConfig } from '../../config/schema';
import { OIDC_ACTION, STABLE_SETTINGS, STICKINESS, seedWeightedService, type WeightedService } from './weighted-service';
import { startEmulator } from '../../testkit/emulator';
import { useEmulator } from '../harness/emulator';
import { ROOT } from '../../testkit/paths';
import { untilValue } from '../../testkit/poll';

/**
 * The deploy activities against moto behind the simulator (its ecs-deployments behaviour runs ECS
 * deployments as ECS does), asserting AWS state afterwards.
 *
 * The tests run side by side (`it.concurrent`): most of their time is spent waiting on ECS rollouts
 * and ELB health checks (5 s apart). So each seeds a cluster of its own on the one emulator (never
 * reset between tests): its own service `web`, task definition family, target groups, load balancer,
 * rule, alarm and VPC range, and reads only what is its own.
 */

jest.setTimeout(120_000);

// Not reset between tests: concurrent tests share the emulator, each in its own cluster.
const emu = useEmulator(() => startEmulator(), { resetEach: false });
let baseConfig: FleetopsConfig;

beforeAll(async () => {
  baseConfig = parseConfigText(readFileSync(join(ROOT, 'test', 'fixtures', 'fleetops.valid.yaml'), 'utf8'));
  // Deployments roll out on the next read: the tests assert states, not wall-clock waits. Set once
  // for every cluster; the one test that needs a slow rollout sets it for its own cluster only.
  await emu.sim.request('PUT', 'ecs-deployments/config', { rolloutMs: 0 });
});

interface Seeded extends WeightedService {
  acts: DeployActivities;
  cluster: string;
  /** The task definition family of the cluster's `web`. */
  family: string;
  alarm: string;
  /** The cluster's ECS service of that name, as DescribeServices returns it. */
  service(name: string): Promise<Service | undefined>;
}

let seeded = 0;

/**
 * A cluster of the test's own (`demo01`, `demo02`, …: names of one length, so that no family name is
 * the prefix of another), service `web` (2 tasks of its family's revision 1 in the stable target
 * group), an ALB rule forwarding to it, alarm `<cluster>-web-5xx`.
 * `steady: false` for tests that read only the rule, task definitions and config: it skips the wait
 * (one health-check interval) for ECS to have web steady.
 */
async function seed(opts: { steady?: boolean; canaryInRule?: boolean } = {}): Promise<Seeded> {
  seeded += 1;
  const cluster = `demo${String(seeded).padStart(2, '0')}`;
  const family = `${cluster}-web`;
  const alarm = `${cluster}-web-5xx`;
  const { stableTd, rule } = await seedWeightedService(emu.aws, {
    ...opts,
    cluster,
    family,
    cidrOctet: 10 + seeded,
    containerName: 'app',
    desiredCount: 2,
    stableTargetGroupName: `${cluster}-web`,
    canaryTargetGroupName: `${cluster}-web-canary`,
    alarmName: alarm,
    networkMode: 'bridge',
    launchType: 'EC2',
    tags: [{ key: 'team', value: 'flyers' }],
  });
  const config: FleetopsConfig = {
    ...baseConfig,
    services: [
      {
        cluster,
        name: 'web',
        images: ['registry.example/web'],
        canary: { ...baseConfig.services[0]!.canary, alarms: [alarm], listenerRule: rule },
      },
    ],
  };
  const service = async (name: string) => {
    const out = await emu.aws.ecs.send(new DescribeServicesCommand({ cluster, services: [name] }));
    return out.services?.find((s) => s.serviceName === name);
  };
  return { stableTd, rule, cluster, family, alarm, service, acts: createDeployActivities({ aws: emu.worker, config }) };
}

async function run<A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> {
  return new MockActivityEnvironment().run(fn, ...args);
}

describe('deploy activities against moto + simulator', () => {
  it.concurrent('reads the plan from config and refuses a service it does not know', async () => {
    const { acts, cluster } = await seed({ steady: false });
    const plan = await run(acts.resolveDeployPlan, { cluster, service: 'web' });
    expect(plan.canaryService).toBe('web-canary');
    expect(plan.plan.listenerRule?.ruleArn).toMatch(/^arn:aws:elasticloadbalancing:/);
    const err = await run(acts.resolveDeployPlan, { cluster, service: 'api' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('InvalidRequest');
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
  });

  it.concurrent('sees the stable service healthy once ECS (the simulator) has rolled it out, and alarm states', async () => {
    const { acts, stableTd, cluster, alarm } = await seed();
    const snap = await run(acts.describeDeployService, { cluster, service: 'web' });
    expect(snap).toMatchObject({ serviceName: 'web', taskDefinition: stableTd, desiredCount: 2, runningCount: 2 });
    expect(snap?.deployments).toEqual([expect.objectContaining({ status: 'PRIMARY', rolloutState: 'COMPLETED', taskDefinition: stableTd, runningCount: 2 })]);
    expect(await run(acts.describeDeployService, { cluster, service: 'nope' })).toBeNull();
    const alarms = await run(acts.describeAlarmStates, { alarmNames: [alarm, 'no-such-alarm'] });
    expect(alarms.map((a) => [a.name, a.state])).toEqual([
      [alarm, expect.stringMatching(/^(OK|INSUFFICIENT_DATA)$/)],
      ['no-such-alarm', 'MISSING'],
    ]);
  });

  it.concurrent('registers a revision with the image replaced (dry run registers nothing), or checks a given ARN', async () => {
    const { acts, stableTd, cluster, family } = await seed({ steady: false });
    const dry = await run(acts.resolveDeployRevision, { cluster, service: 'web', currentTaskDefinition: stableTd, image: 'registry.example/web:2', dryRun: true });
    expect(dry.dryRunCalls.map((c) => c.action)).toEqual(['ecs:RegisterTaskDefinition']);
    expect((await emu.aws.ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: family }))).taskDefinitionArns).toHaveLength(1);

    const rev = await run(acts.resolveDeployRevision, { cluster, service: 'web', currentTaskDefinition: stableTd, image: 'registry.example/web:2' });
    expect(rev.registered).toBe(true);
    expect(rev.taskDefinitionArn).toMatch(new RegExp(`task-definition/${family}:2$`));
    const td = (await emu.aws.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: rev.taskDefinitionArn }))).taskDefinition!;
    expect(td.containerDefinitions?.map((c) => [c.name, c.image, c.portMappings?.[0]?.containerPort])).toEqual([['app', 'registry.example/web:2', 8080]]);
    expect(td.networkMode).toBe('bridge');

    const same = await run(acts.resolveDeployRevision, { cluster, service: 'web', currentTaskDefinition: stableTd, image: 'registry.example/web:1' });
    expect(same).toEqual({ taskDefinitionArn: stableTd, registered: false, dryRunCalls: [] });
    const given = await run(acts.resolveDeployRevision, { cluster, service: 'web', currentTaskDefinition: stableTd, taskDefinition: rev.taskDefinitionArn });
    expect(given.taskDefinitionArn).toBe(rev.taskDefinitionArn);
    const wrongContainer = await run(acts.resolveDeployRevision, {
      cluster,
      service: 'web',
      currentTaskDefinition: stableTd,
      image: 'registry.example/web:9',
      container: 'sidecar',
    }).catch((e: unknown) => e);
    expect((wrongContainer as ApplicationFailure).message).toBe(`task definition ${family} has no container "sidecar" (has app)`);

    // The last check before RegisterTaskDefinition: an image outside web's repositories registers nothing,
    // and a given revision whose containers run one is refused too.
    // Other tests register revisions meanwhile (in their own families): the family's revisions, and
    // every RegisterTaskDefinition the simulator answered (none may carry the image), say nothing was.
    const families = async () => (await emu.aws.ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: family }))).taskDefinitionArns ?? [];
    const registrationsOf = async (image: string) => (await emu.sim.calls({ action: 'RegisterTaskDefinition' })).filter((c) => JSON.stringify(c.params).includes(image));
    const registered = await families();
    const foreign = await run(acts.resolveDeployRevision, { cluster, service: 'web', currentTaskDefinition: stableTd, image: 'registry.evil.example/backdoor:1' }).catch((e: unknown) => e);
    expect(foreign).toBeInstanceOf(ApplicationFailure);
    expect((foreign as ApplicationFailure).message).toBe(`image repository registry.evil.example/backdoor is not one ${cluster}/web may run (services[].images: registry.example/web)`);
    expect((foreign as ApplicationFailure).nonRetryable).toBe(true);
    expect(await families()).toEqual(registered);
    expect(await registrationsOf('registry.evil.example/backdoor:1')).toEqual([]);
    const elsewhere = await emu.aws.ecs.send(
      new RegisterTaskDefinitionCommand({ family: 'other', containerDefinitions: [{ name: 'app', image: 'registry.evil.example/backdoor:1', memory: 64 }] }),
    );
    const otherTd = elsewhere.taskDefinition!.taskDefinitionArn!;
    const borrowed = await run(acts.resolveDeployRevision, { cluster, service: 'web', currentTaskDefinition: stableTd, taskDefinition: otherTd }).catch((e: unknown) => e);
    expect((borrowed as ApplicationFailure).message).toBe(
      `task definition ${otherTd}, container app: image repository registry.evil.example/backdoor is not one ${cluster}/web may run (services[].images: registry.example/web)`,
    );
  });

  it.concurrent('creates the canary with the stable settings in the canary target group, scales it, and deletes it', async () => {
    const { acts, rule, cluster, service } = await seed();
    const rev = await run(acts.resolveDeployRevision, { cluster, service: 'web', currentTaskDefinition: (await service('web'))!.taskDefinition!, image: 'registry.example/web:2' });
    await run(acts.createCanaryService, {
      cluster,
      service: 'web',
      canaryService: 'web-canary',
      taskDefinition: rev.taskDefinitionArn,
      desiredCount: 0,
      canaryTargetGroupArn: rule.canaryTargetGroupArn,
      stableTargetGroupArn: rule.stableTargetGroupArn,
    });
    // A retried create (answer lost) finds the canary and moves it instead of failing.
    await run(acts.createCanaryService, {
      cluster,
      service: 'web',
      canaryService: 'web-canary',
      taskDefinition: rev.taskDefinitionArn,
      desiredCount: 0,
      canaryTargetGroupArn: rule.canaryTargetGroupArn,
      stableTargetGroupArn: rule.stableTargetGroupArn,
    });
    const canary = await service('web-canary');
    expect(canary?.taskDefinition).toBe(rev.taskDefinitionArn);
    expect(canary?.loadBalancers).toEqual([expect.objectContaining({ targetGroupArn: rule.canaryTargetGroupArn, containerName: 'app', containerPort: 8080 })]);
    expect(canary?.launchType).toBe('EC2');
    // The stable service's placement and grace period, and ECS's circuit breaker: a canary whose tasks
    // cannot start must end FAILED (and say so on EventBridge), not retry forever.
    expect(canary).toMatchObject({
      placementStrategy: STABLE_SETTINGS.placementStrategy,
      healthCheckGracePeriodSeconds: STABLE_SETTINGS.healthCheckGracePeriodSeconds,
      deploymentConfiguration: { ...STABLE_SETTINGS.deploymentConfiguration, deploymentCircuitBreaker: { enable: true, rollback: false } },
    });
    const tags = (await emu.aws.ecs.send(new ListTagsForResourceCommand({ resourceArn: canary!.serviceArn! }))).tags;
    expect(tags).toEqual(expect.arrayContaining([{ key: 'fleetops:canary-of', value: 'web' }, { key: 'team', value: 'flyers' }]));

    await run(acts.scaleService, { cluster, service: 'web-canary', desiredCount: 1 });
    const scaled = await untilValue('canary running', () => run(acts.describeDeployService, { cluster, service: 'web-canary' }), (x) => x?.runningCount === 1, { timeoutMs: 60_000, intervalMs: 250 });
    expect(scaled).toMatchObject({ desiredCount: 1, runningCount: 1 });

    const refused = await run(acts.deleteCanaryService, { cluster, canaryService: 'web' }).catch((e: unknown) => e);
    expect((refused as ApplicationFailure).message).toBe('refusing to delete web: not a canary service');
    await run(acts.deleteCanaryService, { cluster, canaryService: 'web-canary' });
    expect((await service('web-canary'))?.status).toBe('INACTIVE');
    expect(await run(acts.describeDeployService, { cluster, service: 'web-canary' })).toBeNull();
    // Deleting what is gone is success (a compensation retried after a lost answer).
    await run(acts.deleteCanaryService, { cluster, canaryService: 'web-canary' });
    expect((await service('web'))?.status).toBe('ACTIVE');
  });

  it.concurrent('gives the canary the capacity provider strategy of a stable service that runs on one (and no launch type)', async () => {
    const { acts, cluster, service } = await seed({ steady: false });
    const strategy = [{ capacityProvider: `${cluster}-spot`, weight: 1, base: 0 }];
    await emu.aws.ecs.send(
      new CreateCapacityProviderCommand({
        name: `${cluster}-spot`,
        autoScalingGroupProvider: { autoScalingGroupArn: `arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:1a2b:autoScalingGroupName/${cluster}-spot` },
      }),
    );
    await emu.aws.ecs.send(new PutClusterCapacityProvidersCommand({ cluster, capacityProviders: [`${cluster}-spot`], defaultCapacityProviderStrategy: strategy }));
    const td = (await service('web'))!.taskDefinition!;
    await emu.aws.ecs.send(new CreateServiceCommand({ cluster, serviceName: 'api', taskDefinition: td, desiredCount: 1, capacityProviderStrategy: strategy }));
    await run(acts.createCanaryService, { cluster, service: 'api', canaryService: 'api-canary', taskDefinition: td, desiredCount: 0 });
    const canary = await service('api-canary');
    expect(canary?.capacityProviderStrategy).toEqual(strategy);
    expect(canary?.launchType).toBeUndefined();
  });

  it.concurrent('sets listener weights and reports what the load balancer reads back', async () => {
    const { acts, rule } = await seed({ steady: false });
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

  it.concurrent('changes only the forward weights: the authentication action, the order and stickiness stay, and the secret is kept', async () => {
    const { acts, rule } = await seed({ steady: false });
    const readRule = async () => (await emu.aws.elbv2.send(new DescribeRulesCommand({ RuleArns: [rule.ruleArn] }))).Rules![0]!;
    const before = await readRule();
    await run(acts.setTrafficWeight, { listenerRule: rule, canaryWeight: 25 });
    const during = await readRule();
    const { ClientSecret: _secret, ...oidcConfig } = OIDC_ACTION.AuthenticateOidcConfig;
    expect(during.Actions?.map((a) => [a.Order, a.Type])).toEqual([
      [1, 'authenticate-oidc'],
      [2, 'forward'],
    ]);
    expect(during.Actions?.[0]?.AuthenticateOidcConfig).toMatchObject(oidcConfig);
    expect(during.Actions?.[1]?.ForwardConfig).toEqual({
      TargetGroups: [
        { TargetGroupArn: rule.stableTargetGroupArn, Weight: 75 },
        { TargetGroupArn: rule.canaryTargetGroupArn, Weight: 25 },
      ],
      TargetGroupStickinessConfig: STICKINESS,
    });
    expect(during.Conditions).toEqual(before.Conditions);
    const secrets = async () => (await emu.sim.request<{ clientSecrets: Record<string, string> }>('GET', 'elb-rules')).clientSecrets;
    expect((await secrets())[rule.ruleArn]).toBe(OIDC_ACTION.AuthenticateOidcConfig.ClientSecret);
  });

  it.concurrent('snapshots the rule before the deploy and restores exactly that; refuses a rule that does not forward to stable', async () => {
    const { acts, rule } = await seed({ steady: false });
    const readRule = async () => (await emu.aws.elbv2.send(new DescribeRulesCommand({ RuleArns: [rule.ruleArn] }))).Rules![0]!;
    const before = await readRule();
    const snapshot = await run(acts.readListenerRule, { listenerRule: rule });
    expect(snapshot).toEqual({ ruleArn: rule.ruleArn, actions: before.Actions });
    expect(JSON.stringify(snapshot)).not.toContain(OIDC_ACTION.AuthenticateOidcConfig.ClientSecret);
    await run(acts.setTrafficWeight, { listenerRule: rule, canaryWeight: 50 });
    const restored = await run(acts.restoreListenerRule, { listenerRule: rule, snapshot });
    expect(restored).toEqual({ stableWeight: 100, canaryWeight: 0, dryRunCalls: [] });
    expect(await readRule()).toEqual(before);
    const secrets = (await emu.sim.request<{ clientSecrets: Record<string, string> }>('GET', 'elb-rules')).clientSecrets;
    expect(secrets[rule.ruleArn]).toBe(OIDC_ACTION.AuthenticateOidcConfig.ClientSecret);

    const elsewhere = { ...rule, stableTargetGroupArn: `${rule.stableTargetGroupArn}-elsewhere` };
    const refused = await run(acts.readListenerRule, { listenerRule: elsewhere }).catch((e: unknown) => e);
    expect((refused as ApplicationFailure).message).toBe(
      `listener rule ${rule.ruleArn} forwards to ${rule.stableTargetGroupArn}, ${rule.canaryTargetGroupArn}, not to the plan's stable target group ${elsewhere.stableTargetGroupArn}`,
    );
    expect((refused as ApplicationFailure).nonRetryable).toBe(true);
  });

  it.concurrent('refuses a rule whose canary target group no load balancer uses, before anything changes (ECS would refuse the canary service)', async () => {
    const { acts, rule, cluster, service } = await seed({ steady: false, canaryInRule: false });
    const refused = await run(acts.readListenerRule, { listenerRule: rule }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApplicationFailure);
    expect((refused as ApplicationFailure).message).toBe(
      `canary target group ${rule.canaryTargetGroupArn} has no load balancer (no listener forwards to it; listener rule ${rule.ruleArn} forwards only to ` +
        `${rule.stableTargetGroupArn}): ECS cannot create the canary service in it. Add it to the rule's forward action at weight 0, then deploy again`,
    );
    expect((refused as ApplicationFailure).nonRetryable).toBe(true);
    // What the check spares the deploy: ECS refusing the canary service.
    const created = await run(acts.createCanaryService, {
      cluster,
      service: 'web',
      canaryService: 'web-canary',
      taskDefinition: (await service('web'))!.taskDefinition!,
      desiredCount: 0,
      canaryTargetGroupArn: rule.canaryTargetGroupArn,
      stableTargetGroupArn: rule.stableTargetGroupArn,
    }).catch((e: Error) => e.message);
    expect(created).toContain('does not have an associated load balancer');
  });

  it.concurrent('reads where the canary stands in its target groups: initial, then healthy; only its own targets in a shared group', async () => {
    const { acts, rule, stableTd, cluster, service } = await seed();
    const rev = await run(acts.resolveDeployRevision, { cluster, service: 'web', currentTaskDefinition: stableTd, image: 'registry.example/web:2' });
    const sinceMs = Date.now();
    await run(acts.createCanaryService, { cluster, service: 'web', canaryService: 'web-canary', taskDefinition: rev.taskDefinitionArn, desiredCount: 1, ...rule });
    const targets = () => run(acts.describeServiceTargets, { cluster, service: 'web-canary', sinceMs });
    const registered = await untilValue('canary target registered', targets, (t) => t.groups[0]?.states.length === 1, { timeoutMs: 60_000, intervalMs: 250 });
    expect(registered).toMatchObject({ desiredCount: 1, runningCount: 1, groups: [{ targetGroupArn: rule.canaryTargetGroupArn, healthy: 0, states: [{ state: 'initial', reason: 'Elb.InitialHealthChecking' }] }] });
    const healthy = await untilValue('canary target healthy', targets, (t) => t.groups[0]?.healthy === 1, { timeoutMs: 60_000, intervalMs: 250 });
    expect(healthy.groups[0]?.states[0]?.target).toMatch(/^i-[0-9a-f]+:\d+$/);
    expect(healthy.stoppedTasks).toEqual([]);
    await run(acts.deleteCanaryService, { cluster, canaryService: 'web-canary' });

    // Sharing the stable target group (no listener rule): the canary's one target among stable's two.
    await untilValue('canary gone', () => service('web-canary'), (s) => s === undefined || s.status === 'INACTIVE', { timeoutMs: 60_000, intervalMs: 250 });
    await run(acts.createCanaryService, { cluster, service: 'web', canaryService: 'web-canary', taskDefinition: rev.taskDefinitionArn, desiredCount: 1 });
    const shared = await untilValue('shared canary target healthy', targets, (t) => t.groups[0]?.healthy === 1, { timeoutMs: 60_000, intervalMs: 250 });
    expect(shared.groups).toEqual([expect.objectContaining({ targetGroupArn: rule.stableTargetGroupArn, healthy: 1, states: [expect.objectContaining({ state: 'healthy' })] })]);
  });

  it.concurrent('reports canary targets that fail health checks, and the task ECS stops for it after the grace period', async () => {
    const { acts, rule, stableTd, cluster } = await seed();
    await emu.sim.request('POST', 'ecs-deployments/failing-revisions', { match: 'registry.example/web:sick', mode: 'unhealthy' });
    const rev = await run(acts.resolveDeployRevision, { cluster, service: 'web', currentTaskDefinition: stableTd, image: 'registry.example/web:sick' });
    const sinceMs = Date.now();
    await run(acts.createCanaryService, { cluster, service: 'web', canaryService: 'web-canary', taskDefinition: rev.taskDefinitionArn, desiredCount: 1, ...rule });
    const targets = () => run(acts.describeServiceTargets, { cluster, service: 'web-canary', sinceMs });
    const sick = await untilValue('canary target unhealthy', targets, (t) => t.groups[0]?.states[0]?.state === 'unhealthy', { timeoutMs: 60_000, intervalMs: 250 });
    expect(sick.groups[0]).toMatchObject({ healthy: 0, states: [{ state: 'unhealthy', reason: 'Target.ResponseCodeMismatch' }] });
    const stopped = await untilValue('unhealthy canary task stopped', targets, (t) => t.stoppedTasks.length > 0, { timeoutMs: 90_000, intervalMs: 250 });
    expect(stopped.stoppedTasks[0]).toMatchObject({ stopCode: 'ServiceSchedulerInitiated', stoppedReason: `Task failed ELB health checks in (target-group ${rule.canaryTargetGroupArn})` });
  });

  it.concurrent('places canary tasks only where there is room: not on DRAINING instances, and not at all when nothing fits', async () => {
    const { acts, stableTd, cluster, family, service } = await seed();
    const cis = (await emu.aws.ecs.send(new ListContainerInstancesCommand({ cluster }))).containerInstanceArns!;
    // Two of the three instances are being drained (spot interruptions, say).
    await emu.aws.ecs.send(new UpdateContainerInstancesStateCommand({ cluster, containerInstances: cis.slice(1), status: 'DRAINING' }));
    const rev = await run(acts.resolveDeployRevision, { cluster, service: 'web', currentTaskDefinition: stableTd, image: 'registry.example/web:2' });
    await run(acts.createCanaryService, { cluster, service: 'web', canaryService: 'web-canary', taskDefinition: rev.taskDefinitionArn, desiredCount: 2 });
    await untilValue('canary running', () => run(acts.describeDeployService, { cluster, service: 'web-canary' }), (x) => x?.runningCount === 2, { timeoutMs: 60_000, intervalMs: 250 });
    const tracked = await emu.sim.request<{ services: { cluster: string; serviceName: string; tasks: { lastStatus: string; containerInstanceArn: string }[] }[] }>('GET', 'ecs-deployments/services');
    const placed = tracked.services.find((x) => x.cluster === cluster && x.serviceName === 'web-canary')!.tasks.filter((t) => t.lastStatus !== 'STOPPED');
    expect(placed.map((t) => t.containerInstanceArn)).toEqual([cis[0], cis[0]]);
    await run(acts.deleteCanaryService, { cluster, canaryService: 'web-canary' });

    // A revision that needs more memory than any ACTIVE instance has left never starts: ECS says why.
    const big = await emu.aws.ecs.send(
      new RegisterTaskDefinitionCommand({ family, containerDefinitions: [{ name: 'app', image: 'registry.example/web:big', cpu: 128, memory: 16_000, portMappings: [{ containerPort: 8080 }] }] }),
    );
    await untilValue('canary gone', () => service('web-canary'), (x) => x === undefined || x.status === 'INACTIVE', { timeoutMs: 60_000, intervalMs: 250 });
    await run(acts.createCanaryService, { cluster, service: 'web', canaryService: 'web-canary', taskDefinition: big.taskDefinition!.taskDefinitionArn!, desiredCount: 1 });
    // This cluster's canary (service ARNs end in <cluster>/<service>).
    const placementFailure = (e: { resources: string[]; detail: { eventName: string } }) =>
      e.detail.eventName === 'SERVICE_TASK_PLACEMENT_FAILURE' && e.resources[0]!.endsWith(`/${cluster}/web-canary`);
    const said = await untilValue(
      'placement failure event',
      async () => (await emu.sim.request<{ events: { resources: string[]; detail: { eventName: string; reason?: string } }[] }>('GET', 'events')).events,
      (evs) => evs.some(placementFailure),
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(said.find(placementFailure)?.detail.reason).toMatch(/RESOURCE:MEMORY$/);
    expect(await run(acts.describeDeployService, { cluster, service: 'web-canary' })).toMatchObject({ runningCount: 0, pendingCount: 0, desiredCount: 1 });
  });

  it.concurrent('promotes the main service: ECS deployments go PRIMARY IN_PROGRESS beside the old one, then one COMPLETED', async () => {
    const { acts, stableTd, cluster } = await seed();
    // Only this cluster's tasks take a minute to run: the others' tests go on rolling out at once.
    await emu.sim.request('PUT', 'ecs-deployments/config', { cluster, rolloutMs: 60_000 });
    const rev = await run(acts.resolveDeployRevision, { cluster, service: 'web', currentTaskDefinition: stableTd, image: 'registry.example/web:2' });
    await run(acts.updateServiceRevision, { cluster, service: 'web', taskDefinition: rev.taskDefinitionArn });
    const during = await run(acts.describeDeployService, { cluster, service: 'web' });
    expect(during?.deployments.map((d) => [d.status, d.taskDefinition, d.rolloutState, d.runningCount])).toEqual([
      ['PRIMARY', rev.taskDefinitionArn, 'IN_PROGRESS', 0],
      ['ACTIVE', stableTd, 'COMPLETED', 2],
    ]);
    await emu.sim.request('PUT', 'ecs-deployments/config', { cluster, rolloutMs: 0 });
    const after = await untilValue('promotion completed', () => run(acts.describeDeployService, { cluster, service: 'web' }), (x) => x?.deployments.length === 1 && x.deployments[0]?.rolloutState === 'COMPLETED', { timeoutMs: 60_000, intervalMs: 250 });
    expect(after?.deployments.map((d) => [d.status, d.taskDefinition, d.rolloutState, d.runningCount])).toEqual([['PRIMARY', rev.taskDefinitionArn, 'COMPLETED', 2]]);
    expect(after?.runningCount).toBe(2);
  });

  it.concurrent('analysis: alarms, metric checks against thresholds and stable, and canary tasks that fail', async () => {
    const { acts, stableTd, cluster, alarm } = await seed();
    await emu.sim.request('POST', 'ecs-deployments/failing-revisions', { match: 'registry.example/web:bad' });
    const rev = await run(acts.resolveDeployRevision, { cluster, service: 'web', currentTaskDefinition: stableTd, image: 'registry.example/web:bad' });
    const sinceMs = Date.now() - 1000;
    await run(acts.createCanaryService, { cluster, service: 'web', canaryService: 'web-canary', taskDefinition: rev.taskDefinitionArn, desiredCount: 1 });
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
      cluster,
      service: 'web',
      canaryService: 'web-canary',
      alarms: [alarm],
      sinceMs,
      windowSeconds: 300,
      metricChecks: [
        { name: 'errors-abs', namespace: 'App', metricName: 'Errors', stat: 'Sum', dimensions: { Service: '{canary}' }, periodSeconds: 60, maxValue: 20 },
        { name: 'errors-vs-stable', namespace: 'App', metricName: 'Errors', stat: 'Sum', dimensions: { Service: '{canary}' }, periodSeconds: 60, maxRatioToStable: 2 },
        { name: 'latency', namespace: 'App', metricName: 'LatencyP99', stat: 'p99', dimensions: { Service: '{canary}' }, periodSeconds: 60, maxValue: 1 },
      ],
    };
    // Rollout rounds: each starts a canary task that exits; the third trips the canary's circuit breaker.
    await untilValue('canary FAILED', () => run(acts.describeDeployService, { cluster, service: 'web-canary' }), (x) => x?.deployments[0]?.rolloutState === 'FAILED', { timeoutMs: 60_000, intervalMs: 250 });
    const a = await run(acts.analyzeCanary, input);
    expect(a.alarms.map((x) => x.name)).toEqual([alarm]);
    expect(a.metrics.map((m) => [m.name, m.verdict, m.value, m.stableValue])).toEqual([
      ['errors-abs', 'pass', 12, undefined],
      ['errors-vs-stable', 'fail', 12, 2],
      ['latency', 'inconclusive', undefined, undefined],
    ]);
    expect(a.stoppedTasks.length).toBeGreaterThanOrEqual(3);
    expect(a.stoppedTasks[0]).toMatchObject({ taskDefinition: rev.taskDefinitionArn, stopCode: 'EssentialContainerExited' });
    expect(a.canary).toMatchObject({ runningCount: 0, desiredCount: 1, rolloutState: 'FAILED' });

    await emu.sim.request('POST', 'ecs-deployments/alarm-schedule', { alarmName: alarm, state: 'ALARM', reason: 'canary 5xx', afterMs: 0 });
    await emu.sim.tick('ecs-deployments');
    const b = await run(acts.analyzeCanary, { ...input, sinceMs: Date.now() + 60_000 });
    expect(b.alarms).toEqual([{ name: alarm, state: 'ALARM', reason: 'canary 5xx' }]);
    // Tasks that stopped before `sinceMs` were reported by an earlier run and are not counted again.
    expect(b.stoppedTasks).toEqual([]);
  });

  it.concurrent('healthy canary tasks of a good revision are not reported as stopped when scaled in', async () => {
    const { acts, stableTd, cluster } = await seed();
    const rev = await run(acts.resolveDeployRevision, { cluster, service: 'web', currentTaskDefinition: stableTd, image: 'registry.example/web:2' });
    const sinceMs = Date.now() - 1000;
    await run(acts.createCanaryService, { cluster, service: 'web', canaryService: 'web-canary', taskDefinition: rev.taskDefinitionArn, desiredCount: 2 });
    await untilValue('canary steady', () => run(acts.describeDeployService, { cluster, service: 'web-canary' }), (x) => x?.deployments[0]?.rolloutState === 'COMPLETED', { timeoutMs: 60_000, intervalMs: 250 });
    await run(acts.scaleService, { cluster, service: 'web-canary', desiredCount: 1 });
    await untilValue('canary scaled in', () => run(acts.describeDeployService, { cluster, service: 'web-canary' }), (x) => x?.runningCount === 1, { timeoutMs: 60_000, intervalMs: 250 });
    const a = await run(acts.analyzeCanary, { cluster, service: 'web', canaryService: 'web-canary', alarms: [], metricChecks: [], sinceMs, windowSeconds: 60 });
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
