import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ALL_SEARCH_ATTRIBUTES } from '../common/search-attributes';
import { sdkDevServerPortArgs } from './temporal-server';

/**
 * A Temporal dev server started through the SDK (the test suite's, the benchmarks'): the given CLI on
 * loopback, fleetops' search attributes registered, errors-only JSON logs, and every port chosen here
 * (the SDK picks --port; the HTTP API and metrics ports come from stack/ports.ts, so the CLI never
 * picks one that another server of the run then fails to bind).
 */
export async function startSdkDevServer(temporalCli: string, extraArgs: string[] = []): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalCli },
      ip: '127.0.0.1',
      searchAttributes: [...ALL_SEARCH_ATTRIBUTES],
      log: { format: 'json', level: 'error' },
      extraArgs: [...(await sdkDevServerPortArgs()), ...extraArgs],
    },
  });
}
