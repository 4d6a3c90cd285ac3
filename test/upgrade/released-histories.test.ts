import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Worker } from '@temporalio/worker';
import { historyFromJSON } from '../harness/history-json';
import { ROOT } from '../../testkit/paths';
import { bundledWorkflows } from '../harness/temporal';
import { BUNDLE_FILE, compareVersions, RELEASED_DIR, releasedHistoryFiles, releasedVersions, SUMS_FILE, sumsOf } from '../../testkit/releases';

/**
 * A released history is never rewritten: each release's folder matches the SHA256SUMS it
 * was released with, git shows no commit that changed or removed a file there after it was added, and
 * every released history replays against today's workflow code. A workflow change that alters the
 * commands an old execution would replay fails here, and belongs behind patched() (docs/upgrades.md).
 */
const versions = releasedVersions();
const pkgVersion = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

function git(args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined; // not a git checkout (an unpacked tarball): the sums are the guard
  }
}

describe('released histories', () => {
  it('exist for a release no newer than package.json, each with its workflow bundle', () => {
    expect(versions.length).toBeGreaterThan(0);
    expect(compareVersions(versions.at(-1)!, pkgVersion)).toBeLessThanOrEqual(0);
    for (const v of versions) {
      expect(existsSync(join(RELEASED_DIR, v, BUNDLE_FILE))).toBe(true);
      expect(releasedHistoryFiles(v).length).toBeGreaterThan(0);
    }
  });

  it.each(versions)('%s: every file is as released (SHA256SUMS), none added or removed', (version) => {
    const dir = join(RELEASED_DIR, version);
    expect(sumsOf(dir)).toBe(readFileSync(join(dir, SUMS_FILE), 'utf8'));
  });

  it('git: no commit changed, renamed or deleted a released file after adding it', () => {
    if (git(['rev-parse', '--is-shallow-repository']) !== 'false') return;
    const changed = git(['log', '--format=%h %s', '--diff-filter=MDRT', '--', relative(ROOT, RELEASED_DIR)]);
    expect(changed).toBe('');
  });

  it.each(versions)('%s: every released history replays against the current workflow code', async (version) => {
    const histories = releasedHistoryFiles(version).map((f) => ({
      workflowId: relative(RELEASED_DIR, f),
      history: historyFromJSON(JSON.parse(readFileSync(f, 'utf8'))),
    }));
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories({ ...bundledWorkflows() }, histories)) {
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
  }, 180_000);
});
