import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { Config } from '@jest/types';
import { ALL_SEARCH_ATTRIBUTES } from '../../common/search-attributes';
import { ROOT, TEMPORAL_CLI, TEST_RUN_DIR, TEST_SERVER_WRAPPER, WORKFLOW_BUNDLE_PATH } from './paths';

/**
 * Starts what every suite shares, once per jest run:
 *  - the workflow bundle (bundling takes seconds; suites load it by path);
 *  - one Temporal dev server (real server, SQLite in memory) with fleetops's search attributes;
 *  - one time-skipping test server per jest worker. sdk-core gives a server 5 s to come up and the
 *    JVM takes 2-3.5 s on two idle cores (measured), so starting one per suite while other suites
 *    load the CPU would flake; suites connect to their worker's server instead (time-skipping.ts).
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

  const timeSkipping: TestWorkflowEnvironment[] = [];
  const workers = Math.max(1, globalConfig.maxWorkers);
  for (let i = 1; i <= workers; i++) {
    const env = await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: TEST_SERVER_WRAPPER } },
    });
    // The time-skipping server knows no custom search attributes until told; every workflow upserts FleetopsPhase.
    await env.connection.operatorService.addSearchAttributes({
      namespace: 'default',
      searchAttributes: Object.fromEntries(ALL_SEARCH_ATTRIBUTES.map((k) => [k.name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD])),
    });
    timeSkipping.push(env);
    process.env[`FLEETOPS_TEST_TIMESKIPPING_ADDRESS_${i}`] = env.address;
  }

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

  (globalThis as { __fleetopsEnvs?: TestWorkflowEnvironment[] }).__fleetopsEnvs = [...timeSkipping, dev];
  process.stdout.write(
    `\n[harness] workflows bundled in ${bundledMs} ms; servers up in ${Date.now() - started - bundledMs} ms ` +
      `(dev ${dev.address}, time-skipping ${timeSkipping.map((e) => e.address).join(', ')})\n`,
  );
}
