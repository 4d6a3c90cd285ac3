import { Client, Connection } from '@temporalio/client';
import { createAwsClients, type AwsClients } from '../../activities/aws/clients';
import { createSimControl, type SimControl } from '../../simulator/control-client';
import { startLocalStack as startStack, type LocalStack, type LocalStackOptions } from '../../testkit/local-stack';
import { watchLogFolder } from './workflow-task-failures';

/**
 * The local stack for a test (testkit/local-stack.ts), with its workers' logs watched: a workflow task
 * failure in the stack fails the test it happened in (per-file-setup.ts).
 */
export function startLocalStack(opts: Omit<LocalStackOptions, 'watchLogs'> = {}): Promise<LocalStack> {
  return startStack({ ...opts, watchLogs: (dir) => watchLogFolder('stack', dir) });
}

/** A started stack with what its end-to-end tests reach it by: AWS clients, the simulator's controls, Temporal. */
export interface StackUnderTest {
  local: LocalStack;
  aws: AwsClients;
  sim: SimControl;
  connection: Connection;
  client: Client;
}

/** Starts the stack and connects to it (a stack e2e file's beforeAll). A failure part way stops what started. */
export async function openStack(opts: Omit<LocalStackOptions, 'watchLogs'> = {}): Promise<StackUnderTest> {
  const local = await startLocalStack(opts);
  const aws = createAwsClients({ region: local.stack.aws.region, endpoint: local.stack.aws.endpoint });
  try {
    const connection = await Connection.connect({ address: local.stack.temporal.address });
    const client = new Client({ connection, namespace: local.stack.temporal.namespace });
    return { local, aws, sim: createSimControl(local.stack.aws.endpoint), connection, client };
  } catch (err) {
    aws.destroy();
    await local.stop();
    local.cleanup();
    throw err;
  }
}

/** Closes whatever openStack opened (a stack e2e file's afterAll); the milliseconds the stack took to stop, if it ran. */
export async function closeStack(s: Partial<StackUnderTest>): Promise<number | undefined> {
  await s.connection?.close();
  s.aws?.destroy();
  if (!s.local) return undefined;
  const t = Date.now();
  await s.local.stop();
  const ms = Date.now() - t;
  s.local.cleanup();
  return ms;
}
