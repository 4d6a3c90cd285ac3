import { readdirSync, readFileSync } from 'node:fs';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { runServerPidsDir } from '../../testkit/paths';

/**
 * Stops the dev server, and any time-skipping server a suite did not tear down (a suite that crashed,
 * or a jest worker ended by forceExit), so `make test` leaves no JVM behind.
 */
export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __fleetopsDev?: TestWorkflowEnvironment }).__fleetopsDev?.teardown();
  let pids: string[] = [];
  try {
    pids = readdirSync(runServerPidsDir());
  } catch {
    return;
  }
  for (const pid of pids) {
    try {
      // The pid may have been reused since: only a Temporal test server is killed.
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('io.temporal.testserver.TestServer')) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
