import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..');
export const TOOLS_BIN = join(ROOT, '.tools', 'bin');
export const TEMPORAL_CLI = join(TOOLS_BIN, 'temporal');
export const TEST_SERVER_WRAPPER = join(TOOLS_BIN, 'temporal-test-server');
export const MOTO_SERVER = join(TOOLS_BIN, 'moto_server');
/** Per-run scratch space: the workflow bundle, server logs. */
export const TEST_RUN_DIR = join(ROOT, '.run', 'test');
export const WORKFLOW_BUNDLE_PATH = join(TEST_RUN_DIR, 'workflow-bundle.js');
/**
 * One file per running time-skipping server (named by pid), so global teardown can stop leftovers:
 * one folder per jest run (global-setup.ts names it), so a run never stops another run's servers.
 */
export const TEST_SERVER_PIDS_DIR = join(TEST_RUN_DIR, 'time-skipping-pids');
export const runServerPidsDir = (): string => process.env.FLEETOPS_TEST_SERVER_PIDS_DIR ?? join(TEST_SERVER_PIDS_DIR, 'unnamed-run');
/** Histories the workflow tests record; test/replay.test.ts replays every one of them. */
export const HISTORIES_DIR = join(ROOT, 'test', 'histories');
/** Test outputs worth keeping (screenshots); git-ignored. */
export const ARTIFACTS_DIR = join(ROOT, 'artifacts');
