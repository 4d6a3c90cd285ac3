import { createServer } from 'node:net';
import { Connection } from '@temporalio/client';
import { DescribeAvailabilityZonesCommand } from '@aws-sdk/client-ec2';
import type { AwsClients } from '../activities/aws/clients';
import { ALL_SEARCH_ATTRIBUTES } from '../common/search-attributes';
import type { ManagedChild } from './processes';

/**
 * Readiness checks for the stack's parts. Each `waitFor…` polls until its check passes, the child it
 * waits on exits (failing at once with that), or the timeout passes (failing with what was last seen).
 */

// Values of Temporal's proto enums (IndexedValueType, TaskQueueKind, TaskQueueType); @temporalio/proto
// is not a direct dependency, so the numbers stand here under their proto names.
const INDEXED_VALUE_TYPE_KEYWORD = 2;
const TASK_QUEUE_KIND_NORMAL = 1;
const TASK_QUEUE_TYPE_WORKFLOW = 1;

export class NotReadyError extends Error {
  override readonly name = 'NotReadyError';
}

export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  opts: { timeoutMs: number; intervalMs?: number; child?: ManagedChild },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let last = 'not checked yet';
  for (;;) {
    if (opts.child && !opts.child.isRunning()) throw new NotReadyError(`${what}: ${opts.child.name} exited before it was ready`);
    try {
      const result = await check();
      if (result !== undefined) return result;
      last = 'not ready';
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new NotReadyError(`${what}: not ready after ${opts.timeoutMs} ms (${last})`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}

/** Fails early with the env var to change when a port the stack needs is taken. */
export async function assertPortFree(host: string, port: number, envName: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`port ${host}:${port} is not free (${err.code ?? err.message}); set ${envName} to another port, or stop what uses it`)),
    );
    srv.listen(port, host, () => srv.close(() => resolve()));
  });
}

export async function httpStatus(url: string, init: RequestInit = {}): Promise<number> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(2_000) });
  await res.arrayBuffer();
  return res.status;
}

export async function connectTemporal(address: string): Promise<Connection> {
  return Connection.connect({ address, connectTimeout: 1_000 });
}

/**
 * Makes sure every search attribute of docs/contract.md exists. The dev server registers them from its
 * `--search-attribute` flags on first start; with an existing SQLite file they are already there
 * and the flags are no-ops. Checking and adding the missing ones covers a database made by an
 * older stack, or one where registration did not finish.
 */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const have = new Set(Object.keys(existing.customAttributes ?? {}));
  const missing = ALL_SEARCH_ATTRIBUTES.filter((k) => !have.has(k.name));
  if (missing.length === 0) return [];
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((k) => [k.name, INDEXED_VALUE_TYPE_KEYWORD])),
    });
  } catch (err) {
    // Another client added them between list and add.
    if (!/already exists/i.test((err as Error).message)) throw err;
  }
  return missing.map((k) => k.name);
}

/**
 * True when a worker whose identity starts with `<pid>@` polls `taskQueue`. The identity check
 * matters after a restart: the server keeps listing the previous run's pollers for a few minutes.
 */
export async function workerPolls(connection: Connection, namespace: string, taskQueue: string, pid: number): Promise<boolean> {
  const res = await connection.workflowService.describeTaskQueue({
    namespace,
    taskQueue: { name: taskQueue, kind: TASK_QUEUE_KIND_NORMAL },
    taskQueueType: TASK_QUEUE_TYPE_WORKFLOW,
  });
  return (res.pollers ?? []).some((p) => p.identity?.startsWith(`${pid}@`));
}

export async function awsAnswers(aws: AwsClients): Promise<boolean> {
  const res = await aws.ec2.send(new DescribeAvailabilityZonesCommand({}));
  return (res.AvailabilityZones?.length ?? 0) > 0;
}
