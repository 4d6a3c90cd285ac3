import type { WorkflowHandle } from '@temporalio/client';
import { abortUpdate } from '../../contracts/controls';
import { approveUpdate, type CanaryDeployWorkflow, type DeployResult } from '../../contracts/canary-deploy/messages';
import { deployStartOptions } from '../../contracts/canary-deploy/start';
import { approveWaveUpdate, rollbackUpdate, skipUpdate, type ReleaseResult } from '../../contracts/release/messages';
import { until } from '../../testkit/poll';
import { recordHistory } from '../harness/temporal';
import { FAST_PLAN, releaseInput, releaseMock, run, startRelease, states, targets, untilStatus, useDevServer } from './release-mock';

/**
 * The release's life beyond its waves, on the dev server in real time with real child canary deploys
 * (release-mock.ts): a service whose deploy id a deploy outside the release holds (waited for, or
 * skipped), abort (running deploys cancelled, each rolling itself back), and a dry run. Continue-as-new
 * in the middle of a wave: release-continue-as-new.test.ts.
 */

// The dev server, not the time-skipping one: with a deploy outside the release held at its gate and the
// release polling for it, the time-skipping server stopped skipping (env.sleep took 9 s of real time,
// then awaiting a result never returned) in 1 of 3 runs beside other files.
const env = useDevServer();

async function finish(handle: WorkflowHandle, caseName: string): Promise<ReleaseResult> {
  const result = (await handle.result()) as ReleaseResult;
  await recordHistory(handle, 'release', caseName);
  return result;
}

/** A deploy of `cluster/service` started outside any release (Carol asks; its plan's gate holds it until someone approves). */
async function outsideDeploy(taskQueue: string, cluster: string, service: string): Promise<WorkflowHandle<CanaryDeployWorkflow>> {
  const { workflowType, ...options } = deployStartOptions({ cluster, service, image: `registry.example/${service}:3`, requestedBy: 'cli:carol' });
  return env().client.workflow.start<CanaryDeployWorkflow>(workflowType, { ...options, taskQueue });
}

describe('release lifecycle (dev server, child canary deploys with mocked activities)', () => {
  it('waits for a deploy of a service running outside the release, saying so, then deploys the service itself', async () => {
    const m = releaseMock(FAST_PLAN);
    const input = releaseInput({ targets: targets('navy/e1', 'navy/e2'), waves: ['100%'], pollSeconds: 1 });
    const result = await run(m, async (tq) => {
      const outside = await outsideDeploy(tq, 'navy', 'e1');
      const h = await startRelease(input, tq);
      await untilStatus(h, 'wave 1 waits', (s) => s.phase === 'awaiting-approval');
      await h.executeUpdate(approveWaveUpdate, { args: [{ by: 'cli:bob' }] });
      const waiting = await untilStatus(h, 'e1 waiting, e2 promoted', (s) => s.services[0]!.state === 'waiting' && s.services[1]!.state === 'promoted');
      expect(waiting.services[0]).toMatchObject({ blockedBy: 'deploy-navy-e1', reason: 'waits for deploy-navy-e1 is running (not started by this release)' });
      expect(waiting.waitingFor).toBe('navy/e1: waits for deploy-navy-e1 is running (not started by this release)');
      await outside.executeUpdate(approveUpdate, { args: [{ by: 'cli:bob' }] });
      expect(((await outside.result()) as DeployResult).outcome).toBe('promoted');
      return finish(h, 'busy-service-waited-for');
    });
    expect(result).toMatchObject({ outcome: 'completed', counts: { promoted: 2 } });
    // The outside deploy and the release's own.
    expect(m.started.get('navy/e1')).toBe(2);
  });

  it('skips a service whose deploy id is taken when onBusy is skip', async () => {
    const m = releaseMock(FAST_PLAN);
    const input = releaseInput({ targets: targets('navy/e3'), onBusy: 'skip', pollSeconds: 1 });
    const result = await run(m, async (tq) => {
      const outside = await outsideDeploy(tq, 'navy', 'e3');
      const h = await startRelease(input, tq);
      await untilStatus(h, 'wave 1 waits', (s) => s.phase === 'awaiting-approval');
      await h.executeUpdate(approveWaveUpdate, { args: [{ by: 'cli:bob' }] });
      const r = await finish(h, 'busy-service-skipped');
      // Ended here, while the worker runs: a deploy left waiting on a task would hold the next test's clock.
      await outside.executeUpdate(abortUpdate, { args: [{ by: 'cli:carol', reason: 'test over' }] });
      expect(((await outside.result()) as DeployResult).outcome).toBe('rolled-back');
      return r;
    });
    expect(result).toMatchObject({ outcome: 'completed', counts: { skipped: 1 } });
    expect(result.services[0]!.reason).toBe('deploy-navy-e3 is running (not started by this release); onBusy skip');
  });

  it("refuses a rollback and a skip by someone with no say over the release's services: the release goes on", async () => {
    const m = releaseMock(FAST_PLAN);
    const input = releaseInput({ targets: targets('sand/h1', 'sand/h2'), waves: ['100%'], pollSeconds: 1 });
    const result = await run(m, async (tq) => {
      const h = await startRelease(input, tq);
      await untilStatus(h, 'wave 1 waits', (s) => s.phase === 'awaiting-approval');
      const refused = await h.executeUpdate(rollbackUpdate, { args: [{ by: 'cli:mallory', reason: 'stop it' }] }).then(
        () => undefined,
        (err: Error) => err,
      );
      expect((refused?.cause as Error | undefined)?.message).toMatch(/cli:mallory may not roll back release/);
      // Nor may she skip a service (a skip can lift a halt, as continue does).
      const skipRefused = await h.executeUpdate(skipUpdate, { args: [{ by: 'cli:mallory', service: 'sand/h1' }] }).then(
        () => undefined,
        (err: Error) => err,
      );
      expect((skipRefused?.cause as Error | undefined)?.message).toMatch(/cli:mallory may not skip sand\/h1/);
      const after = await untilStatus(h, 'still waiting for its approval', (s) => s.phase === 'awaiting-approval');
      expect(after.rollback).toBeUndefined();
      expect(m.started.size).toBe(0);
      await h.executeUpdate(approveWaveUpdate, { args: [{ by: 'cli:bob' }] });
      return finish(h, 'rollback-refused-stranger');
    });
    expect(result).toMatchObject({ outcome: 'completed', counts: { promoted: 2 } });
  });

  it('abort cancels the running deploys (each rolls back what it changed) and ends the release aborted, starting nothing new', async () => {
    const m = releaseMock(FAST_PLAN);
    const input = releaseInput({ targets: targets('rust/f1', 'rust/f2', 'rust/f3'), waves: ['100%'], maxConcurrent: 2, pollSeconds: 1 });
    const result = await run(m, async (tq) => {
      const h = await startRelease(input, tq);
      await untilStatus(h, 'wave 1 waits', (s) => s.phase === 'awaiting-approval');
      await h.executeUpdate(approveWaveUpdate, { args: [{ by: 'cli:bob' }] });
      await untilStatus(h, 'two deploys running', (s) => s.counts.running === 2);
      // In real time a running deploy may still be in its preflight: abort once both have a canary.
      await until('both canaries created', () => m.maxCanaries.overall === 2, { timeoutMs: 20_000, intervalMs: 100 });
      await h.executeUpdate(abortUpdate, { args: [{ by: 'cli:bob', reason: 'wrong base image' }] });
      return finish(h, 'abort-mid-wave');
    });
    expect(result.outcome).toBe('aborted');
    expect(result.reason).toMatch(/^aborted by cli:bob: wrong base image; 0 promoted, 0 rolled back, 2 failed/);
    expect(result.services.map((s) => `${s.service} ${s.state}`)).toEqual(['f1 failed', 'f2 failed', 'f3 pending']);
    expect(m.maxCanaries.overall).toBe(2);
    expect(['f1', 'f2'].map((s) => m.mainTd.get(`rust/${s}`))).toEqual([undefined, undefined]);
    const f1 = await env().client.workflow.getHandle('deploy-rust-f1').describe();
    expect(f1.status.name).toBe('CANCELLED');
  });

  it('a dry run needs no approvals: every deploy runs dry and the release completes', async () => {
    const m = releaseMock(FAST_PLAN);
    const input = releaseInput({ targets: targets('sand/g1', 'sand/g2'), waves: [1, '100%'], dryRun: true, pollSeconds: 1 });
    const result = await run(m, async (tq) => finish(await startRelease(input, tq), 'dry-run'));
    expect(result).toMatchObject({ outcome: 'completed', counts: { promoted: 2 } });
    expect(result.services.map((s) => s.outcome)).toEqual(['dry-run-complete', 'dry-run-complete']);
    expect(states({ services: result.services } as never)).toEqual(['sand/g1 promoted', 'sand/g2 promoted']);
  });
});
