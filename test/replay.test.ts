import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { historyFromJSON } from './harness/history-json';
import { Worker } from '@temporalio/worker';
import { bundledWorkflows } from './harness/temporal';
import { HISTORIES_DIR } from '../testkit/paths';
import { RELEASED_DIR, releasedHistoryFiles, releasedVersions, sha256 } from '../testkit/releases';
import { WORKFLOW_LIST } from '../contracts/registry';

/**
 * Replays every committed workflow history (test/histories/<workflow>/<case>.json, recorded by the
 * workflow tests with `make record-histories`) against today's workflow code. A change that is not
 * replay-safe (a reordered activity, a removed timer without patching) fails here, in CI. These are
 * the histories of the version in progress; those of released versions are frozen in released/.
 */
function historyFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    // Released sets are replayed by test/upgrade/released-histories.test.ts.
    if (p === RELEASED_DIR) return [];
    if (statSync(p).isDirectory()) return historyFiles(p);
    return name.endsWith('.json') ? [p] : [];
  });
}

const files = historyFiles(HISTORIES_DIR);
/** Every registered workflow (contracts/registry.ts) has recorded histories in its folder. */
const EXPECTED_WORKFLOWS = WORKFLOW_LIST.map((w) => w.folder);

describe('replay of recorded workflow histories', () => {
  it('has recorded histories for every workflow', () => {
    const recorded = new Set(files.map((f) => relative(HISTORIES_DIR, f).split('/')[0]));
    expect(EXPECTED_WORKFLOWS.filter((w) => !recorded.has(w))).toEqual([]);
  });

  it('replays every history without non-determinism', async () => {
    expect(files.length).toBeGreaterThan(0);
    // A history byte-identical to a released one is replayed by test/upgrade/released-histories.test.ts.
    const released = new Set(releasedVersions().flatMap((v) => releasedHistoryFiles(v).map(sha256)));
    const histories = files.filter((f) => !released.has(sha256(f))).map((f) => ({ workflowId: relative(HISTORIES_DIR, f), history: historyFromJSON(JSON.parse(readFileSync(f, 'utf8'))) }));
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories({ ...bundledWorkflows() }, histories)) {
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
  }, 180_000);
});
