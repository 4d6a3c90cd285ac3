import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { stringify } from 'yaml';
import { ROOT } from '../paths';
import { until } from '../poll';
import type { TestWorld } from './fixtures';
import { TEST_TOKEN } from './router-harness';

/** Queues and a router child process for the SQS tests and the benchmark. */
export interface Queues {
  url: string;
  dlqUrl: string;
}

/**
 * An events queue and its dead-letter queue named as fleetops-events.yaml names a stack's
 * (`<stack>-events`, `<stack>-events-dlq`): each test world is a deployment of the kit under its own
 * stack name, which the IAM proof evaluates the router's and operators' calls against
 * (scripts/iam/check-aws-calls.ts).
 */
export async function createQueues(sqs: SQSClient, stackName: string, opts: { visibilityTimeout: number; maxReceiveCount: number }): Promise<Queues> {
  const name = `${stackName}-events`;
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
  const q = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: String(opts.visibilityTimeout),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: opts.maxReceiveCount }),
      },
    }),
  );
  return { url: q.QueueUrl as string, dlqUrl: dlq.QueueUrl as string };
}

/** Visible + in flight (received, not deleted) messages. */
export async function depth(sqs: SQSClient, url: string): Promise<{ visible: number; inFlight: number; total: number }> {
  const a = (
    await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    )
  ).Attributes;
  const visible = Number(a?.ApproximateNumberOfMessages ?? 0);
  const inFlight = Number(a?.ApproximateNumberOfMessagesNotVisible ?? 0);
  return { visible, inFlight, total: visible + inFlight };
}

export async function sendAll(sqs: SQSClient, url: string, bodies: string[]): Promise<void> {
  for (let i = 0; i < bodies.length; i += 10) {
    const res = await sqs.send(
      new SendMessageBatchCommand({ QueueUrl: url, Entries: bodies.slice(i, i + 10).map((b, j) => ({ Id: String(i + j), MessageBody: b })) }),
    );
    if (res.Failed?.length) throw new Error(`SendMessageBatch failed: ${JSON.stringify(res.Failed)}`);
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export interface RouterProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  signalledAt?: number;
  kill(signal: NodeJS.Signals): void;
}

/** router/main.ts as its own process (node + tsx loader, one process, so SIGKILL hits the router itself). */
export async function spawnRouter(world: TestWorld, env: Record<string, string>): Promise<RouterProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'fleetops-router-'));
  const configPath = join(dir, 'fleetops.yaml');
  writeFileSync(configPath, stringify(world.config));
  const port = await freePort();
  let out = '';
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'router', 'main.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      FLEETOPS_CONFIG: configPath,
      FLEETOPS_ROUTER_TOKEN: TEST_TOKEN,
      FLEETOPS_ROUTER_PORT: String(port),
      FLEETOPS_LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d) => (out += String(d)));
  child.stderr?.on('data', (d) => (out += String(d)));
  const proc: RouterProcess = {
    child,
    url: `http://127.0.0.1:${port}`,
    output: () => out,
    exited: new Promise((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal, ms: proc.signalledAt ? Date.now() - proc.signalledAt : -1 })),
    ),
    kill(signal) {
      proc.signalledAt = Date.now();
      child.kill(signal);
    },
  };
  await until(
    'router listening',
    async () => {
      if (child.exitCode !== null) throw new Error(`router exited ${child.exitCode}: ${out}`);
      return out.includes('router listening');
    },
    // A router that exited will not listen: that fails at once.
    { timeoutMs: 20_000, failOnError: true },
  );
  return proc;
}
