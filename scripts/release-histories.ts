import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildWorkflowBundle } from '../common/workflow-bundle';
import { HISTORIES_DIR, ROOT } from '../testkit/paths';
import { BUNDLE_FILE, filesUnder, RELEASED_DIR, SUMS_FILE, sumsOf } from '../testkit/releases';

/**
 * `make release-histories VERSION=x.y.z`: freezes what this release's workflows are, for every later
 * version to be checked against (test/upgrade/). Run it in the release commit, after `make
 * record-histories` and with package.json at that version. It refuses to touch a folder that exists.
 */
async function main(): Promise<void> {
  const version = process.argv[2] ?? '';
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`usage: release-histories <x.y.z>; got '${version}'`);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  if (pkg.version !== version) throw new Error(`package.json says ${pkg.version}: set it to ${version} first`);
  const out = join(RELEASED_DIR, version);
  if (existsSync(out)) throw new Error(`${relative(ROOT, out)} exists: a released folder is never rewritten`);

  const histories = filesUnder(HISTORIES_DIR).filter((f) => f.endsWith('.json') && !f.startsWith(RELEASED_DIR));
  for (const f of histories) {
    const to = join(out, relative(HISTORIES_DIR, f));
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(f, to);
  }
  // What the image runs (Dockerfile: common/workflow-bundle.ts). Its inline source map (three
  // quarters of the size) gives way to an empty one: the Worker requires one, only for stack traces.
  const quiet = { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} };
  const code = await buildWorkflowBundle(require.resolve(join(ROOT, 'workflows')), quiet as never);
  const at = code.lastIndexOf('\n//# sourceMappingURL=');
  const emptyMap = Buffer.from(JSON.stringify({ version: 3, file: `workflow-bundle-${version}.js`, sources: [], names: [], mappings: '' })).toString('base64');
  const slim = `${at >= 0 ? code.slice(0, at) : code}\n//# sourceMappingURL=data:application/json;base64,${emptyMap}\n`;
  writeFileSync(join(out, BUNDLE_FILE), gzipSync(slim, { level: 9 }));
  writeFileSync(join(out, SUMS_FILE), sumsOf(out));
  console.log(`released ${version}: ${histories.length} histories and the workflow bundle in ${relative(ROOT, out)}`);
}

main().catch((err: unknown) => {
  console.error(`release-histories: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
