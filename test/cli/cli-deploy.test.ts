import { Context } from '@temporalio/activity';
import { msToTs } from '@temporalio/common/lib/time';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { TASK_QUEUE_DEFAULT } from '../../common/task-queues';
import { until } from '../../testkit/poll';
import { bundledWorkflows, connectDevServer } from '../harness/temporal';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, parseJson, writeCliConfig } from './helpers';
import { createWorker } from '../harness/workers';

/**
 * `deploy` and `approve` against the real canaryDeploy workflow on the dev server, in a namespace of
 * its own (search attributes added by `fleetops setup`) so the worker can poll the real `fleetops`
 * task queue the CLI starts on. The deploy's first AWS step (the plan lookup) is held, so the deploy
 * stays in preflight: enough to see the start, the one-deploy-per-service rule and the gate validator.
 */

let env: TestWorkflowEnvironment;
let worker: Worker;
let workerRun: Promise<void>;
let cliEnv: NodeJS.ProcessEnv;
let configDir: string;
const service = `web${process.pid}`;

/** Holds the deploy in preflight: the plan lookup does not finish while the test runs. */
async function resolveDeployPlan(): Promise<never> {
  await Context.current().sleep(120_000);
  throw new Error('held for the CLI test');
}

beforeAll(async () => {
  env = await connectDevServer();
  const namespace = `fleetops-cli-deploy-${process.pid}-${Date.now().toString(36)}`;
  await env.client.connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
  configDir = mkdtempSync(join(tmpdir(), 'fleetops-cli-deploy-'));
  const config = writeCliConfig(configDir, [{ cluster: 'demo', name: service }]);
  cliEnv = { FLEETOPS_TEMPORAL_ADDRESS: process.env.FLEETOPS_TEST_TEMPORAL_ADDRESS, FLEETOPS_TEMPORAL_NAMESPACE: namespace, FLEETOPS_CONFIG: config };
  await until('setup in the new namespace', async () => ((await cli(['setup'], cliEnv)).code === 0 ? true : undefined), { timeoutMs: 30_000, intervalMs: 250 });
  worker = await createWorker({
    connection: env.nativeConnection,
    namespace,
    taskQueue: TASK_QUEUE_DEFAULT,
    ...bundledWorkflows(),
    activities: { resolveDeployPlan },
  });
  workerRun = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await workerRun;
  await env?.teardown();
  if (configDir) rmSync(configDir, { recursive: true, force: true });
});

describe('deploy and approve', () => {
  test('deploy starts the canary deploy with its search attributes; a second one is refused; approve outside a gate is rejected', async () => {
    const r = await cli(['deploy', 'demo', service, '--image', '123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.4.2', '--dry-run', '--json'], cliEnv);
    expect(r.code).toBe(0);
    const started = parseJson<{ workflowId: string; input: Record<string, unknown> }>(r.stdout);
    expect(started).toMatchObject({
      workflowId: `deploy-demo-${service}`,
      input: { cluster: 'demo', service, image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.4.2', dryRun: true, requestedBy: 'cli:test' },
    });

    const status = await until('the deploy in preflight', async () => {
      const s = await cli(['status', started.workflowId, '--json'], cliEnv);
      const v = parseJson<{ status?: { phase: string }; searchAttributes: Record<string, string>; staticSummary: string; type: string }>(s.stdout);
      return v.status?.phase === 'preflight' && v.searchAttributes.FleetopsPhase ? v : undefined;
    }, { timeoutMs: 20_000, intervalMs: 250 });
    expect(status).toMatchObject({
      type: 'canaryDeploy',
      searchAttributes: { FleetopsKind: 'deploy', FleetopsCluster: 'demo', FleetopsService: service, FleetopsPhase: 'preflight' },
      staticSummary: expect.stringContaining(`Canary deploy of demo/${service}`),
    });

    const again = await cli(['deploy', 'demo', service, '--task-definition', 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:42', '--json'], cliEnv);
    expect(again.code).toBe(1);
    expect(parseJson(again.stderr)).toMatchObject({ error: `a deploy of demo/${service} is already running: deploy-demo-${service}`, duplicate: true });

    const approve = await cli(['approve', started.workflowId, '--reason', 'looks good'], cliEnv);
    expect(approve.code).toBe(1);
    expect(approve.stderr).toContain('rejected:');

    const abort = await cli(['abort', started.workflowId, '--reason', 'wrong image', '--json'], cliEnv);
    expect(abort.code).toBe(0);
    expect(parseJson(abort.stdout)).toMatchObject({ status: { abortRequested: 'wrong image' } });
    await env.client.workflow.getHandle(started.workflowId, undefined, { followRuns: false }).terminate('CLI test done').catch(() => undefined);
  });

  test.each([
    [['deploy', 'demo', 'web'], 'give exactly one of --image or --task-definition'],
    [['deploy', 'demo', 'web', '--image', 'web:1', '--task-definition', 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:42'], 'give exactly one of'],
    [['deploy', 'demo', 'web', '--image', 'Web:1 latest'], 'invalid --image'],
    [['deploy', 'demo', 'web', '--task-definition', 'web:42'], 'invalid --task-definition "web:42": must be a task definition ARN'],
    [['deploy', 'my cluster', 'web', '--image', 'web:1'], 'invalid cluster "my cluster"'],
    [['deploy', 'demo'], "missing required argument 'service'"],
    [['approve'], "missing required argument 'workflow-id'"],
    [['approve', 'deploy-demo-web', '--reason', ''], 'invalid --reason'],
  ])('%j exits 2 with a message', async (args, message) => {
    const r = await cli(args, cliEnv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });
});
