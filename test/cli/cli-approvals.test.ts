import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { statusQuery } from '../../contracts/controls';
import { TASK_QUEUE_DEFAULT } from '../../common/task-queues';
import { approveUpdate, type ApproveRequest, type DeployResult, type DeployStatus } from '../../contracts/canary-deploy/messages';
import { mock, planOf, type Mock } from '../deploy/deploy-mock';
import { untilValue } from '../../testkit/poll';
import { bundledWorkflows, connectDevServer } from '../harness/temporal';
import { createWorker } from '../harness/workers';
import { until } from '../../testkit/poll';
import { cli, parseJson, writeCliConfig } from './helpers';

/**
 * Who may approve a deploy is the workflow's decision, whatever the channel: here through `fleetops
 * approve` (the OS user, cli:<user>) and an SDK client (executeUpdate approve), against the real
 * canaryDeploy on the dev server with its AWS activities mocked (test/deploy/deploy-mock.ts). Alice
 * (Slack U0ALICE01, CLI alice) and Bob (U0BOB0001, bob) approve web; members of S0RELEASE too. Alice
 * requests with `fleetops deploy`; she cannot approve it from Slack or the CLI, nobody approves
 * anonymously or from off the list, Bob can. `fleetops deploy` of an image outside web's repositories is
 * refused before any workflow or AWS call. The same people through Slack buttons: test/slack/deploy.test.ts.
 */

const ALICE = 'U0ALICE01';
const BOB = 'U0BOB0001';
const CAROL = 'U0CAROL01';
const GROUP = 'S0RELEASE';
const tag = `${process.pid}${Date.now().toString(36)}`;
const clusters = { cli: `ap${tag}a`, group: `ap${tag}b`, refused: `ap${tag}c` };

let env: TestWorkflowEnvironment;
let client: Client;
let worker: Worker;
let workerRun: Promise<void>;
let cliEnv: NodeJS.ProcessEnv;
let dir: string;
let m: Mock;
let revisions = 0;

beforeAll(async () => {
  env = await connectDevServer();
  const namespace = `fleetops-cli-approvals-${tag}`;
  await env.client.connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
  client = new Client({ connection: env.client.connection, namespace });
  dir = mkdtempSync(join(tmpdir(), 'fleetops-cli-approvals-'));
  writeFileSync(join(dir, 'signing-secret'), 'cli-approvals-test-signing-secret');
  const config = writeCliConfig(
    dir,
    Object.values(clusters).map((cluster) => ({ cluster, name: 'web' })),
    {
      slack: {
        signingSecretFile: 'signing-secret',
        teamId: 'T0FLEETOPS',
        approvers: Object.fromEntries(Object.values(clusters).map((c) => [`${c}/web`, { users: [ALICE, BOB], groups: [GROUP] }])),
      },
      people: { alice: { slack: [ALICE], cli: ['alice'] }, bob: { slack: [BOB], cli: ['bob'] } },
    },
  );
  cliEnv = { FLEETOPS_TEMPORAL_ADDRESS: process.env.FLEETOPS_TEST_TEMPORAL_ADDRESS, FLEETOPS_TEMPORAL_NAMESPACE: namespace, FLEETOPS_CONFIG: config };
  await until('setup in the new namespace', async () => ((await cli(['setup'], cliEnv)).code === 0 ? true : undefined), { timeoutMs: 30_000, intervalMs: 250 });
  // A gate right after the first weight, and no bakes: the deploy waits for a human at once.
  m = mock({
    plan: planOf({ alarms: [], steps: [{ kind: 'setWeight', weight: 10 }, { kind: 'gate', timeoutSeconds: 3600 }, { kind: 'promote' }], postPromotionBakeSeconds: 0, servicePollSeconds: 1 }),
    stableDesired: 2,
    stableRunning: 2,
  }, {
    // A new revision per deploy: the mock's world is shared by this file's deploys, and one promoted already.
    async resolveDeployRevision() {
      revisions += 1;
      return { taskDefinitionArn: `arn:aws:ecs:us-east-1:123456789012:task-definition/web:${revisions + 1}`, registered: true, dryRunCalls: [] };
    },
  });
  worker = await createWorker({ connection: env.nativeConnection, namespace, taskQueue: TASK_QUEUE_DEFAULT, ...bundledWorkflows(), activities: m.activities });
  workerRun = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await workerRun;
  await env?.teardown();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const handleOf = (cluster: string) => client.workflow.getHandle(`deploy-${cluster}-web`);

async function deployAs(user: string, cluster: string): Promise<void> {
  const r = await cli(['deploy', cluster, 'web', '--image', 'registry.example/web:2', '--json'], cliEnv, undefined, user);
  expect(r).toMatchObject({ code: 0 });
  expect(parseJson<{ input: { requestedBy: string } }>(r.stdout).input.requestedBy).toBe(`cli:${user}`);
  await untilValue('the gate', async () => ((await handleOf(cluster).query(statusQuery)) as DeployStatus).phase, (p) => p === 'awaiting-approval', { timeoutMs: 30_000 });
}

/** An SDK client's approval: the workflow's refusal message, or 'accepted'. */
async function sdkApprove(cluster: string, request: ApproveRequest): Promise<string> {
  try {
    await handleOf(cluster).executeUpdate<DeployStatus, [ApproveRequest]>(approveUpdate.name, { args: [request] });
    return 'accepted';
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) return String(err.cause?.message);
    throw err;
  }
}

describe('approvals are the workflow’s decision', () => {
  test('alice requests with the CLI; her approval from Slack or the CLI, an anonymous one and strangers are refused; bob approves with the CLI', async () => {
    await deployAs('alice', clusters.cli);

    expect(await sdkApprove(clusters.cli, { by: `slack:${ALICE}` })).toBe(`slack:${ALICE} requested this deploy (as cli:alice) and cannot approve it: someone else must`);
    expect(await sdkApprove(clusters.cli, { by: 'person:alice' })).toContain('requested this deploy (as cli:alice)');
    expect(await sdkApprove(clusters.cli, {})).toBe(`an approval must say who approves (by): nobody approves a deploy of ${clusters.cli}/web anonymously`);
    expect(await sdkApprove(clusters.cli, { by: '' })).toContain('must say who approves');
    expect(await sdkApprove(clusters.cli, { by: 'cli:mallory' })).toBe(`cli:mallory is not an approver of ${clusters.cli}/web`);
    expect(await sdkApprove(clusters.cli, { by: `slack:${CAROL}` })).toBe(`slack:${CAROL} is not an approver of ${clusters.cli}/web`);
    expect(await sdkApprove(clusters.cli, { by: `slack:${CAROL}`, viaGroup: 'S0OTHERS' })).toContain('through user group S0OTHERS, which is not an approver');
    expect(await sdkApprove(clusters.cli, { by: 'cli:mallory', viaGroup: GROUP })).toContain('only a Slack user approves through a user group');

    const own = await cli(['approve', `deploy-${clusters.cli}-web`], cliEnv, undefined, 'alice');
    expect(own.code).toBe(1);
    expect(own.stderr).toContain('rejected: cli:alice requested this deploy and cannot approve it: someone else must');
    // FLEETOPS_OPERATOR is not an identity any more: mallory setting it to bob is still mallory.
    const posing = await cli(['approve', `deploy-${clusters.cli}-web`], { ...cliEnv, FLEETOPS_OPERATOR: 'cli:bob' }, undefined, 'mallory');
    expect(posing.code).toBe(1);
    expect(posing.stderr).toContain(`rejected: cli:mallory is not an approver of ${clusters.cli}/web`);
    expect(((await handleOf(clusters.cli).query(statusQuery)) as DeployStatus).phase).toBe('awaiting-approval');

    const bob = await cli(['approve', `deploy-${clusters.cli}-web`, '--reason', 'canary clean', '--json'], cliEnv, undefined, 'bob');
    expect(bob.code).toBe(0);
    const result = (await handleOf(clusters.cli).result()) as DeployResult;
    expect(result.outcome).toBe('promoted');
    expect(result.decisions.filter((d) => d.decision === 'approve').map((d) => d.reason)).toEqual(['approved by cli:bob: canary clean']);
  });

  test('a member of a listed Slack group approves through it (the Slack app says which group)', async () => {
    await deployAs('alice', clusters.group);
    expect(await sdkApprove(clusters.group, { by: `slack:${CAROL}`, viaGroup: GROUP, reason: 'approved in Slack' })).toBe('accepted');
    const result = (await handleOf(clusters.group).result()) as DeployResult;
    expect(result.outcome).toBe('promoted');
    expect(result.decisions.find((d) => d.decision === 'approve')?.reason).toBe(`approved by slack:${CAROL} (user group ${GROUP}): approved in Slack`);
  });

  test.each([
    ['registry.evil.example/backdoor:1', 'image repository registry.evil.example/backdoor is not one'],
    ['registry.example/web-evil:1', 'image repository registry.example/web-evil is not one'],
    ['evil.example/registry.example/web:1', 'image repository evil.example/registry.example/web is not one'],
  ])('fleetops deploy of %s is refused before any workflow or AWS call', async (image, reason) => {
    const r = await cli(['deploy', clusters.refused, 'web', '--image', image, '--json'], cliEnv, undefined, 'alice');
    expect(r.code).toBe(1);
    expect(parseJson(r.stderr)).toMatchObject({ error: expect.stringContaining(`deploy of ${clusters.refused}/web refused: ${reason}`), refused: true, field: 'image' });
    const described = await handleOf(clusters.refused)
      .describe()
      .then(() => 'started')
      .catch((err) => (err instanceof WorkflowNotFoundError ? 'none' : Promise.reject(err)));
    expect(described).toBe('none');
    expect((m.calls.resolveDeployRevision ?? []).filter((c) => (c as { cluster: string }).cluster === clusters.refused)).toEqual([]);
    expect((m.calls.resolveDeployPlan ?? []).filter((c) => (c as { cluster: string }).cluster === clusters.refused)).toEqual([]);
  });
});
