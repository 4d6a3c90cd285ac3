import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startSdkDevServer } from '../../stack/sdk-dev-server';
import { ROOT, TEMPORAL_CLI, TEST_RUN_DIR, TEST_SERVER_PIDS_DIR, TEST_SERVER_WRAPPER, WORKFLOW_BUNDLE_PATH } from '../../testkit/paths';

/**
 * Starts what every suite shares, once per jest run:
 *  - the workflow bundle (bundling takes seconds; suites load it by path);
 *  - one Temporal dev server (real server, SQLite in memory) with fleetops's search attributes.
 * Time-skipping servers are per suite (temporal.ts, createTimeSkippingEnv). Addresses reach the
 * workers through env vars; global-teardown.ts stops the dev server and any leftover test server.
 */
export default async function globalSetup(): Promise<void> {
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

  const pids = join(TEST_SERVER_PIDS_DIR, String(process.pid));
  rmSync(pids, { recursive: true, force: true });
  process.env.FLEETOPS_TEST_SERVER_PIDS_DIR = pids;

  // Lets tests list workflows by search attribute right after they start; task priority as the local stack has it (stack/temporal-server.ts).
  const dev = await startSdkDevServer(TEMPORAL_CLI, [
    '--dynamic-config-value',
    'system.forceSearchAttributesCacheRefreshOnRead=true',
    '--dynamic-config-value',
    'matching.useNewMatcher=true',
  ]);
  process.env.FLEETOPS_TEST_TEMPORAL_ADDRESS = dev.address;
  process.env.FLEETOPS_TEST_WORKFLOW_BUNDLE = WORKFLOW_BUNDLE_PATH;

  (globalThis as { __fleetopsDev?: TestWorkflowEnvironment }).__fleetopsDev = dev;
  process.stdout.write(
    `\n[harness] workflows bundled in ${bundledMs} ms; dev server ${dev.address} up in ${Date.now() - started - bundledMs} ms\n`,
  );
}
