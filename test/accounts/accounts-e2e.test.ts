import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateAutoScalingGroupCommand, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CreateLaunchTemplateCommand, DescribeImagesCommand } from '@aws-sdk/client-ec2';
import { DescribeContainerInstancesCommand, ListClustersCommand } from '@aws-sdk/client-ecs';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { parse, stringify } from 'yaml';
import { createAwsClients, type AwsClients } from '../../activities/aws/clients';
import { createClusterClients, type ClusterClients } from '../../activities/aws/cluster-clients';
import { statusQuery } from '../../contracts/controls';
import { ALL_SEARCH_ATTRIBUTES, FleetopsAccount, FleetopsRegion } from '../../common/search-attributes';
import type { CapacityStatus } from '../../contracts/capacity/messages';
import { parseConfig } from '../../config/load';
import type { FleetopsConfig } from '../../config/schema';
import { deployEventsKit, deployMemberKit } from '../../stack/events-kit';
import { sessionEnv, workerRoleSession } from '../../stack/worker-role';
import { actingIn, HOME_ACCOUNT, MEMBER_ACCOUNT, OTHER_ACCOUNT } from '../harness/accounts';
import { addContainerInstances, type ContainerInstance } from '../harness/container-instances';
import { startEmulator, type Emulator } from '../../testkit/emulator';
import { ROOT, TEMPORAL_CLI } from '../../testkit/paths';
import { until } from '../../testkit/poll';
import { watchProcessOutput } from '../harness/workflow-task-failures';
import { freePort } from '../../testkit/router/sqs-harness';

/**
 * One fleetops for two member accounts in two regions, end to end: the kit deployed with
 * CloudFormation in moto (central stack in the worker's account, member stacks in account A,
 * eu-west-1, and account B, us-west-2), the real router consuming the central queue and the real
 * worker (workers/main.ts) on a Temporal dev server of this suite's own (the router starts drains on
 * the fixed task queues, so no other suite's worker may share them). Events are put on each member
 * account's own bus, as AWS would publish them there; AWS state is read back in each account.
 *
 * Every simulator behaviour is loaded: they model moto's default account, and calls made in a member
 * account (through the assumed role) get moto's own answers (simulator/server.ts), so no instance
 * launched there joins its cluster by itself; the scale-out is checked by the group's desired capacity.
 */

jest.setTimeout(180_000);

const A = MEMBER_ACCOUNT;
const B = OTHER_ACCOUNT;
const PLACES = { 'client-a': { account: A, region: 'eu-west-1' }, 'client-b': { account: B, region: 'us-west-2' } } as const;
type Member = keyof typeof PLACES;
const EXTERNAL_ID: Record<Member, string> = { 'client-a': 'ext-a-91f2', 'client-b': 'ext-b-03c7' };
const WRONG_ROLE = `arn:aws:iam::${B}:role/fleetops-wrong`;

let emu: Emulator;
let temporal: TestWorkflowEnvironment;
let config: FleetopsConfig;
let clusters: ClusterClients;
let seedingOwn: AwsClients | undefined;
const fleets = {} as Record<Member, ContainerInstance[]>;
const procs: { name: string; child: ChildProcess; out: () => string }[] = [];

function spawnProcess(name: string, script: string, env: Record<string, string>, ready: string): Promise<void> {
  let out = '';
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, script)], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d) => (out += String(d)));
  child.stderr?.on('data', (d) => (out += String(d)));
  procs.push({ name, child, out: () => out });
  // A workflow task failure in this worker fails the test it happened in (test/harness/per-file-setup.ts).
  watchProcessOutput(name, () => out);
  // A process that exited will not be ready: that fails at once.
  return until(`${name} ready`, async () => {
    if (child.exitCode !== null) throw new Error(`${name} exited ${child.exitCode}: ${out}`);
    return out.includes(ready);
  }, { timeoutMs: 60_000, failOnError: true }).then(() => undefined);
}

async function seedMember(name: Member): Promise<void> {
  const aws = clusters.clientsFor(name);
  const { region } = PLACES[name];
  fleets[name] = await addContainerInstances(aws, name, { count: 2, azs: [`${region}a`, `${region}b`] });
  const image = (await aws.ec2.send(new DescribeImagesCommand({}))).Images?.[0]?.ImageId;
  const lt = await aws.ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: `${name}-node`, LaunchTemplateData: { ImageId: image, InstanceType: 'm5.large' }, TagSpecifications: [{ ResourceType: 'launch-template', Tags: [{ Key: 'fleetops:pool', Value: 'on-demand' }] }] }));
  await aws.autoscaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: `${name}-asg`,
      Tags: [{ Key: 'fleetops:pool', Value: 'on-demand', PropagateAtLaunch: true }],
      LaunchTemplate: { LaunchTemplateId: lt.LaunchTemplate?.LaunchTemplateId, Version: '$Latest' },
      MinSize: 0,
      MaxSize: 20,
      DesiredCapacity: 0,
      AvailabilityZones: [`${region}a`],
    }),
  );
}

beforeAll(async () => {
  emu = await startEmulator({ autoTick: false });
  temporal = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: TEMPORAL_CLI }, ip: '127.0.0.1', searchAttributes: [...ALL_SEARCH_ATTRIBUTES], log: { format: 'json', level: 'error' } },
  });

  // The kit: the central stack admits both member accounts and lets the worker assume their roles.
  const cfn = (account: string, region: string) => actingIn(new CloudFormationClient({ region, endpoint: emu.endpoint }), account);
  const roleOf = (account: string) => `arn:aws:iam::${account}:role/fleetops-member`;
  const central = cfn(HOME_ACCOUNT, 'us-east-1');
  const kit = await deployEventsKit(central, { stackName: 'fleetops', parameters: { MemberAccountIds: `${A},${B}`, MemberRoleArns: `${roleOf(A)},${roleOf(B)}` } });
  central.destroy();
  for (const name of Object.keys(PLACES) as Member[]) {
    const { account, region } = PLACES[name];
    const c = cfn(account, region);
    await deployMemberKit(c, {
      stackName: 'fleetops-member',
      parameters: {
        CentralEventBusArn: `arn:aws:events:us-east-1:${HOME_ACCOUNT}:event-bus/default`,
        // The central stack's worker role: the member roles' trust admits its sessions only.
        WorkerRoleArn: kit.WorkerRoleArn,
        ExternalId: EXTERNAL_ID[name],
      },
    });
    c.destroy();
  }

  const base = parse(readFileSync(join(ROOT, 'test', 'fixtures', 'fleetops.valid.yaml'), 'utf8')) as Record<string, any>;
  const cluster = (name: Member, roleArn = roleOf(PLACES[name].account)) => ({
    region: PLACES[name].region,
    roleArn,
    externalId: EXTERNAL_ID[name],
    pools: [{ name: 'on-demand', kind: 'asg', autoScalingGroupName: `${name}-asg` }],
    capacity: { cooldownSeconds: 0, stepUnits: 2 },
  });
  const doc = {
    ...base,
    aws: { region: 'us-east-1', account: HOME_ACCOUNT, endpoint: emu.endpoint },
    temporal: { address: temporal.address, namespace: 'default' },
    services: [],
    notifications: { webhooks: [] },
    // client-c first: a drain in B searches it before client-b, and its role failure must not stop that drain.
    clusters: { 'client-a': cluster('client-a'), 'client-c': cluster('client-b', WRONG_ROLE), 'client-b': cluster('client-b') },
    alarmRoutes: [
      { alarmName: 'a-scale-out', action: 'scale-out', cluster: 'client-a' },
      { alarmName: 'b-scale-out', action: 'scale-out', cluster: 'client-b' },
      { alarmName: 'c-scale-out', action: 'scale-out', cluster: 'client-c' },
    ],
  };
  config = parseConfig(doc, 'accounts-e2e');
  // The worker acts as the kit's worker role, as in ECS: a session of it (stack/worker-role.ts), which
  // the test's own clients use too, to reach the member accounts through the roles that admit it only.
  const session = await workerRoleSession(emu.motoUrl, kit.WorkerRoleArn);
  seedingOwn = createAwsClients({ region: 'us-east-1', endpoint: emu.endpoint, credentials: session });
  // The test's own clients, for seeding and reading back; the product's calls are the worker's and router's processes'.
  clusters = createClusterClients(config, seedingOwn, { endpoint: emu.endpoint });
  await seedMember('client-a');
  await seedMember('client-b');

  const dir = mkdtempSync(join(tmpdir(), 'fleetops-accounts-'));
  const configPath = join(dir, 'fleetops.yaml');
  writeFileSync(configPath, stringify(doc));
  const common = { FLEETOPS_CONFIG: configPath, FLEETOPS_TEMPORAL_ADDRESS: temporal.address, FLEETOPS_TEMPORAL_NAMESPACE: 'default', FLEETOPS_LOG_LEVEL: 'info' };
  await Promise.all([
    spawnProcess('worker', 'workers/main.ts', { ...common, ...sessionEnv(session), FLEETOPS_WORKER_METRICS_PORT: '0', FLEETOPS_WORKFLOW_BUNDLE: process.env.FLEETOPS_TEST_WORKFLOW_BUNDLE ?? '' }, 'worker started'),
    spawnProcess(
      'router',
      'router/main.ts',
      { ...common, FLEETOPS_EVENTS_QUEUE_URL: kit.EventsQueueUrl, FLEETOPS_ROUTER_TOKEN: 'accounts-e2e-token-0123456789', FLEETOPS_ROUTER_PORT: String(await freePort()) },
      'router listening',
    ),
  ]);
});

afterAll(async () => {
  for (const p of procs) {
    if (p.child.exitCode === null) {
      const exited = new Promise((r) => p.child.once('exit', r));
      p.child.kill('SIGTERM');
      await exited;
    }
  }
  clusters?.destroy();
  seedingOwn?.destroy();
  await temporal?.teardown();
  await emu?.stop();
});

/** What AWS publishes on the member account's own default bus; the member kit forwards it. */
const publish = (name: Member, source: string, detailType: string, detail: Record<string, unknown>, resources: string[] = []) =>
  emu.sim.request<{ event: { delivered: boolean; error?: string } }>('POST', 'events', { source, detailType, detail, resources, ...PLACES[name] }).then((r) => {
    if (!r.event.delivered) throw new Error(`not published: ${r.event.error}`);
  });

const alarm = (name: Member, alarmName: string) =>
  publish(name, 'aws.cloudwatch', 'CloudWatch Alarm State Change', {
    alarmName,
    state: { value: 'ALARM', reason: 'Threshold Crossed', timestamp: new Date().toISOString() },
    previousState: { value: 'OK', reason: 'ok', timestamp: new Date().toISOString() },
    configuration: { metrics: [] },
  });

const desiredIn = async (aws: AwsClients, asg: string) =>
  (await aws.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [asg] }))).AutoScalingGroups?.[0]?.DesiredCapacity ?? 0;

const attrsOf = async (workflowId: string) => {
  const d = await temporal.client.workflow.getHandle(workflowId).describe();
  return [d.typedSearchAttributes.get(FleetopsAccount), d.typedSearchAttributes.get(FleetopsRegion)];
};

it('drains an instance in each member account from the warning on its own bus, under an id that carries the account', async () => {
  const output = () => procs.map((p) => `--- ${p.name}\n${p.out().slice(-3000)}`).join('\n');
  for (const name of Object.keys(PLACES) as Member[]) {
    const { instanceId } = fleets[name][0]!;
    const { region } = PLACES[name];
    await publish(name, 'aws.ec2', 'EC2 Spot Instance Interruption Warning', { 'instance-id': instanceId, 'instance-action': 'terminate' }, [`arn:aws:ec2:${region}:${PLACES[name].account}:instance/${instanceId}`]);
  }
  for (const name of Object.keys(PLACES) as Member[]) {
    const { account, region } = PLACES[name];
    const [target, other] = fleets[name];
    const workflowId = `drain-${account}-${target!.instanceId}`;
    const handle = await until(`${workflowId} started\n${output()}`, async () => {
      const h = temporal.client.workflow.getHandle(workflowId);
      return (await h.describe().then(() => true, () => false)) && h;
    }, { timeoutMs: 60_000, intervalMs: 250 });
    expect(await handle.result()).toMatchObject({ outcome: 'drained', notDone: [] });
    expect(await attrsOf(workflowId)).toEqual([account, region]);
    // Read back in the member account: the warned instance DRAINING, its neighbour untouched.
    const aws = clusters.clientsFor(name);
    const ci = await aws.ecs.send(new DescribeContainerInstancesCommand({ cluster: name, containerInstances: [target!.containerInstanceArn, other!.containerInstanceArn] }));
    expect(ci.containerInstances?.map((c) => [c.ec2InstanceId, c.status])).toEqual([
      [target!.instanceId, 'DRAINING'],
      [other!.instanceId, 'ACTIVE'],
    ]);
  }
  // Nothing of the members' in the worker's own account.
  expect((await emu.aws.ecs.send(new ListClustersCommand({}))).clusterArns).toEqual([]);
});

it('scales out each member cluster from the alarm on its own bus, in its own account', async () => {
  await alarm('client-a', 'a-scale-out');
  await alarm('client-b', 'b-scale-out');
  for (const name of Object.keys(PLACES) as Member[]) {
    const aws = clusters.clientsFor(name);
    // The drains above asked for replacements too: at least the alarm's step (2 units) is requested.
    const desired = await until(`${name}-asg raised`, async () => {
      const d = await desiredIn(aws, `${name}-asg`);
      return d >= 2 && d;
    }, { timeoutMs: 60_000, intervalMs: 250 });
    expect(desired).toBeGreaterThanOrEqual(2);
    expect(await attrsOf(`capacity-${name}`)).toEqual([PLACES[name].account, PLACES[name].region]);
  }
});

it('fails the cluster whose role cannot be assumed with an error naming the role, while its account neighbour works on', async () => {
  await alarm('client-b', 'c-scale-out');
  const handle = await until('capacity-client-c started', async () => {
    const h = temporal.client.workflow.getHandle('capacity-client-c');
    return (await h.describe().then(() => true, () => false)) && h;
  }, { timeoutMs: 60_000, intervalMs: 250 });
  // Its activities fail, non-retryable, naming the role; the capacity workflow does not
  // fail on an AWS error: it holds the request, shows the error on status and backs off.
  const status = await until('the role error on capacity-client-c status', async () => {
    const s = (await handle.query(statusQuery)) as CapacityStatus;
    return s.error && s;
  }, { timeoutMs: 60_000, intervalMs: 250 });
  expect(status.error?.message).toContain(`cannot assume role ${WRONG_ROLE}`);
  // STS saw the worker process as a session of the kit's worker role.
  expect(status.error?.message).toContain(`User: arn:aws:sts::${HOME_ACCOUNT}:assumed-role/fleetops-worker/`);
  expect((await handle.describe()).status.name).toBe('RUNNING');
  // client-b, in the same account and region, still drains.
  const [, other] = fleets['client-b'];
  await publish('client-b', 'aws.ec2', 'EC2 Spot Instance Interruption Warning', { 'instance-id': other!.instanceId, 'instance-action': 'terminate' });
  const workflowId = `drain-${B}-${other!.instanceId}`;
  const drain = await until(`${workflowId} started`, async () => {
    const h = temporal.client.workflow.getHandle(workflowId);
    return (await h.describe().then(() => true, () => false)) && h;
  }, { timeoutMs: 60_000, intervalMs: 250 });
  expect(await drain.result()).toMatchObject({ outcome: 'drained' });
  // The assumed sessions' credentials (moto's temporary keys start ASIA) are in no log line.
  const logs = procs.map((p) => p.out()).join('\n');
  expect(logs).toContain(WRONG_ROLE);
  expect(logs).not.toMatch(/ASIA[A-Z0-9]{12,}|secretAccessKey|SecretAccessKey|sessionToken|SessionToken/);
});
