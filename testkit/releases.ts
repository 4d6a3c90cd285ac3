import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join, relative } from 'node:path';
import { HISTORIES_DIR } from './paths';

/**
 * Released histories: at each release, the histories its workflow tests recorded and the
 * workflow bundle its image ran are copied to test/histories/released/<version>/ and never change
 * again. Every later version must replay them, and the upgrade drill runs the bundle.
 *
 *   released/<version>/<workflow>/<case>.json   histories, as test/histories held them at the release
 *   released/<version>/workflow-bundle.js.gz    the workflow bundle (common/workflow-bundle.ts, no source map)
 *   released/<version>/SHA256SUMS               `sha256sum` lines for every other file in the folder
 */
export const RELEASED_DIR = join(HISTORIES_DIR, 'released');
export const BUNDLE_FILE = 'workflow-bundle.js.gz';
export const SUMS_FILE = 'SHA256SUMS';

export function filesUnder(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const p = join(dir, name);
      return statSync(p).isDirectory() ? filesUnder(p) : [p];
    })
    .sort();
}

/** Released versions, oldest first. */
export function releasedVersions(): string[] {
  if (!existsSync(RELEASED_DIR)) return [];
  return readdirSync(RELEASED_DIR)
    .filter((v) => statSync(join(RELEASED_DIR, v)).isDirectory())
    .sort(compareVersions);
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** `sha256sum`'s format: one `<hex>  <path relative to the version folder>` line per file, sorted. */
export function sumsOf(versionDir: string): string {
  return filesUnder(versionDir)
    .filter((f) => relative(versionDir, f) !== SUMS_FILE)
    .map((f) => `${sha256(f)}  ${relative(versionDir, f)}\n`)
    .join('');
}

export function releasedHistoryFiles(version: string): string[] {
  return filesUnder(join(RELEASED_DIR, version)).filter((f) => f.endsWith('.json'));
}

/** The released workflow bundle's code, for Worker.create({ workflowBundle: { code } }). */
export function releasedBundleCode(version: string): string {
  return gunzipSync(readFileSync(join(RELEASED_DIR, version, BUNDLE_FILE))).toString('utf8');
}
