import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startEmulator, type Emulator } from '../../testkit/emulator';
import { ROOT } from '../../testkit/paths';
import { connectDevServer } from '../harness/temporal';
import { createTestWorld, newInstanceId } from '../../testkit/router/fixtures';
import { AWS_EVENTS_TEST_TOKEN, startTestRouter, type TestRouter } from '../../testkit/router/router-harness';
import { createQueues, depth, type Queues } from '../../testkit/router/sqs-harness';
import { cli, parseJson } from './helpers';

/**
 * `fleetops events dlq` against moto (behind the simulator) and an in-process router on the dev
 * server: it lists the dead-letter queue with why each message is there; `--replay` moves the messages
 * back to the events queue with SQS's message move (the simulator's, as moto lacks it);
 * `--replay --through-router` sends them through the router, deleting the ones it accepted.
 */

jest.setTimeout(60_000);

let emu: Emulator;
let env: TestWorkflowEnvironment;
let router: TestRouter;
let sqs: SQSClient;
let q: Queues;
const world = createTestWorld();

const warning = world.event('spot-interruption-warning');
const broken = { ...world.event('rebalance-recommendation'), detail: { 'instance-id': 'i-NOT-AN-ID' } };
const launch = {
  ...JSON.parse(readFileSync(join(ROOT, 'router', 'events', 'examples', 'asg-direct', 'lifecycle-launch.json'), 'utf8')),
  RequestId: randomUUID(),
  EC2InstanceId: newInstanceId(),
  AutoScalingGroupName: 'demo-on-demand',
};

beforeAll(async () => {
  [emu, env] = await Promise.all([startEmulator(), connectDevServer()]);
  sqs = new SQSClient({ region: emu.region, endpoint: emu.endpoint });
  router = await startTestRouter(world, env.connection);
  q = await createQueues(sqs, world.cluster, { visibilityTimeout: 10, maxReceiveCount: 3 });
  // What a redrive policy put there: a warning sent while the router was broken, an event that never
  // validated, and an ASG notification in the group's own format.
  for (const body of [warning, broken, launch]) await sqs.send(new SendMessageCommand({ QueueUrl: q.dlqUrl, MessageBody: JSON.stringify(body) }));
});

afterAll(async () => {
  await router?.stop();
  sqs?.destroy();
  await emu?.stop();
  await env?.teardown();
});

const cliEnv = () => ({ FLEETOPS_AWS_ENDPOINT: emu.endpoint, AWS_REGION: emu.region });

const exists = (id: string) =>
  env.client.workflow
    .getHandle(id)
    .describe()
    .then(() => true)
    .catch((err) => {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    });

interface Listing {
  dlqUrl: string;
  messages: { messageId: string; event: { id: string; source: string; detailType: string } | null; error: string | null; receiveCount: number; sentAt: string }[];
}

describe('fleetops events dlq', () => {
  it('lists the dead-letter queue (found from the events queue) with why the router refuses each message now', async () => {
    const r = await cli(['events', 'dlq', '--queue-url', q.url, '--json'], cliEnv());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const listing = parseJson<Listing>(r.stdout);
    expect(listing.dlqUrl).toBe(q.dlqUrl);
    const byEvent = new Map(listing.messages.map((m) => [m.event?.id, m]));
    expect(listing.messages).toHaveLength(3);
    expect(byEvent.get(warning.id)).toMatchObject({ error: null, event: { source: 'aws.ec2', detailType: 'EC2 Spot Instance Interruption Warning' } });
    expect(byEvent.get(broken.id)?.error).toMatch(/^detail\.instance-id: must be an EC2 instance id/);
    expect(byEvent.get(launch.RequestId)).toMatchObject({ error: null, event: { source: 'aws.autoscaling', detailType: 'EC2 Instance-launch Lifecycle Action' } });
    // Listing takes nothing away.
    expect((await depth(sqs, q.dlqUrl)).total).toBe(3);

    const human = await cli(['events', 'dlq', '--dlq-url', q.dlqUrl], cliEnv());
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`3 message(s) in ${q.dlqUrl}`);
    expect(human.stdout).toContain('valid now: --replay moves it back to the events queue');
  });

  it('--replay --through-router sends every message through the router, deletes the accepted ones and leaves the refused one, exit 1', async () => {
    const r = await cli(['events', 'dlq', '--dlq-url', q.dlqUrl, '--replay', '--through-router', '--router-url', router.url, '--json'], { ...cliEnv(), FLEETOPS_ROUTER_TOKEN: AWS_EVENTS_TEST_TOKEN });
    expect(r.code).toBe(1);
    const out = parseJson<{ replayed: { messageId: string; results: { eventId: string; action: string; workflowId: string }[] }[]; left: { error: string; status: number }[] }>(r.stdout);
    expect(out.replayed.flatMap((m) => m.results).map((x) => [x.eventId, x.action, x.workflowId]).sort()).toEqual(
      [
        [warning.id, 'started', `drain-${warning.detail['instance-id'] as string}`],
        [launch.RequestId, 'started', `launch-${launch.EC2InstanceId}`],
      ].sort(),
    );
    expect(out.left).toEqual([{ messageId: expect.any(String), status: 400, error: expect.stringMatching(/^detail\.instance-id: /) }]);
    expect(r.stderr).toContain('1 message(s) the router still refuses stay in the dead-letter queue');
    expect(await exists(`drain-${warning.detail['instance-id'] as string}`)).toBe(true);
    expect(await exists(`launch-${launch.EC2InstanceId}`)).toBe(true);
    expect((await depth(sqs, q.dlqUrl)).total).toBe(1);
  });

  it('without a queue to read it is a usage error (exit 2) that says what to pass', async () => {
    const r = await cli(['events', 'dlq'], { ...cliEnv() }, '/tmp');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no dead-letter queue: pass --dlq-url or --queue-url');
  });

  it('--replay --through-router without a router is a usage error', async () => {
    const r = await cli(['events', 'dlq', '--dlq-url', q.dlqUrl, '--replay', '--through-router'], cliEnv(), '/tmp');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--replay --through-router needs the router');
  });

  it('--replay moves every message back to the events queue with an SQS message move and reports the task COMPLETED', async () => {
    const moved = await createQueues(sqs, `${world.cluster}-redrive`, { visibilityTimeout: 10, maxReceiveCount: 3 });
    const bodies = [warning, broken, launch].map((b) => JSON.stringify(b));
    for (const body of bodies) await sqs.send(new SendMessageCommand({ QueueUrl: moved.dlqUrl, MessageBody: body }));
    const r = await cli(['events', 'dlq', '--queue-url', moved.url, '--replay', '--rate', '50', '--json'], cliEnv());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(parseJson(r.stdout)).toEqual({
      dlqUrl: moved.dlqUrl,
      sourceArn: expect.stringMatching(/-redrive-events-dlq$/),
      destinationArn: expect.stringMatching(/-redrive-events$/),
      taskHandle: expect.any(String),
      status: 'COMPLETED',
      moved: 3,
      toMove: 3,
    });
    expect((await depth(sqs, moved.dlqUrl)).total).toBe(0);
    const back = await sqs.send(new ReceiveMessageCommand({ QueueUrl: moved.url, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }));
    expect((back.Messages ?? []).map((m) => m.Body).sort()).toEqual([...bodies].sort());
  });

  it('--replay of a queue that is nobody\'s dead-letter queue fails with SQS\'s reason (exit 1); nothing moves', async () => {
    // Named as a stack's dead-letter queue (the operator policy's), but no queue's dead-letter queue.
    const plain = (await sqs.send(new CreateQueueCommand({ QueueName: `${world.cluster}-plain-events-dlq` }))).QueueUrl as string;
    await sqs.send(new SendMessageCommand({ QueueUrl: plain, MessageBody: JSON.stringify(warning) }));
    const r = await cli(['events', 'dlq', '--dlq-url', plain, '--replay'], cliEnv());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('InvalidParameterValue: Source queue must be configured as a Dead Letter Queue.');
    expect((await depth(sqs, plain)).visible).toBe(1);
  });

  it('--rate out of range, or without --replay, is a usage error', async () => {
    for (const args of [['--replay', '--rate', '0'], ['--replay', '--rate', '501'], ['--rate', '5'], ['--through-router']]) {
      const r = await cli(['events', 'dlq', '--dlq-url', q.dlqUrl, ...args], cliEnv());
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
    }
  });
});
