import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { ListClustersCommand, CreateClusterCommand } from '@aws-sdk/client-ecs';
import { ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { ApplicationFailure } from '@temporalio/common';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { createAwsClients } from '../../activities/aws/clients';
import { createClusterClients } from '../../activities/aws/cluster-clients';
import { awsCall } from '../../activities/aws/errors';
import { FailureType } from '../../common/failures';
import { parseConfig } from '../../config/load';
import { parseEvent } from '../../router/events';
import { routeEvent } from '../../router/routes';
import { deployEventsKit, deployMemberKit, type EventsKitOutputs, type MemberKitOutputs } from '../../stack/events-kit';
import { actingIn, HOME_ACCOUNT, MEMBER_ACCOUNT, OTHER_ACCOUNT } from '../harness/accounts';
import { startEmulator } from '../../testkit/emulator';
import { useEmulator } from '../harness/emulator';
import { ROOT } from '../../testkit/paths';
import { workerRoleSession } from '../../stack/worker-role';

/**
 * The kit across accounts, deployed into moto with CloudFormation: the central stack
 * (fleetops-events.yaml, MemberAccountIds = the member account) and a member stack
 * (fleetops-member.yaml) in the member account in another region, and one in an account the central
 * bus does not admit. An AWS event put on the member account's bus reaches the central queue as AWS
 * delivers it (the member's `account` and `region`, its id and resources), and the router routes it to
 * the member's cluster; the other account's event stays in its own dead-letter queue. The worker, as
 * the central stack's worker role, assumes the member role the stack made, with its external id only.
 */

jest.setTimeout(120_000);

const EXTERNAL_ID = 'fleetops-5c1d';
let sqs: SQSClient;
let central: EventsKitOutputs;
let member: MemberKitOutputs;
let other: MemberKitOutputs;

// Declared before useEmulator: afterAll hooks run in the order declared, and the client goes before the emulator stops.
afterAll(() => {
  sqs?.destroy();
});
const emu = useEmulator(() => startEmulator({ autoTick: false }), { resetEach: false });

beforeAll(async () => {
  sqs = new SQSClient({ region: 'us-east-1', endpoint: emu.endpoint });
  const cfn = (account: string, region: string) => actingIn(new CloudFormationClient({ region, endpoint: emu.endpoint }), account);
  const memberRoleArn = `arn:aws:iam::${MEMBER_ACCOUNT}:role/fleetops-member`;
  const c = cfn(HOME_ACCOUNT, 'us-east-1');
  const m = cfn(MEMBER_ACCOUNT, 'eu-west-1');
  const o = cfn(OTHER_ACCOUNT, 'us-east-1');
  try {
    central = await deployEventsKit(c, { stackName: 'fleetops', parameters: { MemberAccountIds: MEMBER_ACCOUNT, MemberRoleArns: memberRoleArn } });
    const memberParams = {
      CentralEventBusArn: `arn:aws:events:us-east-1:${HOME_ACCOUNT}:event-bus/default`,
      // The central stack's worker role: the member role's trust admits its sessions only.
      WorkerRoleArn: central.WorkerRoleArn,
      ExternalId: EXTERNAL_ID,
    };
    member = await deployMemberKit(m, { stackName: 'fleetops-member', parameters: memberParams });
    other = await deployMemberKit(o, { stackName: 'fleetops-member', parameters: memberParams });
  } finally {
    for (const x of [c, m, o]) x.destroy();
  }
});

async function receive(queueUrl: string, client: SQSClient, want: number): Promise<Message[]> {
  const got: Message[] = [];
  for (let i = 0; i < 20 && got.length < want; i++) {
    const r = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    got.push(...(r.Messages ?? []));
  }
  return got;
}

const warning = (instanceId: string) => ({
  source: 'aws.ec2',
  detailType: 'EC2 Spot Instance Interruption Warning',
  detail: { 'instance-id': instanceId, 'instance-action': 'terminate' },
  resources: [`arn:aws:ec2:eu-west-1:${MEMBER_ACCOUNT}:instance/${instanceId}`],
});

it('forwards a member account AWS event to the central queue as AWS delivers it, and the router routes it to the member cluster', async () => {
  const published = await emu.sim.request<{ event: { delivered: boolean } }>('POST', 'events', { ...warning('i-0a1b2c3d4e5f60718'), region: 'eu-west-1', account: MEMBER_ACCOUNT });
  expect(published.event.delivered).toBe(true);
  const [msg] = await receive(central.EventsQueueUrl, sqs, 1);
  const body = JSON.parse(msg!.Body!) as Record<string, unknown>;
  expect(body).toMatchObject({ account: MEMBER_ACCOUNT, region: 'eu-west-1', source: 'aws.ec2', resources: warning('i-0a1b2c3d4e5f60718').resources });

  const base = parse(readFileSync(join(ROOT, 'test', 'fixtures', 'fleetops.valid.yaml'), 'utf8')) as Record<string, any>;
  const config = parseConfig({
    ...base,
    aws: { region: 'us-east-1', account: HOME_ACCOUNT },
    clusters: { ...base.clusters, 'client-a': { ...base.clusters.demo, region: 'eu-west-1', roleArn: member.MemberRoleArn, externalId: EXTERNAL_ID } },
  });
  const parsed = parseEvent(body);
  if (!parsed.ok) throw new Error(parsed.error);
  expect(routeEvent(parsed.event, config)).toMatchObject({ action: 'signalWithStart', workflowId: `drain-${MEMBER_ACCOUNT}-i-0a1b2c3d4e5f60718` });
});

it('keeps an event from an account the central bus does not admit in that account dead-letter queue', async () => {
  const published = await emu.sim.request<{ event: { delivered: boolean } }>('POST', 'events', { ...warning('i-0ffffffffffffffff'), region: 'us-east-1', account: OTHER_ACCOUNT });
  expect(published.event.delivered).toBe(true);
  const otherSqs = actingIn(new SQSClient({ region: 'us-east-1', endpoint: emu.endpoint }), OTHER_ACCOUNT);
  try {
    const [dead] = await receive(other.ForwardDeadLetterQueueUrl, otherSqs, 1);
    expect(JSON.parse(dead!.Body!)).toMatchObject({ account: OTHER_ACCOUNT, detail: { 'instance-id': 'i-0ffffffffffffffff' } });
    const central = await sqs.send(new ReceiveMessageCommand({ QueueUrl: centralUrl(), MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    expect((central.Messages ?? []).map((m) => JSON.parse(m.Body!).account as string)).not.toContain(OTHER_ACCOUNT);
  } finally {
    otherSqs.destroy();
  }
});

const centralUrl = () => central.EventsQueueUrl;

it('lets the worker assume the member role the kit made, with its external id only', async () => {
  const base = parse(readFileSync(join(ROOT, 'test', 'fixtures', 'fleetops.valid.yaml'), 'utf8')) as Record<string, any>;
  const config = parseConfig({
    ...base,
    aws: { region: 'us-east-1', account: HOME_ACCOUNT, endpoint: emu.endpoint },
    clusters: {
      ...base.clusters,
      'client-a': { ...base.clusters.demo, region: 'eu-west-1', roleArn: member.MemberRoleArn, externalId: EXTERNAL_ID },
      'client-a-no-id': { ...base.clusters.demo, region: 'eu-west-1', roleArn: member.MemberRoleArn },
    },
  });
  // The worker's placement code with the test's clients (no worker app id: its probes, CreateCluster and
  // ListClusters, are not calls fleetops makes), signed as the worker is, with a session of its role.
  const own = createAwsClients({ region: emu.region, endpoint: emu.endpoint, credentials: await workerRoleSession(emu.motoUrl, central.WorkerRoleArn) });
  const clusters = createClusterClients(config, own, { endpoint: emu.endpoint });
  try {
    const a = clusters.clientsFor('client-a');
    const made = await awsCall('ecs:CreateCluster', () => a.ecs.send(new CreateClusterCommand({ clusterName: 'client-a' })));
    expect(made.cluster?.clusterArn).toBe(`arn:aws:ecs:eu-west-1:${MEMBER_ACCOUNT}:cluster/client-a`);
    const err = await awsCall('ecs:ListClusters', () => clusters.clientsFor('client-a-no-id').ecs.send(new ListClustersCommand({}))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect([(err as ApplicationFailure).type, (err as ApplicationFailure).nonRetryable]).toEqual([FailureType.AwsRoleNotAssumable, true]);
    expect((err as Error).message).toContain(member.MemberRoleArn);
    // STS saw the caller as a session of the worker role the kit made.
    expect((err as Error).message).toContain(`User: arn:aws:sts::${HOME_ACCOUNT}:assumed-role/fleetops-worker/`);
  } finally {
    clusters.destroy();
    own.destroy();
  }
});
