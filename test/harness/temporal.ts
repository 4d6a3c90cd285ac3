import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import { historyToJSON } from './history-json';
import { ARTIFACTS_DIR, HISTORIES_DIR } from './paths';

/**
 * Suite-side helpers for the servers global-setup.ts started. Every test uses its own task queue, so
 * suites sharing a server never pick up each other's tasks.
 */

function requireEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run tests through jest (global-setup.ts sets it)`);
  return v;
}

/** The real dev server (no time skipping): search attributes, visibility, Web UI behaviour. */
export async function connectDevServer(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createFromExistingServer({ address: requireEnv('FLEETOPS_TEST_TEMPORAL_ADDRESS') });
}

type CreateEnv = (opts: {
  server: { type: 'existing' };
  address: string;
  namespace: string;
  supportsTimeSkipping: boolean;
}) => Promise<TestWorkflowEnvironment>;

/**
 * This jest worker's time-skipping server. The SDK exposes connecting to a running server only
 * without time skipping, so this reaches its (private) factory with time skipping on; it is the same
 * code path createTimeSkipping() takes once its server is up.
 */
export async function connectTimeSkipping(): Promise<TestWorkflowEnvironment> {
  const address = requireEnv(`FLEETOPS_TEST_TIMESKIPPING_ADDRESS_${process.env.JEST_WORKER_ID ?? '1'}`);
  const create = (TestWorkflowEnvironment as unknown as { create: CreateEnv }).create.bind(TestWorkflowEnvironment);
  return create({ server: { type: 'existing' }, address, namespace: 'default', supportsTimeSkipping: true });
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
 * test/histories/, which test/replay.test.ts replays so a non-deterministic change fails CI.
 * The fresh history is replayed at once against the same bundle too.
 */
export async function recordHistory(handle: WorkflowHandle, workflow: string, caseName: string): Promise<void> {
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
