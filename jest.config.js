/**
 * The suite in four projects, one per tier (test/harness/tiers.js says what each covers and derives
 * each file's tier from what it starts). `make test` runs them all, `make test-fast` unit and workflow.
 * Servers that are slow to start (Temporal dev server) start once per run in globalSetup, and workflow
 * code is bundled once there too; time-skipping servers and AWS emulators start per file, so files
 * never share time or AWS state.
 */
const { TIERS, testTiers } = require('./test/harness/tiers');

const tiers = testTiers();

/** @type {import('jest').Config} */
const shared = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }],
    // ESM-only packages (Octokit and its helpers), compiled to CommonJS like the code that requires
    // them; outside jest, Node loads them with require(esm).
    '^.+\\.js$': ['@swc/jest', { jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(@octokit|universal-user-agent|before-after-hook|content-type|json-with-bigint)/)'],
  slowTestThreshold: 20,
  testTimeout: 60_000,
};

/** @type {import('jest').Config} */
module.exports = {
  projects: TIERS.map((tier) => ({
    ...shared,
    displayName: tier,
    rootDir: __dirname,
    testMatch: tiers[tier].map((file) => `<rootDir>/${file}`),
    // Files that run workers get the Temporal Runtime with the workflow-task-failure guard, and their
    // workers stopped after every test (test/harness/per-file-setup.ts).
    ...(tier === 'unit' ? {} : { setupFilesAfterEnv: ['<rootDir>/test/harness/per-file-setup.ts'] }),
  })),
  // Longest files first, also on a fresh clone with no cached durations (test/harness/sequencer.js).
  testSequencer: '<rootDir>/test/harness/sequencer.js',
  globalSetup: '<rootDir>/test/harness/global-setup.ts',
  globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
  // Four workers on two cores: most of the suite waits on real-time AWS and stack timelines. With
  // two, a fresh-clone make test left the CPU 50-80 % idle (vmstat every 10 s); a third took jest from
  // 637 s to 483 s. With three, the CPU still idled 50-73 % for about three minutes while the stack
  // end-to-end files (the local stack, drains, the drain budget, releases) waited side by side, and the
  // whole run used 885 CPU-s of the 1,270 two cores offered; a fourth fills those minutes with the files
  // that compute. Each file still has its own time-skipping server.
  maxWorkers: 4,
  // Files whose tests wait on simulated AWS timelines run them side by side (`test.concurrent`, each
  // in AWS resources of its own): all of a file's at once, as the deploy activities' fifteen, rather
  // than jest's default of five at a time (test/deploy/activities.test.ts went from 116 s to 45 s).
  maxConcurrency: 16,
  testTimeout: 60_000,
  // Temporal's native runtime keeps handles open until process exit; jest must not wait on them.
  forceExit: true,
  errorOnDeprecated: true,
};
