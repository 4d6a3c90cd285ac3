import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname, sep } from 'node:path';
import { ROOT } from '../harness/paths';

/**
 * The house rules the compiler cannot see (docs/contributing.md, Layers):
 *  - layers point one way: common/config ← activities ← workflows (types only);
 *  - nothing outside workflows/ imports workflow code but a workflow's messages.ts;
 *  - a workflow's messages.ts imports only @temporalio/workflow and types from common/;
 *  - no workflow file over 300 lines.
 * Read from the sources' import statements, so a rule broken anywhere names the file and the import.
 */

interface Import {
  file: string;
  /** Repo-relative target for a relative import, the package name otherwise. */
  target: string;
  typeOnly: boolean;
}

const SOURCE_DIRS = ['activities', 'common', 'config', 'workflows', 'router', 'cli', 'workers', 'stack', 'simulator', 'bench'];

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
const layerOf = (p: string): string => p.split('/')[0]!;
const show = (list: Import[]): string[] => list.map((i) => `${i.file} imports ${i.target}${i.typeOnly ? ' (type)' : ''}`);

test('the import scan sees the code (a rule over nothing proves nothing)', () => {
  expect(new Set(all.map((i) => layerOf(i.file)))).toEqual(new Set(SOURCE_DIRS));
  expect(all.filter((i) => i.target.startsWith('workflows/')).length).toBeGreaterThan(20);
});

test('outside workflows/, only a workflow messages.ts is imported', () => {
  const bad = all.filter(
    (i) => layerOf(i.file) !== 'workflows' && layerOf(i.target) === 'workflows' && !/^workflows\/[a-z-]+\/messages$/.test(i.target),
  );
  expect(show(bad)).toEqual([]);
});

test('common/ and config/ import nothing above them (config types in common are fine)', () => {
  const above = new Set(['activities', 'workflows', 'router', 'cli', 'workers', 'stack', 'simulator', 'bench']);
  const bad = all.filter((i) => ['common', 'config'].includes(layerOf(i.file)) && above.has(layerOf(i.target)));
  expect(show(bad)).toEqual([]);
});

test('activities/ import no process code (router, CLI, worker, stack, simulator)', () => {
  const bad = all.filter((i) => layerOf(i.file) === 'activities' && ['router', 'cli', 'workers', 'stack', 'simulator', 'bench'].includes(layerOf(i.target)));
  expect(show(bad)).toEqual([]);
});

test('workflows/ take only types from activities/ and config/, and nothing from processes', () => {
  const bad = all.filter(
    (i) =>
      layerOf(i.file) === 'workflows' &&
      ((['activities', 'config'].includes(layerOf(i.target)) && !i.typeOnly) ||
        ['router', 'cli', 'workers', 'stack', 'simulator', 'bench'].includes(layerOf(i.target))),
  );
  expect(show(bad)).toEqual([]);
});

test('a messages.ts imports only @temporalio/workflow and types from common/', () => {
  const bad = all.filter(
    (i) => /^workflows\/[a-z-]+\/messages\.ts$/.test(i.file) && i.target !== '@temporalio/workflow' && !(layerOf(i.target) === 'common' && i.typeOnly),
  );
  expect(show(bad)).toEqual([]);
  expect(new Set(all.filter((i) => i.file.endsWith('/messages.ts')).map((i) => i.file.split('/')[1]))).toEqual(
    new Set(['spot-drain', 'capacity', 'canary-deploy', 'incident', 'launch', 'drain-coordinator']),
  );
});

test('no workflow file is over 300 lines', () => {
  const long = tsFiles(join(ROOT, 'workflows'))
    .map((p) => ({ file: relative(ROOT, p), lines: readFileSync(p, 'utf8').split('\n').length }))
    .filter((f) => f.lines > 300);
  expect(long).toEqual([]);
});
