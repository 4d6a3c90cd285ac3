import { EC2Client, StartInstancesCommand, StopInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeContainerInstancesCommand, ECSClient, ListContainerInstancesCommand } from '@aws-sdk/client-ecs';
import { Client, Connection } from '@temporalio/client';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FleetopsAccount, FleetopsRegion } from '../../common/search-attributes';
import { parseConfigText } from '../../config/load';
import { MEMBER_DEMO } from '../../stack/member-demo';
import { actingIn } from '../harness/accounts';
import { STACK_READY_TIMEOUT_MS, type LocalStack } from '../../testkit/local-stack';
import { startLocalStack } from '../harness/local-stack';
import { until } from '../../testkit/poll';

/**
 * The local stack asked for two accounts (FLEETOPS_STACK_ACCOUNTS=2): the member kit and cluster
 * beside the demo (stack/member-demo.ts), the rendered config placing it, and a spot warning put on
 * the member account's own bus drained there by the one worker, under an id that carries the account;
 * and a member instance stopped and started again: DRAINING while stopped, ACTIVE again once running.
 * (The one-account demo is at the start and end of test/e2e/stack-e2e.test.ts, unchanged.)
 */

jest.setTimeout(STACK_READY_TIMEOUT_MS + 90_000);

let local: LocalStack;
beforeAll(async () => {
  local = await startLocalStack({ env: { FLEETOPS_STACK_ACCOUNTS: '2' } });
});
afterAll(async () => {
  if (local) {
    await local.stop();
    local.cleanup();
  }
});

it('places the member cluster in the rendered config and drains it from a warning on its own bus', async () => {
  const config = parseConfigText(readFileSync(join(local.runDir, 'fleetops.yaml'), 'utf8'));
  expect(config.aws.account).toBe('123456789012');
  expect(config.clusters[MEMBER_DEMO.cluster]).toMatchObject({ region: MEMBER_DEMO.region, roleArn: `arn:aws:iam::${MEMBER_DEMO.account}:role/${MEMBER_DEMO.roleName}` });

  const ecs = actingIn(new ECSClient({ region: MEMBER_DEMO.region, endpoint: local.stack.aws.endpoint }), MEMBER_DEMO.account);
  const connection = await Connection.connect({ address: local.stack.temporal.address });
  try {
    const arns = (await ecs.send(new ListContainerInstancesCommand({ cluster: MEMBER_DEMO.cluster }))).containerInstanceArns ?? [];
    const described = (await ecs.send(new DescribeContainerInstancesCommand({ cluster: MEMBER_DEMO.cluster, containerInstances: arns }))).containerInstances ?? [];
    expect(described).toHaveLength(2);
    const target = described[0]!;
    const res = await fetch(`${local.stack.aws.endpoint}/_sim/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        source: 'aws.ec2',
        detailType: 'EC2 Spot Instance Interruption Warning',
        detail: { 'instance-id': target.ec2InstanceId, 'instance-action': 'terminate' },
        account: MEMBER_DEMO.account,
        region: MEMBER_DEMO.region,
      }),
    });
    expect(((await res.json()) as { event: { delivered: boolean } }).event.delivered).toBe(true);
    const workflowId = `drain-${MEMBER_DEMO.account}-${target.ec2InstanceId}`;
    const handle = new Client({ connection }).workflow.getHandle(workflowId);
    const result = await until(`${workflowId} finished`, () => handle.result().catch(() => undefined), { timeoutMs: 60_000, intervalMs: 250 });
    expect(result).toMatchObject({ outcome: 'drained', notDone: [] });
    const d = await handle.describe();
    expect([d.typedSearchAttributes.get(FleetopsAccount), d.typedSearchAttributes.get(FleetopsRegion)]).toEqual([MEMBER_DEMO.account, MEMBER_DEMO.region]);
    const after = (await ecs.send(new DescribeContainerInstancesCommand({ cluster: MEMBER_DEMO.cluster, containerInstances: [target.containerInstanceArn!] }))).containerInstances;
    expect(after?.[0]?.status).toBe('DRAINING');
  } finally {
    ecs.destroy();
    await connection.close();
  }
});

it('a member instance stopped and started again is ACTIVE again: its state changes come from its own account, and running reaches its drain', async () => {
  const { endpoint } = local.stack.aws;
  const ecs = actingIn(new ECSClient({ region: MEMBER_DEMO.region, endpoint }), MEMBER_DEMO.account);
  const ec2 = actingIn(new EC2Client({ region: MEMBER_DEMO.region, endpoint }), MEMBER_DEMO.account);
  const connection = await Connection.connect({ address: local.stack.temporal.address });
  try {
    const arns = (await ecs.send(new ListContainerInstancesCommand({ cluster: MEMBER_DEMO.cluster }))).containerInstanceArns ?? [];
    const describe = async () => (await ecs.send(new DescribeContainerInstancesCommand({ cluster: MEMBER_DEMO.cluster, containerInstances: arns }))).containerInstances ?? [];
    /** The member cluster's container instances by status, for the record (the first test left one DRAINING). */
    const counts = async () => {
      const out: Record<string, number> = { ACTIVE: 0, DRAINING: 0 };
      for (const c of await describe()) out[c.status!] = (out[c.status!] ?? 0) + 1;
      return out;
    };
    const target = (await describe()).find((c) => c.status === 'ACTIVE')!;
    const statusOf = async () => (await describe()).find((c) => c.containerInstanceArn === target.containerInstanceArn)?.status;
    const before = await counts();
    // As the member's own operator would: EC2 announces stopping, then stopped, on the member account's bus.
    await ec2.send(new StopInstancesCommand({ InstanceIds: [target.ec2InstanceId!] }));
    const workflowId = `drain-${MEMBER_DEMO.account}-${target.ec2InstanceId}`;
    const handle = new Client({ connection }).workflow.getHandle(workflowId);
    await until(`${workflowId} has the instance DRAINING`, async () => (await statusOf()) === 'DRAINING', { timeoutMs: 60_000, intervalMs: 250 });
    const stopped = await counts();
    await ec2.send(new StartInstancesCommand({ InstanceIds: [target.ec2InstanceId!] }));
    await until(`the instance ACTIVE again (counts ${JSON.stringify(before)} before the stop, ${JSON.stringify(stopped)} while stopped)`, async () => (await statusOf()) === 'ACTIVE', {
      timeoutMs: 60_000,
      intervalMs: 250,
    });
    expect(await handle.result()).toMatchObject({ outcome: 'drained' });
    expect({ before, stopped, after: await counts() }).toEqual({ before, stopped: { ACTIVE: before.ACTIVE! - 1, DRAINING: before.DRAINING! + 1 }, after: before });
  } finally {
    ecs.destroy();
    ec2.destroy();
    await connection.close();
  }
});

it("writes the router's aws-events token and Slack listener to stack.json, and the router honours both", async () => {
  const { router, slack } = local.stack;
  const alarm = {
    version: '0',
    id: `accounts-${Date.now()}`,
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [],
    detail: { alarmName: 'no-route-for-this-alarm', state: { value: 'ALARM', reason: 'test' }, previousState: { value: 'OK', reason: 'test' } },
  };
  const post = (token: string) =>
    fetch(`${router.url}/events`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(alarm) });
  expect((await post(router.token)).status).toBe(403);
  expect(await (await post(router.awsEventsToken)).json()).toEqual({ results: [{ eventId: alarm.id, action: 'ignored', workflowId: null }] });
  expect((await fetch(`${slack.url}/metrics`)).status).toBe(404);
  expect((await fetch(`${router.url}/slack/events`, { method: 'POST' })).status).toBe(404);
  expect((await fetch(`${slack.url}/slack/events`, { method: 'POST' })).status).toBe(401);
});
