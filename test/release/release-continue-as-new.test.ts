import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { approveWaveUpdate, type ReleaseCarried, type ReleaseResult } from '../../contracts/release/messages';
import { recordHistory } from '../harness/temporal';
import { FAST_PLAN, newTd, releaseInput, releaseMock, run, startRelease, statusOf, targets, untilStatus, useDevServer } from './release-mock';

/**
 * A release large enough to continue as new in the middle of a wave (a low event limit stands in for
 * hundreds of services): the run that continues hands over the deploys still running, the next run
 * follows them by polling (it cannot await another run's children) and starts the rest, and no
 * service is deployed twice. On the dev server in real time with a plan of one-second bakes
 * (release-mock.ts says why not the time-skipping server).
 */

const env = useDevServer();
const { EventType } = temporal.api.enums.v1;

/** The first run of the release's chain that continued as new with deploys running, and what it handed over. */
async function runHandingOverDeploys(handle: WorkflowHandle, firstRunId: string): Promise<{ runId: string; carried: ReleaseCarried }> {
  for (let runId: string | undefined = firstRunId; runId; ) {
    const history: temporal.api.history.v1.IHistory = await env().client.workflow.getHandle(handle.workflowId, runId).fetchHistory();
    const events = history.events ?? [];
    const last = events[events.length - 1]!;
    if (last.eventType !== EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW) break;
    const attrs: temporal.api.history.v1.IWorkflowExecutionContinuedAsNewEventAttributes = last.workflowExecutionContinuedAsNewEventAttributes!;
    const carried = (JSON.parse(Buffer.from(attrs.input!.payloads![0]!.data!).toString('utf8')) as { carried: ReleaseCarried }).carried;
    if (carried.services.some((s) => s.state === 'running')) return { runId, carried };
    runId = attrs.newExecutionRunId ?? undefined;
  }
  throw new Error('no run of the release continued as new while deploys ran');
}

test('continues as new in the middle of a wave: the next run follows the deploys still running, and no service is deployed twice', async () => {
  const m = releaseMock(FAST_PLAN);
  // A cluster of this file's own: deploy ids are global on the shared dev server.
  const cluster = `can${process.pid}`;
  const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'].map((x) => `${cluster}/s${x}`);
  const input = releaseInput({ targets: targets(...names), waves: [1, '100%'], maxConcurrent: 3, maxPerCluster: 3, continueAsNewAfterEvents: 50, pollSeconds: 1 });
  const result = await run(m, async (tq) => {
    const h = await startRelease(input, tq);
    const firstRunId = (await h.describe()).runId;
    for (const wave of [1, 2]) {
      await untilStatus(h, `wave ${wave} waits`, (s) => s.phase === 'awaiting-approval' && s.wave.current === wave);
      await h.executeUpdate(approveWaveUpdate, { args: [{ by: 'cli:bob' }] });
    }
    const r = (await h.result()) as ReleaseResult;
    await recordHistory(h, 'release', 'continue-as-new-last-run');
    const handed = await runHandingOverDeploys(h, firstRunId);
    // A run ended with deploys of wave 2 running: it carried their ids, for the next run to follow.
    expect(handed.carried.waveIndex).toBe(1);
    const running = handed.carried.services.filter((s) => s.state === 'running');
    expect(running.length).toBeGreaterThan(0);
    expect(running.every((s) => s.adopted === true && s.workflowId === `deploy-${cluster}-${s.service}` && s.runId !== undefined)).toBe(true);
    await recordHistory(env().client.workflow.getHandle(h.workflowId, handed.runId), 'release', 'continue-as-new-handing-over');
    expect((await statusOf(h)).continuedRuns).toBeGreaterThan(0);
    return r;
  });
  expect(result).toMatchObject({ outcome: 'completed', counts: { promoted: 10 } });
  expect(names.map((n) => m.started.get(n))).toEqual(names.map(() => 1));
  expect(names.map((n) => m.mainTd.get(n))).toEqual(names.map((n) => newTd(n.split('/')[1]!)));
  expect(m.maxCanaries.overall).toBeLessThanOrEqual(3);
});
