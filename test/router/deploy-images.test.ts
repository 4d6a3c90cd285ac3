import { AWS_APP_IDS } from '../../common/aws-app-ids';
import { SQSClient } from '@aws-sdk/client-sqs';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startEmulator, type Emulator } from '../../testkit/emulator';
import { until } from '../../testkit/poll';
import { connectDevServer } from '../harness/temporal';
import { createTestWorld, type Envelope } from '../../testkit/router/fixtures';
import { metricValue, startedWith, startTestRouter, type TestRouter } from '../../testkit/router/router-harness';
import { createQueues, sendAll } from '../../testkit/router/sqs-harness';

/**
 * A Deploy Requested event may deploy only an image of the service's repositories (services[].images,
 * demo: the ECR web repository and public.ecr.aws/nginx/nginx). Through HTTP a refusal is a 400 naming
 * detail.image; through the events queue (EventBridge → SQS) the message is poison, left for the
 * dead-letter queue. Either way no deploy workflow exists afterwards. An event cannot bring approvers
 * of its own.
 */

let env: TestWorkflowEnvironment;
let emu: Emulator;
/** The test's own (creating queues, sending, reading back) and the router's (its app id: the IAM proof records its calls). */
let sqs: SQSClient;
let routerSqs: SQSClient;
let router: TestRouter;
const world = createTestWorld();
const ECR = '123456789012.dkr.ecr.us-east-1.amazonaws.com/web';
const deployId = `deploy-${world.cluster}-${world.service}`;

beforeAll(async () => {
  [env, emu] = await Promise.all([connectDevServer(), startEmulator()]);
  sqs = new SQSClient({ region: emu.region, endpoint: emu.endpoint });
  routerSqs = new SQSClient({ region: emu.region, endpoint: emu.endpoint, userAgentAppId: AWS_APP_IDS.router });
  router = await startTestRouter(world, env.connection);
});
afterAll(async () => {
  await router?.stop();
  sqs?.destroy();
  routerSqs?.destroy();
  await emu?.stop();
  await env?.teardown();
});

const noDeployWorkflow = async () =>
  env.client.workflow
    .getHandle(deployId)
    .describe()
    .then(() => false)
    .catch((err) => {
      if (err instanceof WorkflowNotFoundError) return true;
      throw err;
    });

function deployEvent(detail: Record<string, unknown>): Envelope {
  const e = world.event('deploy-requested');
  e.detail = { cluster: world.cluster, service: world.service, requestedBy: 'mallory', ...detail };
  return e;
}

const HOSTILE: [string, Record<string, unknown>, RegExp][] = [
  ['an image of another registry', { image: 'registry.evil.example/backdoor:1' }, /^detail\.image: image repository registry\.evil\.example\/backdoor is not one rt\w+\/web may run/],
  ['a repository that extends an allowed one', { image: `${ECR}-evil:1` }, /^detail\.image: image repository .*\/web-evil is not one/],
  ['an allowed repository under another registry', { image: `evil.example/${ECR}:1` }, /^detail\.image: image repository evil\.example\/.* is not one/],
  ['a path below an allowed repository', { image: `${ECR}/shell:1` }, /^detail\.image: image repository .*\/web\/shell is not one/],
  ['the allowed name without its registry', { image: 'web:1' }, /^detail\.image: image repository web is not one/],
  ['a malformed reference', { image: `${ECR}:1 --privileged` }, /^detail\.image: image .* is not an image reference/],
  ['approvers of its own', { image: `${ECR}:2`, approval: { approvers: { people: [{ identities: ['cli:mallory'] }], groups: [] } } }, /^detail: .*approval/],
];

describe('Deploy Requested with an image outside the service', () => {
  it.each(HOSTILE)('HTTP: %s is a 400 with the reason, and no deploy starts', async (_what, detail, error) => {
    const res = await router.post(deployEvent(detail));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(error);
    expect(await noDeployWorkflow()).toBe(true);
  });

  it('HTTP: nothing was routed for them; an allowed image still starts, with no approvers from the event', async () => {
    expect(await metricValue(router, 'fleetops_router_events_routed_total')).toBe(0);
    const res = await router.post(deployEvent({ image: `${ECR}:2026-05-01.1`, dryRun: true }));
    expect(res.status).toBe(202);
    expect(res.body.results[0]).toMatchObject({ action: 'started', workflowId: deployId });
    const { args } = await startedWith(env.client.workflow.getHandle(deployId));
    // Over HTTP the requester is the token's name, whatever the event's requestedBy says.
    expect(args).toEqual([{ cluster: world.cluster, service: world.service, image: `${ECR}:2026-05-01.1`, requestedBy: 'token:ops', dryRun: true }]);
    await env.client.workflow.getHandle(deployId).terminate('test over');
  });

  it('events queue (EventBridge → SQS): the refused events are poison and start nothing', async () => {
    const other = createTestWorld();
    const q = await createQueues(sqs, other.cluster, { visibilityTimeout: 30, maxReceiveCount: 3 });
    const bodies = HOSTILE.map(([, detail]) => {
      const e = other.event('deploy-requested');
      e.detail = { cluster: other.cluster, service: other.service, requestedBy: 'mallory', ...detail };
      return JSON.stringify(e);
    });
    await sendAll(sqs, q.url, bodies);
    const consumer = await startTestRouter(other, env.connection, { sqs: { client: routerSqs, queueUrl: q.url, waitTimeSeconds: 1, dlqPollMs: 0 }, callTimeoutMs: 1_000 });
    try {
      await until('every refused message counted as poison', async () => (await metricValue(consumer, 'fleetops_router_sqs_messages_total', { outcome: 'poison' })) >= HOSTILE.length, { timeoutMs: 30_000 });
      const lines = consumer.logs.filter((l) => l.includes('poison message left for the dead-letter queue')).join('\n');
      expect(lines).toContain('detail.image: image repository registry.evil.example/backdoor is not one');
      expect(await metricValue(consumer, 'fleetops_router_events_routed_total')).toBe(0);
      const found = await env.client.workflow
        .getHandle(`deploy-${other.cluster}-${other.service}`)
        .describe()
        .then(() => 'started')
        .catch((err) => (err instanceof WorkflowNotFoundError ? 'none' : Promise.reject(err)));
      expect(found).toBe('none');
    } finally {
      await consumer.stop();
    }
  });
});
