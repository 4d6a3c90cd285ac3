import { Client, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { DeployResult } from '../../contracts/canary-deploy/messages';
import { approveWaveUpdate, continueUpdate, rollbackUpdate, skipUpdate, type ReleaseResult } from '../../contracts/release/messages';
import { recordHistory } from '../harness/temporal';
import { newTd, oldTd, releaseInput, releaseMock, run, startRelease, states, targets, untilStatus, useTimeSkippingEnv } from './release-mock';

/**
 * The release on the time-skipping server: real canary deploys as its children, their activities and
 * the freeze lookup mocked per service (release-mock.ts). Waves and their approvals, a halt on a
 * rollback and what operators do about it (continue, skip, roll back what was promoted), a freeze that
 * holds a wave. Continue-as-new, a deploy already running and abort: release-lifecycle.test.ts.
 */

const env = useTimeSkippingEnv();

/** The update's refusal (its validator's message); fails if it was accepted. */
async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) return err.cause?.message ?? err.message;
    throw err;
  }
  throw new Error('the update was accepted');
}

async function finish(handle: WorkflowHandle, caseName: string): Promise<ReleaseResult> {
  const result = (await handle.result()) as ReleaseResult;
  await recordHistory(handle, 'release', caseName);
  return result;
}

/**
 * A finished deploy's result, through a plain client: the time-skipping client unlocks and locks time
 * skipping around every result it awaits, and several awaited at once leave it locked for the next test.
 */
const deployOf = async (workflowId: string): Promise<DeployResult> => (await new Client({ connection: env().connection }).workflow.getHandle(workflowId).result()) as DeployResult;

describe('release (time-skipping, child canary deploys with mocked activities)', () => {
  it('deploys in waves, each after one approval by someone who may approve all its deploys, which pass their gates with it', async () => {
    const m = releaseMock();
    const input = releaseInput({ targets: targets('blue/a1', 'blue/a2', 'blue/a3', 'blue/a4'), waves: [1, '50%', '100%'], maxPerCluster: 1 });
    const result = await run(m, async (tq) => {
      const h = await startRelease(input, tq);
      const first = await untilStatus(h, 'wave 1 waits for its approval', (s) => s.phase === 'awaiting-approval');
      expect(first).toMatchObject({ wave: { current: 1, total: 3 }, counts: { pending: 4 }, summary: `release ${input.id}: wave 1/3 (1 services) waits for approveWave` });
      expect(await refusal(h.executeUpdate(approveWaveUpdate, { args: [{ by: 'cli:alice' }] }))).toBe('cli:alice may not approve wave 1: cli:alice requested this deploy and cannot approve it: someone else must');
      expect(await refusal(h.executeUpdate(approveWaveUpdate, { args: [{ by: 'cli:carol' }] }))).toBe('cli:carol may not approve wave 1: cli:carol is not an approver of blue/a1');
      expect(await refusal(h.executeUpdate(approveWaveUpdate, { args: [{ by: 'cli:bob', wave: 2 }] }))).toBe('wave 1 waits for approval, not wave 2');
      expect(await refusal(h.executeUpdate(approveWaveUpdate, { args: [{ by: ' ' }] }))).toMatch(/^an approval must say who approves/);
      const approved = await h.executeUpdate(approveWaveUpdate, { args: [{ by: 'cli:bob', wave: 1, reason: 'canary first' }] });
      // The answer says what happens next, not the wait the approval ended.
      expect(approved.summary).toBe(`release ${input.id}: wave 1/3 (1 services) approved by cli:bob; starts now`);

      const second = await untilStatus(h, 'wave 2 waits for its approval', (s) => s.phase === 'awaiting-approval' && s.wave.current === 2);
      // Before the approval, the wave that ended is summed up.
      expect(second.lastWave).toEqual({ wave: 1, size: 1, approvedBy: 'cli:bob', promoted: ['blue/a1'], rolledBack: [], failed: [], skipped: [] });
      expect(second.summary).toBe(`release ${input.id}: wave 2/3 (1 services) waits for approveWave; wave 1: 1 promoted, 0 rolled back, 0 failed, 0 skipped of 1`);
      expect(states(second)).toEqual(['blue/a1 promoted', 'blue/a2 pending', 'blue/a3 pending', 'blue/a4 pending']);
      await h.executeUpdate(approveWaveUpdate, { args: [{ by: 'slack:UBOB' }] });
      await untilStatus(h, 'wave 3 waits for its approval', (s) => s.phase === 'awaiting-approval' && s.wave.current === 3);
      await h.executeUpdate(approveWaveUpdate, { args: [{ by: 'cli:bob' }] });
      return finish(h, 'waves-approved');
    });
    expect(result).toMatchObject({ outcome: 'completed', counts: { promoted: 4, pending: 0 } });
    expect(['a1', 'a2', 'a3', 'a4'].map((s) => m.mainTd.get(`blue/${s}`))).toEqual(['a1', 'a2', 'a3', 'a4'].map(newTd));
    // Wave 3's two services on one cluster, at most one deploy there at a time.
    expect(m.maxCanaries.perCluster.get('blue')).toBe(1);
    const child = await deployOf('deploy-blue-a3');
    expect(child.outcome).toBe('promoted');
    expect(child.decisions.filter((d) => d.decision === 'approve').map((d) => d.reason)).toEqual([`gate passed: wave 3 of release-${input.id} approved by cli:bob`]);
    expect(child.decisions.some((d) => d.decision === 'enter awaiting-approval')).toBe(false);
    await recordHistory(env().client.workflow.getHandle('deploy-blue-a3'), 'canary-deploy', 'release-gate-passed');
  });

  it('a rollback in wave 2 halts it: nothing new starts; continue (by an approver, never the requester) lets the wave go on', async () => {
    const m = releaseMock();
    m.world.failing.add('green/b2');
    const input = releaseInput({ targets: targets('green/b1', 'green/b2', 'green/b3', 'green/b4'), waves: [1, 2, 1], maxConcurrent: 1 });
    const result = await run(m, async (tq) => {
      const h = await startRelease(input, tq);
      for (const wave of [1, 2]) {
        await untilStatus(h, `wave ${wave} waits`, (s) => s.phase === 'awaiting-approval' && s.wave.current === wave);
        await h.executeUpdate(approveWaveUpdate, { args: [{ by: 'cli:bob' }] });
      }
      const halted = await untilStatus(h, 'the release to halt', (s) => s.phase === 'halted');
      expect(states(halted)).toEqual(['green/b1 promoted', 'green/b2 rolled-back', 'green/b3 pending', 'green/b4 pending']);
      expect(halted.halted?.reason).toMatch(/^wave 2: 1 failed \(budget 0\): green\/b2 rolled-back: rolled back: /);
      expect(halted.lastWave).toMatchObject({ wave: 2, promoted: [], rolledBack: [{ service: 'green/b2', reason: expect.stringMatching(/^rolled back: .*5xx/) }] });
      // Halted, it stays so: time passes and b3 is not started.
      await env().sleep('10 minutes');
      expect(states(await untilStatus(h, 'still halted', (s) => s.phase === 'halted'))).toContain('green/b3 pending');
      expect(m.started.get('green/b3')).toBeUndefined();
      expect(await refusal(h.executeUpdate(continueUpdate, { args: [{ by: 'cli:alice' }] }))).toMatch(/^cli:alice may not continue wave 2: cli:alice requested this deploy/);
      await h.executeUpdate(continueUpdate, { args: [{ by: 'cli:bob', reason: 'b2 is flaky, tracked' }] });
      await untilStatus(h, 'wave 3 waits', (s) => s.phase === 'awaiting-approval' && s.wave.current === 3);
      await h.executeUpdate(approveWaveUpdate, { args: [{ by: 'cli:bob' }] });
      return finish(h, 'halt-continue');
    });
    expect(result).toMatchObject({ outcome: 'completed', counts: { promoted: 3, 'rolled-back': 1 } });
    expect(m.mainTd.get('green/b2')).toBeUndefined();
  });

  it('skip of the failed service lifts the halt; a rollback then deploys each promoted service back to its previous task definition, newest first', async () => {
    const m = releaseMock();
    m.world.failing.add('teal/c3');
    const input = releaseInput({ targets: targets('teal/c1', 'teal/c2', 'teal/c3', 'teal/c4', 'teal/c5', 'teal/c6'), waves: [1, 2, 3], maxConcurrent: 1 });
    const result = await run(m, async (tq) => {
      const h = await startRelease(input, tq);
      for (const wave of [1, 2]) {
        await untilStatus(h, `wave ${wave} waits`, (s) => s.phase === 'awaiting-approval' && s.wave.current === wave);
        await h.executeUpdate(approveWaveUpdate, { args: [{ by: 'cli:bob' }] });
      }
      await untilStatus(h, 'the release to halt', (s) => s.phase === 'halted');
      expect(await refusal(h.executeUpdate(skipUpdate, { args: [{ by: 'cli:bob', service: 'teal/c1' }] }))).toBe('teal/c1 is promoted: only a service that failed, waits or has not started can be skipped');
      expect(await refusal(h.executeUpdate(skipUpdate, { args: [{ by: 'cli:bob', service: 'teal/nope' }] }))).toBe(`release ${input.id} has no service teal/nope`);
      await h.executeUpdate(skipUpdate, { args: [{ by: 'cli:bob', service: 'c3', reason: 'c3 is retired next week' }] });
      // Back within its budget, the wave is over: the next one waits for its approval.
      await untilStatus(h, 'wave 3 waits', (s) => s.phase === 'awaiting-approval' && s.wave.current === 3);
      await h.executeUpdate(approveWaveUpdate, { args: [{ by: 'cli:bob' }] });
      await untilStatus(h, 'c4 promoted and c5 running', (s) => s.services[3]!.state === 'promoted' && s.services[4]!.state === 'running');
      // The requester may undo their own change.
      await h.executeUpdate(rollbackUpdate, { args: [{ by: 'cli:alice', reason: 'latency regression seen in wave 3' }] });
      expect(await refusal(h.executeUpdate(rollbackUpdate, { args: [{ by: 'cli:bob', reason: 'again' }] }))).toBe(`release ${input.id} is already rolling back (by cli:alice)`);
      return finish(h, 'skip-then-rollback');
    });
    expect(result.outcome).toBe('rolled-back');
    // c5, running when the rollback was asked for, ended promoted and was reverted too; c6 never started.
    expect(result.services.map((s) => `${s.service} ${s.state}`)).toEqual(['c1 reverted', 'c2 reverted', 'c3 skipped', 'c4 reverted', 'c5 reverted', 'c6 pending']);
    expect(['c1', 'c2', 'c4', 'c5'].map((s) => m.mainTd.get(`teal/${s}`))).toEqual(['c1', 'c2', 'c4', 'c5'].map(oldTd));
    expect(m.started.get('teal/c6')).toBeUndefined();
    expect(result.services[2]!.reason).toMatch(/^skipped by cli:bob: c3 is retired next week \(was rolled-back: rolled back: /);
    // Service by service, newest promotion first: each rollback deploy is approved by the rollback's asker, through any freeze.
    const reverts = await Promise.all(['c5', 'c4', 'c2', 'c1'].map((s) => deployOf(`deploy-teal-${s}`)));
    expect(reverts.map((r) => r.taskDefinition)).toEqual(['c5', 'c4', 'c2', 'c1'].map(oldTd));
    const order = result.services.filter((s) => s.state === 'reverted').sort((a, b) => (a.since ?? 0) - (b.since ?? 0));
    expect(order.map((s) => s.service)).toEqual(['c5', 'c4', 'c2', 'c1']);
    expect(reverts[0]!.decisions.find((d) => d.decision === 'approve')?.reason).toBe(`gate passed: the rollback of release-${input.id} approved by cli:alice: latency regression seen in wave 3`);
    expect(reverts[0]!.decisions.find((d) => d.decision === 'skip')?.reason).toBe('forced: open incidents not checked');
  });

  it('a wave touching a frozen cluster waits, saying why, and starts once the freeze is over', async () => {
    const m = releaseMock();
    const input = releaseInput({ targets: targets('plum/d1', 'plum/d2', 'gold/d3'), waves: [1, '100%'] });
    const result = await run(m, async (tq) => {
      const h = await startRelease(input, tq);
      await untilStatus(h, 'wave 1 waits', (s) => s.phase === 'awaiting-approval');
      await h.executeUpdate(approveWaveUpdate, { args: [{ by: 'cli:bob' }] });
      await untilStatus(h, 'wave 2 waits', (s) => s.phase === 'awaiting-approval' && s.wave.current === 2);
      m.world.frozen.set('gold', 'deploys to gold are frozen while incidents are open: incident-alarm-gold-5xx (sev2, investigating)');
      await h.executeUpdate(approveWaveUpdate, { args: [{ by: 'cli:bob' }] });
      const frozen = await untilStatus(h, 'the wave held by the freeze', (s) => s.phase === 'frozen');
      expect(frozen.waitingFor).toBe('deploys to gold are frozen while incidents are open: incident-alarm-gold-5xx (sev2, investigating)');
      expect(frozen.summary).toBe(`release ${input.id}: wave 2/2 waits: deploys to gold are frozen while incidents are open: incident-alarm-gold-5xx (sev2, investigating)`);
      await env().sleep('5 minutes');
      expect(states(await untilStatus(h, 'still frozen', (s) => s.phase === 'frozen'))).toEqual(['plum/d1 promoted', 'plum/d2 pending', 'gold/d3 pending']);
      m.world.frozen.delete('gold');
      return finish(h, 'freeze-holds-wave');
    });
    expect(result).toMatchObject({ outcome: 'completed', counts: { promoted: 3 } });
    expect(m.notified).toContain(`release ${input.id}: frozen`);
  });
});
