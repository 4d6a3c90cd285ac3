/**
 * One jest run for the whole suite. Servers that are slow to start (Temporal dev server, the JVM
 * time-skipping server) start once per run in globalSetup; workflow code is bundled once there too.
 * AWS emulators start per suite (test/harness/emulator.ts) so suites never share AWS state.
 */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }],
    // ESM-only packages (Octokit and its helpers), compiled to CommonJS like the code that requires
    // them; outside jest, Node loads them with require(esm).
    '^.+\\.js$': ['@swc/jest', { jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(@octokit|universal-user-agent|before-after-hook|content-type|json-with-bigint)/)'],
  globalSetup: '<rootDir>/test/harness/global-setup.ts',
  globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
  // Two cores: two workers, each with its own time-skipping server (see global-setup.ts).
  maxWorkers: 2,
  testTimeout: 60_000,
  slowTestThreshold: 20,
  // Temporal's native runtime keeps handles open until process exit; jest must not wait on them.
  forceExit: true,
  errorOnDeprecated: true,
};
