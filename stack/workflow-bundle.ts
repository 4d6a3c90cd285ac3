import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '@temporalio/common';
import { buildWorkflowBundle } from '../common/workflow-bundle';
import { ROOT } from './settings';

/**
 * The worker's workflow bundle, built by the stack and cached in the run directory. Bundling
 * (webpack) is most of the worker's start time; the stack builds it while the emulator is being
 * seeded, and a restart with unchanged sources reuses it. The cache key covers every source a
 * workflow can import and the locked dependencies, so a changed workflow is always re-bundled.
 */

const SOURCE_DIRS = ['workflows', 'contracts', 'common', 'config', 'activities'];

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

export function workflowSourcesHash(): string {
  const hash = createHash('sha256');
  hash.update(process.version);
  for (const file of [...SOURCE_DIRS.flatMap((d) => sourceFiles(join(ROOT, d))), join(ROOT, 'package-lock.json')]) {
    hash.update(file.slice(ROOT.length));
    hash.update(readFileSync(file));
  }
  return hash.digest('hex').slice(0, 16);
}

/** The bundle's path, building it first unless a bundle of the same sources is cached. */
export async function cachedWorkflowBundle(cacheDir: string): Promise<{ path: string; built: boolean }> {
  mkdirSync(cacheDir, { recursive: true });
  const name = `workflow-bundle-${workflowSourcesHash()}.js`;
  const path = join(cacheDir, name);
  if (existsSync(path)) return { path, built: false };
  const quiet: Logger = { log() {}, trace() {}, debug() {}, info() {}, warn: (m) => process.stderr.write(`bundle: ${m}\n`), error: (m) => process.stderr.write(`bundle: ${m}\n`) };
  // The worker's bundle options (common/workflow-bundle.ts: with the tracing interceptors).
  const code = await buildWorkflowBundle(require.resolve(join(ROOT, 'workflows')), quiet);
  writeFileSync(`${path}.tmp`, code);
  renameSync(`${path}.tmp`, path);
  // Older bundles are for sources that no longer exist.
  for (const old of readdirSync(cacheDir)) if (old.startsWith('workflow-bundle-') && old !== name) rmSync(join(cacheDir, old), { force: true });
  return { path, built: true };
}
