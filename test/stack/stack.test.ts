import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeSpotFleetRequestsCommand } from '@aws-sdk/client-ec2';
import {
  DescribeClustersCommand,
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListContainerInstancesCommand,
  ListTasksCommand,
} from '@aws-sdk/client-ecs';
import { DescribeTargetGroupsCommand, DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { Client, Connection } from '@temporalio/client';
import { createAwsClients, type AwsClients } from '../../activities/aws/clients';
import { ALL_SEARCH_ATTRIBUTES } from '../../common/search-attributes';
import { loadConfig } from '../../config/load';
import { DEMO_SLACK } from '../../stack/demo-slack';
import { signed, slashCommandBody } from '../../stack/slack-requests';
import type { StackFile } from '../../stack/stack-file';
import { STACK_READY_TIMEOUT_MS, startLocalStack, until, type LocalStack, type StackPorts } from '../e2e/stack-harness';

/**
 * Runs the real `stack/up.ts` (what `make up` runs) on free ports in a scratch run directory
 * (test/e2e/stack-harness.ts), checks that every part it announces answers, then stops it with
 * SIGINT and checks that nothing it started is left.
 */

jest.setTimeout(STACK_READY_TIMEOUT_MS + 60_000);

describe('local stack (make up)', () => {
  let local: LocalStack;
  let runDir: string;
  let ports: StackPorts;
  let stack: StackFile;
  let aws: AwsClients;
  let readyMs = 0;

  beforeAll(async () => {
    local = await startLocalStack();
    ({ runDir, ports, stack, readyMs } = local);
    aws = createAwsClients({ region: stack.aws.region, endpoint: stack.aws.endpoint });
  });

  afterAll(async () => {
    aws?.destroy();
    // Only when a test failed before the stop test: leave nothing behind.
    local?.cleanup();
  });

  it('writes stack.json in the PRODUCT.md shape, with the ports it was given', () => {
    process.stdout.write(`[stack test] ready in ${readyMs} ms\n`);
    expect(stack.temporal).toEqual({ address: `127.0.0.1:${ports.temporal}`, namespace: 'default', ui: `http://127.0.0.1:${ports.ui}` });
    expect(stack.aws).toEqual({
      endpoint: `http://127.0.0.1:${ports.aws}`,
      region: 'us-east-1',
      eventsQueueUrl: `http://127.0.0.1:${ports.aws}/123456789012/fleetops-events`,
      deadLetterQueueUrl: `http://127.0.0.1:${ports.aws}/123456789012/fleetops-events-dlq`,
    });
    expect(stack.router.url).toBe(`http://127.0.0.1:${ports.router}`);
    expect(stack.demo).toMatchObject({
      cluster: 'demo',
      service: 'web',
      alarms: { scaleOut: 'demo-scale-out', scaleIn: 'demo-scale-in', incident: 'demo-incident-5xx' },
    });
    expect(new Set(stack.demo.instances).size).toBeGreaterThanOrEqual(6);
    expect(Object.keys(JSON.parse(readFileSync(join(runDir, 'stack.json'), 'utf8')))).toEqual(['temporal', 'aws', 'router', 'demo', 'slack']);
    expect(stack.slack.messagesUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/messages$/);
  });

  it('serves Temporal with the fleetops search attributes, and its Web UI', async () => {
    const connection = await Connection.connect({ address: stack.temporal.address });
    try {
      const ns = await connection.workflowService.describeNamespace({ namespace: stack.temporal.namespace });
      expect(ns.namespaceInfo?.name).toBe('default');
      const attrs = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
      expect(Object.keys(attrs.customAttributes ?? {})).toEqual(expect.arrayContaining(ALL_SEARCH_ATTRIBUTES.map((k) => k.name)));
    } finally {
      await connection.close();
    }
    const ui = await fetch(stack.temporal.ui);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toMatch(/<html/i);
  });

  it('seeds cluster demo: six container instances from three pools, service web running behind its target group', async () => {
    const cluster = (await aws.ecs.send(new DescribeClustersCommand({ clusters: ['demo'] }))).clusters?.[0];
    expect(cluster?.registeredContainerInstancesCount).toBeGreaterThanOrEqual(6);
    const arns = (await aws.ecs.send(new ListContainerInstancesCommand({ cluster: 'demo' }))).containerInstanceArns ?? [];
    const cis = (await aws.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'demo', containerInstances: arns }))).containerInstances ?? [];
    expect(cis.map((c) => c.ec2InstanceId).sort()).toEqual([...stack.demo.instances].sort());
    const azs = new Set(cis.map((c) => c.attributes?.find((a) => a.name === 'ecs.availability-zone')?.value));
    expect(azs.size).toBe(3);

    const config = loadConfig(join(runDir, 'fleetops.yaml'));
    const spotPool = config.clusters.demo.pools.find((p) => p.kind === 'spot-fleet');
    const sfr = await aws.ec2.send(new DescribeSpotFleetRequestsCommand({ SpotFleetRequestIds: [spotPool?.kind === 'spot-fleet' ? spotPool.spotFleetRequestId : 'missing'] }));
    // moto drops the request's Type (maintain); state, strategy and capacity are what it keeps.
    expect(sfr.SpotFleetRequestConfigs?.[0]).toMatchObject({
      SpotFleetRequestState: 'active',
      SpotFleetRequestConfig: { AllocationStrategy: 'diversified', TargetCapacity: 2 },
    });
    const asg = (await aws.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['demo-on-demand'] }))).AutoScalingGroups?.[0];
    expect(asg?.Instances?.length).toBeGreaterThanOrEqual(1);
    expect(stack.demo.instances).toEqual(expect.arrayContaining(asg?.Instances?.map((i) => i.InstanceId) ?? ['missing']));

    const service = (await aws.ecs.send(new DescribeServicesCommand({ cluster: 'demo', services: ['web'] }))).services?.[0];
    expect(service?.status).toBe('ACTIVE');
    expect(service?.desiredCount).toBeGreaterThanOrEqual(4);
    const taskArns = (await aws.ecs.send(new ListTasksCommand({ cluster: 'demo' }))).taskArns ?? [];
    const tasks = (await aws.ecs.send(new DescribeTasksCommand({ cluster: 'demo', tasks: taskArns }))).tasks ?? [];
    const serviceTasks = tasks.filter((t) => t.group === 'service:web' && t.lastStatus === 'RUNNING');
    expect(serviceTasks.length).toBeGreaterThanOrEqual(service?.desiredCount ?? 4);

    const tgArn = service?.loadBalancers?.[0]?.targetGroupArn;
    const tg = (await aws.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [tgArn ?? 'missing'] }))).TargetGroups?.[0];
    expect(tg?.LoadBalancerArns?.length).toBe(1);
    const health = await aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tgArn }));
    expect(health.TargetHealthDescriptions?.length).toBe(serviceTasks.length);

    const alarms = await aws.cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: Object.values(stack.demo.alarms) }));
    expect(alarms.MetricAlarms?.map((a) => a.AlarmName).sort()).toEqual(Object.values(stack.demo.alarms).sort());
  });

  it('runs the router with the generated token', async () => {
    expect((await fetch(`${stack.router.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${stack.router.url}/readyz`)).status).toBe(200);
    // An alarm no route matches: proves the token is accepted without starting a workflow.
    const event = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'CloudWatch Alarm State Change',
      source: 'aws.cloudwatch',
      account: '123456789012',
      time: new Date().toISOString(),
      region: 'us-east-1',
      resources: ['arn:aws:cloudwatch:us-east-1:123456789012:alarm:unrouted-alarm'],
      detail: {
        alarmName: 'unrouted-alarm',
        state: { value: 'ALARM', reason: 'test', timestamp: new Date().toISOString() },
        previousState: { value: 'OK', reason: 'test', timestamp: new Date().toISOString() },
        configuration: { description: 'test' },
      },
    };
    const post = (token: string) =>
      fetch(`${stack.router.url}/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(event),
      });
    expect((await post('wrong-token-wrong-token')).status).toBe(401);
    const accepted = await post(stack.router.token);
    const body = await accepted.text();
    expect({ status: accepted.status, body: JSON.parse(body) }).toMatchObject({
      status: 202,
      body: { results: [{ eventId: event.id, action: 'ignored' }] },
    });
  });

  it("serves the Slack app at /slack/events, signed with stack.json's secret, answering through the Web API stand-in", async () => {
    const { people, channels } = DEMO_SLACK;
    const config = loadConfig(join(runDir, 'fleetops.yaml'));
    expect(config.slack).toMatchObject({ signingSecret: stack.slack.signingSecret, channels: { deploys: channels.deploys, incidents: channels.incidents } });
    const minted = await fetch(stack.slack.messagesUrl.replace(/\/messages$/, '/response-urls'), { method: 'POST', body: JSON.stringify({ channel: channels.ops, user: people.alice }) });
    const { url: responseUrl } = (await minted.json()) as { url: string };
    const body = slashCommandBody({ text: 'status web', userId: people.alice, channelId: channels.ops, responseUrl });
    const send = (secret: string) => {
      const req = signed(secret, body, 'application/x-www-form-urlencoded');
      return fetch(`${stack.router.url}/slack/events`, { method: 'POST', headers: req.headers, body: req.body });
    };
    expect((await send('not-the-stack-secret')).status).toBe(401);
    expect((await send(stack.slack.signingSecret)).status).toBe(200);
    const answer = await until('the answer at slack.messagesUrl', async () => {
      const { messages } = (await (await fetch(stack.slack.messagesUrl)).json()) as { messages: { via: string; ephemeralTo?: string; text?: string }[] };
      return messages.find((m) => m.via === 'response_url' && m.ephemeralTo === people.alice);
    }, 15_000);
    // No deploy of demo/web has run on this fresh stack.
    expect(answer.text).toContain('deploy-demo-web');
    expect(answer.text).toContain('not found');
  });

  it('runs the production events path: what AWS publishes reaches the router through the kit\'s EventBridge rule and queue', async () => {
    // A spot warning as EC2 publishes it, for an instance in no cluster: the drain starts and ends not-in-cluster.
    const instanceId = `i-${randomUUID().replace(/-/g, '').slice(0, 17)}`;
    const res = await fetch(`${stack.aws.endpoint}/_sim/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ source: 'aws.ec2', detailType: 'EC2 Spot Instance Interruption Warning', detail: { 'instance-id': instanceId, 'instance-action': 'terminate' } }),
    });
    expect(((await res.json()) as { event: { delivered: boolean } }).event.delivered).toBe(true);
    const connection = await Connection.connect({ address: stack.temporal.address });
    try {
      const handle = new Client({ connection }).workflow.getHandle(`drain-${instanceId}`);
      const result = await until('the drain the warning started', () => handle.result().catch(() => undefined), 30_000, 250);
      expect(result).toMatchObject({ outcome: 'not-in-cluster', instanceId });
    } finally {
      await connection.close();
    }
    const metrics = await (await fetch(`${stack.router.url}/metrics`)).text();
    expect(metrics).toMatch(/fleetops_router_events_routed_total\{action="started",kind="spot-interruption-warning",transport="sqs"\} 1/);
  });

  it('stops every process it started on SIGINT', async () => {
    const running = local.processes().map((p) => p.cmd);
    for (const part of ['temporal server start-dev', 'simulator/main.ts', 'moto_server', 'workers/main.ts', 'router/main.ts']) {
      expect(running.filter((cmd) => cmd.includes(part))).not.toHaveLength(0);
    }
    const t = Date.now();
    const { code } = await local.stop();
    process.stdout.write(`[stack test] stopped in ${Date.now() - t} ms\n`);
    expect(code).toBe(0);
    // The watchdog shell exits right after the stack; give it a moment.
    const left = await until('no process of the stack left', () => (local.processes().length === 0 ? [] : undefined), 5_000).catch(() =>
      local.processes(),
    );
    expect(left).toEqual([]);
    expect(local.output()).toContain('stack: stopped in');
  });
});
