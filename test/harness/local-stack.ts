import { startLocalStack as startStack, type LocalStack, type LocalStackOptions } from '../../testkit/local-stack';
import { watchLogFolder } from './workflow-task-failures';

/**
 * The local stack for a test (testkit/local-stack.ts), with its workers' logs watched: a workflow task
 * failure in the stack fails the test it happened in (per-file-setup.ts).
 */
export function startLocalStack(opts: Omit<LocalStackOptions, 'watchLogs'> = {}): Promise<LocalStack> {
  return startStack({ ...opts, watchLogs: (dir) => watchLogFolder('stack', dir) });
}
