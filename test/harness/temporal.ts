import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import { closingGuard, type ClosingGuard } from './closing-connection';
import { historyToJSON } from './history-json';
import { trackTimeSkippingEnv } from './leftover-runs';
import { ARTIFACTS_DIR, HISTORIES_DIR, runServerPidsDir } from '../../testkit/paths';
import { startTimeSkippingServer } from './time-skipping-server';
import type { WorkflowFolder } from '../../contracts/registry';

/**
 * Suite-side helpers for the servers global-setup.ts started. Every test uses its own task queue, so
 * suites sharing a server never pick up each other's tasks.
 */

function requireEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run tests through jest (global-setup.ts sets it)`);
  return v;
}

type CreateEnv = (opts: {
  server: { type: 'existing' };
  address: string;
  namespace: string;
  supportsTimeSkipping: boolean;
  connectionOptions: { interceptors: ClosingGuard['interceptors'] };
}) => Promise<TestWorkflowEnvironment>;

/**
 * The SDK's own factory (private: its public API does not take client interceptors), with the
 * closing guard on the connection. `close` closes the guard, then these connections: the ones the
 * environment holds at that time may be another server's (createTimeSkippingEnv).
 */
async function connectEnv(address: string, supportsTimeSkipping: boolean): Promise<{ env: TestWorkflowEnvironment; close(): Promise<void> }> {
  const guard = closingGuard();
  const create = (TestWorkflowEnvironment as unknown as { create: CreateEnv }).create.bind(TestWorkflowEnvironment);
  const env = await create({ server: { type: 'existing' }, address, namespace: 'default', supportsTimeSkipping, connectionOptions: { interceptors: guard.interceptors } });
  const { connection, nativeConnection } = env;
  return {
    env,
    async close() {
      guard.close();
      // As the SDK's teardown does for a server it did not start.
      await connection.close().catch((e: unknown) => console.error(e));
      await nativeConnection.close().catch((e: unknown) => console.error(e));
    },
  };
}

/** The real dev server (no time skipping): search attributes, visibility, Web UI behaviour. */
export async function connectDevServer(): Promise<TestWorkflowEnvironment> {
  const { env, close } = await connectEnv(requireEnv('FLEETOPS_TEST_TEMPORAL_ADDRESS'), false);
  env.teardown = close;
  return env;
}

/**
 * A time-skipping server of the suite's own. Time skipping is global to a server, so a suite that
 * leaves it unlocked (a test that failed while awaiting a result) would make time race ahead in the
 * next suite; a server per suite costs ~3 s of JVM start and makes suites independent.
 * The server is started by time-skipping-server.ts (no 5 s sdk-core limit) and the SDK's own
 * factory connects to it with time skipping on (it is private: the public API connects to running
 * servers only without time skipping). `teardown()` also stops the server; global-teardown.ts stops
 * any server a crashed suite left behind. Runs a test leaves open on it are terminated after the
 * test, and when they held its clock the server is replaced under the same environment
 * (leftover-runs.ts), so that they cannot stop the clock for the file's later tests.
 */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  let current = await startLockedServer();
  const env = current.env;
  const untrack = trackTimeSkippingEnv(env, async () => {
    const next = await startLockedServer();
    const old = current;
    current = next;
    // Tests read these from `env` at each use (env.client, env.nativeConnection), so moving the new
    // server's into it moves them all; `sleep` and `currentTimeMs` use `env.connection`.
    for (const key of ['address', 'connection', 'nativeConnection', 'client', 'asyncCompletionClient', 'workflowClient'] as const) {
      (env as unknown as Record<string, unknown>)[key] = next.env[key];
    }
    await old.close();
  });
  env.teardown = async () => {
    untrack();
    await current.close();
  };
  return env;
}

interface LockedServer {
  env: TestWorkflowEnvironment;
  /** Closes this server's connections (not `env`'s current ones) and stops it. */
  close(): Promise<void>;
}

async function startLockedServer(): Promise<LockedServer> {
  const server = await startTimeSkippingServer();
  mkdirSync(runServerPidsDir(), { recursive: true });
  const pidFile = join(runServerPidsDir(), String(server.pid));
  writeFileSync(pidFile, server.address);
  try {
    const { env, close } = await connectEnv(server.address, true);
    // The server starts with time skipping unlocked: time would race ahead (to the 10-year default
    // execution timeout) before the first workflow task runs. The SDK's TimeSkippingClient assumes
    // the locked state and unlocks only while it awaits a result or sleeps.
    if (!env.connection.testService) throw new Error('the time-skipping connection has no test service');
    await env.connection.testService.lockTimeSkipping({});
    return {
      env,
      async close() {
        await close();
        await server.stop();
        rmSync(pidFile, { force: true });
      },
    };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

let taskQueueCounter = 0;
/** A task queue no other test uses. */
export function uniqueTaskQueue(prefix: string): string {
  taskQueueCounter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${taskQueueCounter}`;
}

/** Worker options that load the bundle global-setup.ts built, instead of bundling per suite. */
export function bundledWorkflows(): Pick<WorkerOptions, 'workflowBundle'> {
  return { workflowBundle: { codePath: requireEnv('FLEETOPS_TEST_WORKFLOW_BUNDLE') } };
}

/**
 * Saves a finished workflow's history for replay. Every run writes artifacts/histories/; with
 * FLEETOPS_RECORD_HISTORIES=1 (`make record-histories`) it also updates the committed copy in
 * test/histories/<workflow folder>/ (contracts/registry.ts), which test/replay.test.ts replays so a
 * non-deterministic change fails CI.
 * The fresh history is replayed at once against the same bundle too.
 */
export async function recordHistory(handle: WorkflowHandle, workflow: WorkflowFolder, caseName: string): Promise<void> {
  const history = await handle.fetchHistory();
  const file = `${caseName.replace(/[^a-zA-Z0-9-]+/g, '-')}.json`;
  const json = historyToJSON(history);
  const targets = [join(ARTIFACTS_DIR, 'histories', workflow, file)];
  if (process.env.FLEETOPS_RECORD_HISTORIES === '1') targets.push(join(HISTORIES_DIR, workflow, file));
  for (const t of targets) {
    mkdirSync(dirname(t), { recursive: true });
    writeFileSync(t, json);
  }
  await Worker.runReplayHistory({ ...bundledWorkflows() }, history, handle.workflowId);
}
