/**
 * The suite's four tiers, derived from what each test file reaches (its relative imports, followed
 * through helper files), so that no file can sit in a tier too low for what it starts:
 *
 *   unit      pure functions and state classes: no Temporal server, no AWS emulator, no processes;
 *   workflow  a Temporal server (time-skipping or the dev server) and workers, AWS steps faked;
 *   aws       moto behind the simulator (and, for some, Temporal too);
 *   e2e       the local stack or its processes: router, worker, Web UI, started as a user would.
 *
 * A file is in the highest tier any of its markers reaches. jest.config.js makes one project per
 * tier; `make test-fast` runs unit and workflow.
 */
const { readFileSync, readdirSync, statSync, existsSync } = require('node:fs');
const { dirname, join, relative, resolve } = require('node:path');

const ROOT = resolve(__dirname, '..', '..');
const TIERS = ['unit', 'workflow', 'aws', 'e2e'];

/** What puts a file in a tier: a call in it or in a test helper it reaches (helpers are followed, product code is not). */
const MARKERS = {
  workflow: [/\bcreateTimeSkippingEnv\(/, /\bconnectDevServer\(/, /\bcreateWorker\(/, /\brunReplayHistor(y|ies)\(/, /TestWorkflowEnvironment\.create/],
  aws: [/\bstartEmulator\(/, /\bstartMoto\(/],
  e2e: [/\bstartLocalStack\(/, /\bstartTemporalWithUi\(/, /'(workers|router)', 'main\.ts'|(workers|router)\/main\.ts/],
};
/** Files that start the product's own processes beside the emulator (router, worker) are end to end. */
const E2E_FILES = [/-e2e\.test\.ts$/, /^test\/stack\/stack-accounts\.test\.ts$/];

/**
 * Test helpers, in test/ and in testkit/ (what tests, benches and scripts share), are followed; files
 * that define the markers' functions are not, since their callers carry the marker: the jest harness
 * (test/harness/), the emulator and the local stack.
 */
const FOLLOWED = /^(test|testkit)\//;
const DEFINE_MARKERS = /^(test\/harness\/|testkit\/(emulator|local-stack)\.ts$)/;

function listTests(dir = join(ROOT, 'test'), out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) listTests(p, out);
    else if (name.endsWith('.test.ts')) out.push(relative(ROOT, p));
  }
  return out.sort();
}

const IMPORT = /(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g;

function resolveRelative(fromFile, spec) {
  const base = resolve(dirname(join(ROOT, fromFile)), spec);
  for (const candidate of [`${base}.ts`, join(base, 'index.ts'), base]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return relative(ROOT, candidate);
  }
  return undefined;
}

/** The test file and every test helper it reaches through relative imports. */
function reach(file, seen = new Set()) {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = readFileSync(join(ROOT, file), 'utf8');
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (!spec.startsWith('.')) continue;
    const target = resolveRelative(file, spec);
    if (target && FOLLOWED.test(target) && !DEFINE_MARKERS.test(target)) reach(target, seen);
  }
  return seen;
}

function tierOf(file) {
  if (E2E_FILES.some((re) => re.test(file))) return 'e2e';
  const text = [...reach(file)].map((f) => readFileSync(join(ROOT, f), 'utf8')).join('\n');
  let tier = 'unit';
  for (const t of ['workflow', 'aws', 'e2e']) {
    if (MARKERS[t].some((re) => re.test(text))) tier = t;
  }
  return tier;
}

/** { unit: [files], workflow: [...], aws: [...], e2e: [...] }, repository-relative paths. */
function testTiers() {
  const tiers = Object.fromEntries(TIERS.map((t) => [t, []]));
  for (const file of listTests()) tiers[tierOf(file)].push(file);
  return tiers;
}

module.exports = { TIERS, testTiers, tierOf, ROOT };
