import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname, sep } from 'node:path';
import { ROOT } from '../../testkit/paths';
import { WORKFLOW_LIST } from '../../contracts/registry';

// tiers.js is the CommonJS module jest.config.js reads; it derives each test file's tier.
const { testTiers } = require('../harness/tiers') as { testTiers: () => Record<'unit' | 'workflow' | 'aws' | 'e2e', string[]> };

/**
 * The house rules the compiler cannot see (docs/contributing.md, Layers):
 *  - layers point one way: common/config ← contracts ← activities ← workflows (types only);
 *  - a workflow's contract (contracts/<folder>/: input, messages, start options; contracts/registry.ts
 *    lists every workflow) is all its clients know of it: nothing outside workflows/ imports workflows/;
 *  - a contract's messages.ts imports only @temporalio/workflow and types;
 *  - benches, scripts and testkit/ (what they share with the tests) import nothing from test/;
 *  - no source file outside test/ over 300 lines;
 *  - the edges (processes, and activities/) import each other only as EDGE_IMPORTS below allows: what
 *    two edges share lives in common/ (UI links, Slack ids and client, operator input, Temporal error
 *    wording); config/ builds on common/, never the other way, and no layers import each other in a cycle.
 * Read from the sources' import statements, so a rule broken anywhere names the file and the import.
 */

interface Import {
  file: string;
  /** Repo-relative target for a relative import, the package name otherwise. */
  target: string;
  typeOnly: boolean;
}

const SOURCE_DIRS = ['activities', 'common', 'config', 'contracts', 'workflows', 'router', 'cli', 'workers', 'stack', 'simulator', 'testkit', 'bench', 'scripts'];
/** What runs as a process of its own, above every library layer (testkit/ starts them for tests and benches). */
const PROCESSES = ['router', 'cli', 'workers', 'stack', 'simulator', 'testkit', 'bench', 'scripts'];

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...tsFiles(path));
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

function importsOf(path: string): Import[] {
  const text = readFileSync(path, 'utf8');
  const file = relative(ROOT, path).split(sep).join('/');
  const found: Import[] = [];
  const re = /^\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm;
  for (const m of text.matchAll(re)) {
    const spec = m[3]!;
    const target = spec.startsWith('.') ? relative(ROOT, resolve(dirname(path), spec)).split(sep).join('/') : spec;
    found.push({ file, target, typeOnly: m[2] !== undefined });
  }
  return found;
}

const all: Import[] = SOURCE_DIRS.flatMap((d) => tsFiles(join(ROOT, d))).flatMap(importsOf);
const testImports: Import[] = tsFiles(join(ROOT, 'test')).flatMap(importsOf);
const layerOf = (p: string): string => p.split('/')[0]!;
const show = (list: Import[]): string[] => list.map((i) => `${i.file} imports ${i.target}${i.typeOnly ? ' (type)' : ''}`);

test('the import scan sees the code (a rule over nothing proves nothing)', () => {
  expect(new Set(all.map((i) => layerOf(i.file)))).toEqual(new Set(SOURCE_DIRS));
  expect(all.filter((i) => i.target.startsWith('contracts/')).length).toBeGreaterThan(50);
  expect(all.filter((i) => layerOf(i.file) === 'workflows' && i.target.startsWith('workflows/')).length).toBeGreaterThan(20);
  expect(testImports.filter((i) => i.target.startsWith('workflows/')).length).toBeGreaterThan(20);
});

test('nothing outside workflows/ imports from it: clients know a workflow by its contract', () => {
  // A worker loads workflows/ by path (workflowsPath, a bundle), which is no import.
  const bad = all.filter((i) => layerOf(i.file) !== 'workflows' && layerOf(i.target) === 'workflows');
  expect(show(bad)).toEqual([]);
});

/**
 * Tests are the one place outside workflows/ that imports workflow code, and only where a workflow's
 * own code is what is tested: the unit and workflow tiers (its state classes and pure steps, its
 * function in a test worker), and test workflows (a worker's workflowsPath under test/), which are
 * workflow code themselves. The harness, and every file an aws or e2e test reaches, drives fleetops
 * from outside, as its clients do: through contracts/.
 */
test('tests import workflows/ only to test workflow code: never from the harness or an aws or e2e test', () => {
  const tiers = testTiers();
  const testWorkflows = new Set(
    tsFiles(join(ROOT, 'test')).flatMap((p) =>
      [...readFileSync(p, 'utf8').matchAll(/workflowsPath:\s*require\.resolve\(\s*'(\.[^']+)'\s*\)/g)].map((m) => `${relative(ROOT, resolve(dirname(p), m[1]!)).split(sep).join('/')}.ts`),
    ),
  );
  expect(testWorkflows.size).toBeGreaterThan(0);
  // Every test file an aws or e2e test reaches through its relative imports, the harness included.
  const importsByFile = new Map<string, string[]>();
  for (const i of testImports) importsByFile.set(i.file, [...(importsByFile.get(i.file) ?? []), i.target]);
  const outside = new Set<string>();
  const visit = (file: string): void => {
    if (outside.has(file)) return;
    outside.add(file);
    for (const t of importsByFile.get(file) ?? []) if (t.startsWith('test/')) visit(t.endsWith('.ts') ? t : `${t}.ts`);
  };
  [...tiers.aws, ...tiers.e2e].forEach(visit);
  tsFiles(join(ROOT, 'test', 'harness')).forEach((p) => outside.add(relative(ROOT, p).split(sep).join('/')));
  expect(outside.size).toBeGreaterThan(tiers.aws.length + tiers.e2e.length);
  const bad = testImports.filter((i) => layerOf(i.target) === 'workflows' && outside.has(i.file) && !testWorkflows.has(i.file));
  expect(show(bad)).toEqual([]);
});

test('bench/, scripts/ and testkit/ import nothing from test/: what they share with the tests is in testkit/', () => {
  const bad = all.filter((i) => ['bench', 'scripts', 'testkit'].includes(layerOf(i.file)) && layerOf(i.target) === 'test');
  expect(show(bad)).toEqual([]);
});

test('common/ and config/ import nothing above them', () => {
  const above = new Set(['contracts', 'activities', 'workflows', ...PROCESSES]);
  const bad = all.filter((i) => ['common', 'config'].includes(layerOf(i.file)) && above.has(layerOf(i.target)));
  expect(show(bad)).toEqual([]);
});

test('contracts/ import only common/, config/ and their own kind: no activity, workflow or process code', () => {
  const bad = all.filter((i) => layerOf(i.file) === 'contracts' && ['activities', 'workflows', ...PROCESSES].includes(layerOf(i.target)));
  expect(show(bad)).toEqual([]);
});

test('activities/ import no process code (router, CLI, worker, stack, simulator)', () => {
  const bad = all.filter((i) => layerOf(i.file) === 'activities' && PROCESSES.includes(layerOf(i.target)));
  expect(show(bad)).toEqual([]);
});

test('workflows/ take only types from activities/, config/ and the contracts\' zod schemas, and nothing from processes', () => {
  // The schemas validate at the edges; a workflow needs their types, not the validators in its bundle.
  const schemas = (t: string) => /^contracts\/(shared|[a-z-]+\/input)$/.test(t);
  const bad = all.filter(
    (i) =>
      layerOf(i.file) === 'workflows' &&
      (((['activities', 'config'].includes(layerOf(i.target)) || schemas(i.target)) && !i.typeOnly) || PROCESSES.includes(layerOf(i.target))),
  );
  expect(show(bad)).toEqual([]);
});

test('a contract\'s messages.ts imports only @temporalio/workflow and types', () => {
  const bad = all.filter((i) => /^contracts\/[a-z-]+\/messages\.ts$/.test(i.file) && i.target !== '@temporalio/workflow' && !i.typeOnly);
  expect(show(bad)).toEqual([]);
});

test('signals, updates and queries are defined in contracts/ only, where clients can import them', () => {
  const defining = SOURCE_DIRS.filter((d) => d !== 'contracts')
    .flatMap((d) => tsFiles(join(ROOT, d)))
    .filter((p) => /\bdefine(Signal|Update|Query)\s*[<(]/.test(readFileSync(p, 'utf8')))
    .map((p) => relative(ROOT, p));
  expect(defining).toEqual([]);
});

test('contracts/registry.ts names every workflow, and each has its code, contract, export, histories and tests', () => {
  const dirs = (d: string) => readdirSync(join(ROOT, d)).filter((n) => statSync(join(ROOT, d, n)).isDirectory());
  const folders = WORKFLOW_LIST.map((w) => w.folder).sort();
  expect(dirs('workflows').filter((d) => d !== 'lib').sort()).toEqual(folders);
  expect(dirs('contracts').sort()).toEqual(folders);
  expect(dirs('test/histories').filter((d) => d !== 'released').sort()).toEqual(folders);
  const missing = WORKFLOW_LIST.flatMap((w) =>
    [`workflows/${w.folder}/workflow.ts`, ...['input', 'messages', 'start'].map((f) => `contracts/${w.folder}/${f}.ts`), w.testDir].filter((p) => !statSync(join(ROOT, p), { throwIfNoEntry: false })),
  );
  expect(missing).toEqual([]);
  // The worker registers what workflows/index.ts exports: exactly the registry's types, each from its folder.
  const exported = [...readFileSync(join(ROOT, 'workflows', 'index.ts'), 'utf8').matchAll(/^export \{ (\w+) \} from '\.\/([a-z-]+)\/workflow';$/gm)].map((m) => `${m[1]} ${m[2]}`);
  expect(exported.sort()).toEqual(WORKFLOW_LIST.map((w) => `${w.type} ${w.folder}`).sort());
});

/** Files under `dirs` longer than `limit` lines (the house rule is 300 outside tests), with their lengths. */
export function longFiles(dirs: string[], limit = 300): { file: string; lines: number }[] {
  return dirs
    .flatMap((d) => tsFiles(join(ROOT, d)))
    .map((p) => ({ file: relative(ROOT, p).split(sep).join('/'), lines: readFileSync(p, 'utf8').split('\n').length }))
    .filter((f) => f.lines > limit);
}

test('no source file outside the tests is over 300 lines: one concern per file', () => {
  expect(longFiles(SOURCE_DIRS)).toEqual([]);
});

/**
 * Which edge may import which other edge. An edge is a process of its own, or activities/ (which the
 * worker hosts); every edge may import the library layers (common/, config/, contracts/). What two
 * edges both need is moved to common/ rather than imported from one by the other.
 *
 * | from       | may import                           | why                                                           |
 * |------------|--------------------------------------|---------------------------------------------------------------|
 * | router     | (no edge)                            |                                                               |
 * | cli        | (no edge)                            |                                                               |
 * | activities | (no edge)                            | activities run in any worker; process code is not theirs      |
 * | workers    | activities                           | a worker registers and hosts the activities                   |
 * | simulator  | activities                           | it builds its AWS clients as the worker does (aws/clients)    |
 * | stack      | activities, simulator                | AWS clients and the capacity pool tags; it runs the simulator |
 * | bench      | activities, router, simulator, stack | it measures the router and the fleet on the local stack       |
 * | scripts    | simulator                            | the IAM checks evaluate calls with the simulator's IAM model  |
 */
const EDGE_IMPORTS: Record<string, string[]> = {
  router: [],
  cli: [],
  activities: [],
  workers: ['activities'],
  simulator: ['activities'],
  // The kit's EventBridge rules are generated from the router's event kinds (stack/kit-rules.ts).
  stack: ['activities', 'simulator', 'router'],
  bench: ['activities', 'router', 'simulator', 'stack', 'testkit'],
  scripts: ['simulator', 'stack', 'testkit'],
  // Starts the emulator, the stack and routers for tests and benches.
  testkit: ['activities', 'simulator', 'stack', 'router'],
};

/**
 * Imports outside the table, each with its reason, to be removed, not added to. The event kinds'
 * parsers are router/events/; `fleetops events` checks a file or a dead-letter message with the same
 * parsers, until the event-kind definitions live outside router/.
 */
const EDGE_EXCEPTIONS: { file: string; target: RegExp; why: string }[] = [
  { file: 'cli/commands/events.ts', target: /^router\/events(\/|$)/, why: 'the event kinds are defined in router/events/' },
];

test('the edges import each other only as the table allows: what they share is in common/', () => {
  expect(Object.keys(EDGE_IMPORTS).sort()).toEqual(['activities', ...PROCESSES].sort());
  const bad = all.filter((i) => {
    const from = layerOf(i.file);
    const to = layerOf(i.target);
    if (!(from in EDGE_IMPORTS) || !(to in EDGE_IMPORTS) || from === to || EDGE_IMPORTS[from]!.includes(to)) return false;
    return !EDGE_EXCEPTIONS.some((e) => e.file === i.file && e.target.test(i.target));
  });
  expect(show(bad)).toEqual([]);
  // An exception that no longer matches an import is stale: drop it.
  const stale = EDGE_EXCEPTIONS.filter((e) => !all.some((i) => i.file === e.file && e.target.test(i.target))).map((e) => e.file);
  expect(stale).toEqual([]);
});

test('config/ builds on common/, never the other way (types included): the two have no cycle', () => {
  expect(all.filter((i) => layerOf(i.file) === 'config' && layerOf(i.target) === 'common').length).toBeGreaterThan(0);
  expect(show(all.filter((i) => layerOf(i.file) === 'common' && layerOf(i.target) === 'config'))).toEqual([]);
});

test('no layers import each other in a cycle', () => {
  const graph = new Map<string, Set<string>>();
  for (const i of all) {
    const [from, to] = [layerOf(i.file), layerOf(i.target)];
    if (from !== to && SOURCE_DIRS.includes(to)) graph.set(from, (graph.get(from) ?? new Set()).add(to));
  }
  const cycles: string[] = [];
  const path: string[] = [];
  const done = new Set<string>();
  const visit = (layer: string): void => {
    if (path.includes(layer)) {
      cycles.push([...path.slice(path.indexOf(layer)), layer].join(' -> '));
      return;
    }
    if (done.has(layer)) return;
    path.push(layer);
    for (const next of graph.get(layer) ?? []) visit(next);
    path.pop();
    done.add(layer);
  };
  SOURCE_DIRS.forEach(visit);
  expect(cycles).toEqual([]);
});
