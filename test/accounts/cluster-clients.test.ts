import { AWS_APP_IDS } from '../../common/aws-app-ids';
import { CreateAutoScalingGroupCommand, DescribeAutoScalingGroupsCommand, SetDesiredCapacityCommand } from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateCommand, DescribeImagesCommand } from '@aws-sdk/client-ec2';
import { CreateClusterCommand, DescribeContainerInstancesCommand } from '@aws-sdk/client-ecs';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { createAwsClients, type AwsClients } from '../../activities/aws/clients';
import { assumedRoleCredentials, createClusterClients, type ClusterClients } from '../../activities/aws/cluster-clients';
import { createCapacityActivities } from '../../activities/capacity';
import { createDrainActivities } from '../../activities/drain';
import { addContainerInstances } from '../harness/container-instances';
import { FailureType } from '../../common/failures';
import { parseConfig } from '../../config/load';
import type { FleetopsConfig } from '../../config/schema';
import { createRole, createWorkerRole, HOME_ACCOUNT, MEMBER_ACCOUNT, OTHER_ACCOUNT, roleArnIn, trustPolicy } from '../harness/accounts';
import { startEmulator } from '../../testkit/emulator';
import { useEmulator } from '../harness/emulator';
import { ROOT } from '../../testkit/paths';
import { workerRoleSession } from '../../stack/worker-role';

/**
 * Activities acting on clusters in other accounts and regions (activities/aws/cluster-clients.ts):
 * the same activity code, given `clientsFor`, acts in the cluster's account and region with the
 * credentials of its role; AWS state is read back per account. A role that cannot be assumed fails
 * that cluster's calls, not retried, naming the role.
 */

/**
 * The worker's (its app id: the IAM proof records their calls) and the test's own, for seeding and
 * reading back. Both sign with a session of the worker's role, as the worker in ECS does: the member
 * role's trust admits that role only.
 */
let clusters: ClusterClients | undefined;
let seeding: ClusterClients | undefined;
let own: AwsClients[] = [];
const destroyClients = () => {
  clusters?.destroy();
  seeding?.destroy();
  for (const c of own) c.destroy();
  own = [];
};
// Declared before useEmulator: afterAll hooks run in the order declared, and the clients go before the emulator stops.
afterAll(destroyClients);
const clientsFor = async (config: FleetopsConfig) => {
  destroyClients();
  const credentials = await workerRoleSession(emu.motoUrl, roleArnIn(HOME_ACCOUNT, 'fleetops-worker'));
  const workerOwn = createAwsClients({ region: emu.region, endpoint: emu.endpoint, appId: AWS_APP_IDS.worker, credentials });
  const seedingOwn = createAwsClients({ region: emu.region, endpoint: emu.endpoint, credentials });
  own = [workerOwn, seedingOwn];
  clusters = createClusterClients(config, workerOwn, { endpoint: emu.endpoint, appId: AWS_APP_IDS.worker });
  seeding = createClusterClients(config, seedingOwn, { endpoint: emu.endpoint });
  return { worker: clusters, seeding, workerOwn };
};
/** The worker's role, and a member role whose trust names it (the member kit's). */
async function roles(): Promise<string> {
  await emu.reset();
  const workerRole = await createWorkerRole(emu.motoUrl);
  return createRole(emu.motoUrl, MEMBER_ACCOUNT, 'fleetops-member', trustPolicy({ principal: workerRole, externalId: EXTERNAL_ID }));
}
// Each test resets the emulator where it builds its accounts.
const emu = useEmulator(() => startEmulator({ autoTick: false }), { resetEach: false });

const run = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> => new MockActivityEnvironment().run(fn, ...args);
const EXTERNAL_ID = 'fleetops-7f3a';

async function seedAsg(aws: AwsClients, region: string, cluster: string, asg: string): Promise<void> {
  await aws.ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  const image = (await aws.ec2.send(new DescribeImagesCommand({}))).Images?.[0]?.ImageId;
  const lt = await aws.ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: `${cluster}-node`, LaunchTemplateData: { ImageId: image, InstanceType: 'm5.large' }, TagSpecifications: [{ ResourceType: 'launch-template', Tags: [{ Key: 'fleetops:pool', Value: 'on-demand' }] }] }));
  await aws.autoscaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: asg,
      Tags: [{ Key: 'fleetops:pool', Value: 'on-demand', PropagateAtLaunch: true }],
      LaunchTemplate: { LaunchTemplateId: lt.LaunchTemplate?.LaunchTemplateId, Version: '$Latest' },
      MinSize: 0,
      MaxSize: 10,
      DesiredCapacity: 0,
      AvailabilityZones: [`${region}a`],
    }),
  );
}

async function world() {
  const memberRole = await roles();
  const base = parse(readFileSync(join(ROOT, 'test', 'fixtures', 'fleetops.valid.yaml'), 'utf8')) as Record<string, unknown>;
  const pool = (asg: string) => [{ name: 'on-demand', kind: 'asg', autoScalingGroupName: asg }];
  const config = parseConfig({
    ...base,
    aws: { region: 'us-east-1', account: HOME_ACCOUNT, endpoint: emu.endpoint },
    alarmRoutes: [],
    services: [],
    clusters: {
      home: { pools: pool('shared-asg') },
      'client-a': { region: 'eu-west-1', roleArn: memberRole, externalId: EXTERNAL_ID, pools: pool('shared-asg') },
      'client-b': { region: 'eu-west-1', roleArn: roleArnIn(OTHER_ACCOUNT, 'fleetops-member'), externalId: EXTERNAL_ID, pools: pool('shared-asg') },
      'client-a-wrong-id': { region: 'eu-west-1', roleArn: memberRole, externalId: 'not-the-one', pools: pool('shared-asg') },
    },
  });
  const { worker, seeding: seed, workerOwn } = await clientsFor(config);
  // The same names in both accounts: only the account tells them apart.
  await seedAsg(emu.aws, 'us-east-1', 'home', 'shared-asg');
  await seedAsg(seed.clientsFor('client-a'), 'eu-west-1', 'client-a', 'shared-asg');
  const activities = createCapacityActivities({ aws: workerOwn, clientsFor: worker.clientsFor, config });
  const drain = createDrainActivities({ aws: workerOwn, clientsFor: worker.clientsFor, config }, { indexMinIntervalMs: 0 });
  return { activities, drain, config, memberClients: seed.clientsFor('client-a') };
}

const scaleOut = (activities: ReturnType<typeof createCapacityActivities>, cluster: string, units: number) =>
  run(activities.requestPoolCapacity, { cluster, pool: 'on-demand', units, newTargetUnits: units, excludeOverrides: [], clientToken: `${cluster}-${units}` });

const desiredOf = async (aws: AwsClients) =>
  (await aws.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['shared-asg'] }))).AutoScalingGroups?.[0]?.DesiredCapacity;

it('acts in the cluster account and region with its role, and in the worker account for its own cluster', async () => {
  const { activities, memberClients } = await world();
  await scaleOut(activities, 'client-a', 3);
  expect(await desiredOf(memberClients)).toBe(3);
  expect(await desiredOf(emu.aws)).toBe(0);
  await scaleOut(activities, 'home', 2);
  expect([await desiredOf(emu.aws), await desiredOf(memberClients)]).toEqual([2, 3]);

  // Each in its account and region; the member's answered by moto (the behaviours model the default account).
  const autoscaling = await emu.sim.calls({ service: 'autoscaling', action: 'SetDesiredCapacity' });
  expect(autoscaling.map((c) => [c.account, c.region, c.handledBy])).toEqual([
    [MEMBER_ACCOUNT, 'eu-west-1', 'moto'],
    [HOME_ACCOUNT, 'us-east-1', 'behaviour:capacity'],
  ]);
  // One AssumeRole for every client and call of a placement: the worker's (the activity's calls), and
  // the test's own (seeding and the read-back).
  const assumed = await emu.sim.calls({ service: 'sts', action: 'AssumeRole' });
  expect(assumed.map((c) => [c.region, c.params.RoleArn, c.status])).toEqual([
    ['eu-west-1', roleArnIn(MEMBER_ACCOUNT, 'fleetops-member'), 200],
    ['eu-west-1', roleArnIn(MEMBER_ACCOUNT, 'fleetops-member'), 200],
  ]);
});

it("finds a member instance's pool in the member account and region, not among the worker's own groups of the same name", async () => {
  const { drain, memberClients } = await world();
  // The member group launches an instance (moto, in the member account); the worker's own group of the same name has none.
  await memberClients.autoscaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'shared-asg', DesiredCapacity: 1 }));
  const [group] = (await memberClients.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['shared-asg'] }))).AutoScalingGroups ?? [];
  const instanceId = group?.Instances?.[0]?.InstanceId;
  expect(instanceId).toBeDefined();
  expect(await run(drain.findInstancePool, { cluster: 'client-a', instanceId: instanceId! })).toEqual({ found: true, pool: 'on-demand', kind: 'asg', replacesOwnInstances: expect.any(Boolean) });
  // The worker's own cluster names a group of the same name: the member instance is not in it.
  expect(await run(drain.findInstancePool, { cluster: 'home', instanceId: instanceId! })).toEqual({ found: false });
  // The member's groups were read in the member account and region.
  const describes = await emu.sim.calls({ service: 'autoscaling', action: 'DescribeAutoScalingGroups' });
  expect(describes.some((c) => c.account === MEMBER_ACCOUNT && c.region === 'eu-west-1')).toBe(true);
});

it('fails every call on a cluster whose role cannot be assumed, not retried, naming the role; other clusters go on', async () => {
  const { activities, memberClients } = await world();
  for (const [cluster, role] of [
    ['client-b', roleArnIn(OTHER_ACCOUNT, 'fleetops-member')],
    ['client-a-wrong-id', roleArnIn(MEMBER_ACCOUNT, 'fleetops-member')],
  ] as const) {
    const err = await scaleOut(activities, cluster, 5).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApplicationFailure);
    const f = err as ApplicationFailure;
    expect([f.type, f.nonRetryable]).toEqual([FailureType.AwsRoleNotAssumable, true]);
    expect(f.message).toContain(`cannot assume role ${role}`);
    expect(f.message).toContain('AccessDenied');
    // STS saw the caller as the worker role's session, as AWS names it.
    expect(f.message).toContain(`User: arn:aws:sts::${HOME_ACCOUNT}:assumed-role/fleetops-worker/`);
  }
  await scaleOut(activities, 'client-a', 1);
  expect(await desiredOf(memberClients)).toBe(1);
});

it('keeps one assumed session until 5 minutes before it expires, then assumes the role again', async () => {
  await emu.reset();
  const roleArn = await createRole(emu.motoUrl, MEMBER_ACCOUNT, 'fleetops-member', trustPolicy({ principal: HOME_ACCOUNT, externalId: EXTERNAL_ID }));
  let now = Date.now();
  const credentials = assumedRoleCredentials({ roleArn, region: 'eu-west-1', externalId: EXTERNAL_ID }, { endpoint: emu.endpoint, now: () => now });
  const first = await credentials();
  const again = await Promise.all([credentials(), credentials(), credentials()]);
  expect(again.map((c) => c.accessKeyId)).toEqual([first.accessKeyId, first.accessKeyId, first.accessKeyId]);
  const assumeCalls = async () => (await emu.sim.calls({ service: 'sts', action: 'AssumeRole' })).length;
  expect(await assumeCalls()).toBe(1);
  // Six minutes before expiry: still the same session.
  now = first.expiration!.getTime() - 6 * 60_000;
  expect((await credentials()).accessKeyId).toBe(first.accessKeyId);
  // Four minutes before: a new one.
  now = first.expiration!.getTime() - 4 * 60_000;
  const renewed = await credentials();
  expect(renewed.accessKeyId).not.toBe(first.accessKeyId);
  expect(await assumeCalls()).toBe(2);
});

it('acts on two accounts\' ECS clusters of the same name under their two config names', async () => {
  const roleArn = await roles();
  const base = parse(readFileSync(join(ROOT, 'test', 'fixtures', 'fleetops.valid.yaml'), 'utf8')) as Record<string, unknown>;
  const pools = [{ name: 'on-demand', kind: 'asg', autoScalingGroupName: 'prod-asg' }];
  const config = parseConfig({
    ...base,
    aws: { region: 'us-east-1', account: HOME_ACCOUNT, endpoint: emu.endpoint },
    alarmRoutes: [],
    services: [],
    clusters: {
      'home-prod': { ecsClusterName: 'prod', pools },
      'client-a-prod': { ecsClusterName: 'prod', region: 'eu-west-1', roleArn, externalId: EXTERNAL_ID, pools },
    },
  });
  const { worker, seeding: seed, workerOwn } = await clientsFor(config);
  const member = seed.clientsFor('client-a-prod');
  const [home] = await addContainerInstances(emu.aws, 'prod', { count: 1 });
  const [theirs] = await addContainerInstances(member, 'prod', { count: 1, azs: ['eu-west-1a'] });
  const drain = createDrainActivities({ aws: workerOwn, clientsFor: worker.clientsFor, config });

  const target = await run(drain.resolveDrainTarget, { instanceId: theirs!.instanceId, account: MEMBER_ACCOUNT, region: 'eu-west-1' });
  expect(target).toMatchObject({ found: true, cluster: 'client-a-prod', containerInstanceArn: theirs!.containerInstanceArn });
  // The worker's own prod is not searched for an event from the member account, and has no such instance.
  expect(await run(drain.resolveDrainTarget, { instanceId: theirs!.instanceId, account: HOME_ACCOUNT, region: 'us-east-1' })).toEqual({ found: false, searchedClusters: ['home-prod'] });
  await run(drain.setContainerInstanceDraining, { cluster: 'client-a-prod', containerInstanceArn: theirs!.containerInstanceArn });

  const statusIn = async (aws: AwsClients, arn: string) =>
    (await aws.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'prod', containerInstances: [arn] }))).containerInstances?.[0]?.status;
  expect(await statusIn(member, theirs!.containerInstanceArn)).toBe('DRAINING');
  expect(await statusIn(emu.aws, home!.containerInstanceArn)).toBe('ACTIVE');
  const calls = await emu.sim.calls({ service: 'ecs', action: 'UpdateContainerInstancesState' });
  expect(calls.map((c) => [c.account, c.params.cluster])).toEqual([[MEMBER_ACCOUNT, 'prod']]);
});
