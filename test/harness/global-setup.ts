import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { Config } from '@jest/types';
import { ALL_SEARCH_ATTRIBUTES } from '../../common/search-attributes';
import { ROOT, TEMPORAL_CLI, TEST_RUN_DIR, TEST_SERVER_WRAPPER, WORKFLOW_BUNDLE_PATH } from './paths';
import { startTimeSkippingServer, type TimeSkippingServer } from './time-skipping-server';

/**
 * Starts what every suite shares, once per jest run:
 *  - the workflow bundle (bundling takes seconds; suites load it by path);
 *  - one Temporal dev server (real server, SQLite in memory) with fleetops's search attributes;
 *  - one time-skipping test server per jest worker, started here (time-skipping-server.ts says why
 *    not through sdk-core); a suite connects to its worker's server (temporal.ts), so no suite pays
 *    for a JVM start.
 * Addresses reach the workers through env vars; the servers are stopped in global-teardown.ts.
 */
export default async function globalSetup(globalConfig: Config.GlobalConfig): Promise<void> {
  for (const tool of [TEMPORAL_CLI, TEST_SERVER_WRAPPER]) {
    if (!existsSync(tool)) throw new Error(`${tool} is missing: run scripts/install-tools.sh (make test does)`);
  }
  mkdirSync(TEST_RUN_DIR, { recursive: true });

  const started = Date.now();
  const bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve(`${ROOT}/workflows`),
    logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} } as never,
  });
  writeFileSync(WORKFLOW_BUNDLE_PATH, bundle.code);
  const bundledMs = Date.now() - started;

  const workers = Math.max(1, globalConfig.maxWorkers);
  const timeSkipping: TimeSkippingServer[] = await Promise.all(Array.from({ length: workers }, () => startTimeSkippingServer()));
  timeSkipping.forEach((server, i) => {
    process.env[`FLEETOPS_TEST_TIMESKIPPING_ADDRESS_${i + 1}`] = server.address;
  });

  const dev = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: TEMPORAL_CLI },
      ip: '127.0.0.1',
      searchAttributes: [...ALL_SEARCH_ATTRIBUTES],
      log: { format: 'json', level: 'error' },
      // Lets tests list workflows by search attribute right after they start.
      extraArgs: ['--dynamic-config-value', 'system.forceSearchAttributesCacheRefreshOnRead=true'],
    },
  });
  process.env.FLEETOPS_TEST_TEMPORAL_ADDRESS = dev.address;
  process.env.FLEETOPS_TEST_WORKFLOW_BUNDLE = WORKFLOW_BUNDLE_PATH;

  (globalThis as { __fleetopsStop?: (() => Promise<void>)[] }).__fleetopsStop = [
    ...timeSkipping.map((s) => s.stop),
    () => dev.teardown(),
  ];
  process.stdout.write(
    `\n[harness] workflows bundled in ${bundledMs} ms; servers up in ${Date.now() - started - bundledMs} ms ` +
      `(dev ${dev.address}, time-skipping ${timeSkipping.map((e) => `${e.address} in ${e.startMs} ms`).join(', ')})\n`,
  );
}
