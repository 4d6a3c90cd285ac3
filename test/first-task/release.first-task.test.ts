import type { WorkflowHandle } from '@temporalio/client';
import { abortUpdate, pauseSignal, pauseUpdate, resumeSignal, resumeUpdate, statusQuery } from '../../contracts/controls';
import type { DeployResult } from '../../contracts/canary-deploy/messages';
import type { ReleaseInput } from '../../contracts/release/input';
import { approveWaveUpdate, continueUpdate, rollbackUpdate, skipUpdate, type ReleaseCarried, type ReleaseResult, type ReleaseStatus } from '../../contracts/release/messages';
import { releaseStartOptions } from '../../contracts/release/start';
import { ReleaseState } from '../../workflows/release/state';
import { uniqueTaskQueue } from '../harness/temporal';
import { INSTANT_PLAN, newTd, oldTd, releaseInput, releaseMock, targets, useDevServer, type ReleaseMock } from '../release/release-mock';
import {
  accepted,
  expectSignalInFirstTask,
  expectUpdateInFirstTask,
  queryBeforeWorker,
  refused,
  startOnly,
  startWithSignal,
  startWithUpdate,
  statusUntil,
  withWorker,
  type StartOptions,
} from './first-task';

/**
 * Every message the release accepts, delivered in the first workflow task of a new run (its one wave
 * waiting for approval) and of a run that continues a previous one (its input carries what
 * continue-as-new hands over, built by the workflow's own state class: wave 1 promoted, wave 2
 * waiting for its approval). The run answers it and goes on: its deploys are real canary deploys with
 * test/release/release-mock.ts's mocked activities and a plan without bakes, on the dev server.
 */

const devServer = useDevServer();

let counter = 0;

interface Case {
  m: ReleaseMock;
  taskQueue: string;
  input: ReleaseInput;
  start: StartOptions;
  cluster: string;
}

/**
 * A release of two services: a new run deploys both in one wave; `continued`, the run continues one
 * whose wave 1 promoted the first (the mocked world agrees), and wave 2 has the second.
 */
function newCase(continued = false, paused = false): Case {
  counter += 1;
  const cluster = `ft${process.pid}x${counter}`;
  const taskQueue = uniqueTaskQueue('release-first-task');
  const input = releaseInput({ targets: targets(`${cluster}/s1`, `${cluster}/s2`), waves: continued ? [1, '100%'] : ['100%'], pollSeconds: 1 });
  const carried = continued ? carriedState(input, paused) : undefined;
  const m = releaseMock(INSTANT_PLAN);
  if (continued) m.mainTd.set(`${cluster}/s1`, newTd('s1'));
  const { workflowType, ...options } = releaseStartOptions(input);
  return { m, taskQueue, input, cluster, start: { workflowType, ...options, taskQueue, args: [{ ...input, ...(carried ? { carried } : {}) }] } };
}

/** What a run hands the next after wave 1 (s1 promoted, approved by Bob), waiting for wave 2's approval. */
function carriedState(input: ReleaseInput, paused: boolean): ReleaseCarried {
  const state = new ReleaseState(input, { phase: 'deploying', paused, abortRequest: undefined });
  state.recordApproval({ by: 'cli:bob' });
  const [cluster, service] = [input.targets[0]!.cluster, input.targets[0]!.service];
  const promoted: DeployResult = { outcome: 'promoted', reason: `${service} promoted`, cluster, service, previousTaskDefinition: oldTd(service), taskDefinition: newTd(service), decisions: [] };
  state.recordResult(0, promoted);
  state.waveIndex = 1;
  return JSON.parse(JSON.stringify(state.carry('awaiting-approval', paused))) as ReleaseCarried;
}

const approve = (h: WorkflowHandle) => h.executeUpdate(approveWaveUpdate, { args: [{ by: 'cli:bob' }] });

/** Approves whatever wave waits until the release ends, and returns its result. */
async function approvedToTheEnd(h: WorkflowHandle): Promise<ReleaseResult> {
  for (;;) {
    const s = await statusUntil<ReleaseStatus>(h, 'a wave to wait for approval, or the end', (x) => x.phase === 'awaiting-approval' || x.phase === 'completed');
    if (s.phase === 'completed') return (await h.result()) as ReleaseResult;
    await approve(h);
  }
}

const states = (r: ReleaseResult) => r.services.map((s) => `${s.service} ${s.state}`);

describe('release: a message in the first workflow task of a new run', () => {
  it('approveWave update (by an approver) is accepted, and the release deploys both waves', async () => {
    const env = devServer();
    const c = newCase();
    const { handle, answer } = await startWithUpdate(env, c.start, approveWaveUpdate, [{ by: 'cli:bob' }]);
    await withWorker(env, c.taskQueue, c.m.activities, async () => {
      expect(await accepted(answer)).toMatchObject({ phase: 'awaiting-approval', wave: { current: 1, total: 1 } });
      await expectUpdateInFirstTask(handle, 'approveWave');
      expect(states(await approvedToTheEnd(handle))).toEqual(['s1 promoted', 's2 promoted']);
    });
  });

  it('continue update is refused (nothing halted), and the release goes on when approved', async () => {
    const env = devServer();
    const c = newCase();
    const { handle, answer } = await startWithUpdate(env, c.start, continueUpdate, [{ by: 'cli:bob' }]);
    await withWorker(env, c.taskQueue, c.m.activities, async () => {
      expect(await refused(answer)).toBe(`release ${c.input.id} is not halted (awaiting-approval)`);
      expect(states(await approvedToTheEnd(handle))).toEqual(['s1 promoted', 's2 promoted']);
    });
  });

  it('skip update of a service not started is accepted; the release deploys the other', async () => {
    const env = devServer();
    const c = newCase();
    const { handle, answer } = await startWithUpdate(env, c.start, skipUpdate, [{ by: 'cli:bob', service: `${c.cluster}/s1`, reason: 'retired' }]);
    await withWorker(env, c.taskQueue, c.m.activities, async () => {
      expect(await accepted(answer)).toMatchObject({ counts: { skipped: 1, pending: 1 } });
      await expectUpdateInFirstTask(handle, 'skip');
      expect(states(await approvedToTheEnd(handle))).toEqual(['s1 skipped', 's2 promoted']);
    });
  });

  it('rollback update is accepted; with nothing promoted the release ends rolled back, having deployed nothing', async () => {
    const env = devServer();
    const c = newCase();
    const { handle, answer } = await startWithUpdate(env, c.start, rollbackUpdate, [{ by: 'cli:alice', reason: 'wrong change' }]);
    await withWorker(env, c.taskQueue, c.m.activities, async () => {
      expect(await accepted(answer)).toMatchObject({ rollback: { by: 'cli:alice', reason: 'wrong change' } });
      await expectUpdateInFirstTask(handle, 'rollback');
      const result = (await handle.result()) as ReleaseResult;
      expect(result).toMatchObject({ outcome: 'rolled-back', counts: { pending: 2 } });
      expect(c.m.started.size).toBe(0);
    });
  });

  it('pause update is answered paused; an approval is taken but no wave starts until resume', async () => {
    const env = devServer();
    const c = newCase();
    const { handle, answer } = await startWithUpdate(env, c.start, pauseUpdate, [{ by: 'cli:bob' }]);
    await withWorker(env, c.taskQueue, c.m.activities, async () => {
      expect(await accepted(answer)).toMatchObject({ paused: true, phase: 'awaiting-approval' });
      await expectUpdateInFirstTask(handle, 'pause');
      await approve(handle);
      const held = await statusUntil<ReleaseStatus>(handle, 'the approval recorded while paused', (s) => s.decisions.some((d) => d.decision === 'approve'));
      expect(held).toMatchObject({ paused: true, phase: 'awaiting-approval', waitingFor: 'paused: resume to go on' });
      expect(c.m.started.size).toBe(0);
      await handle.executeUpdate(resumeUpdate, { args: [{ by: 'cli:bob' }] });
      expect(states(await approvedToTheEnd(handle))).toEqual(['s1 promoted', 's2 promoted']);
    });
  });

  it('resume update is answered not paused, and the release deploys when approved', async () => {
    const env = devServer();
    const c = newCase();
    const { handle, answer } = await startWithUpdate(env, c.start, resumeUpdate, [{ by: 'cli:bob' }]);
    await withWorker(env, c.taskQueue, c.m.activities, async () => {
      expect(await accepted(answer)).toMatchObject({ paused: false, phase: 'awaiting-approval' });
      await expectUpdateInFirstTask(handle, 'resume');
      expect(states(await approvedToTheEnd(handle))).toEqual(['s1 promoted', 's2 promoted']);
    });
  });

  it('abort update is answered with the abort, and the release ends aborted, having deployed nothing', async () => {
    const env = devServer();
    const c = newCase();
    const { handle, answer } = await startWithUpdate(env, c.start, abortUpdate, [{ by: 'cli:bob', reason: 'not today' }]);
    await withWorker(env, c.taskQueue, c.m.activities, async () => {
      expect(await accepted(answer)).toMatchObject({ abortRequested: 'not today' });
      await expectUpdateInFirstTask(handle, 'abort');
      expect(await handle.result()).toMatchObject({ outcome: 'aborted', reason: expect.stringMatching(/^aborted by cli:bob: not today/) });
      expect(c.m.started.size).toBe(0);
    });
  });

  it('pause signal holds the release; after the resume signal it deploys when approved', async () => {
    const env = devServer();
    const c = newCase();
    const handle = await startWithSignal(env, c.start, pauseSignal, [{ by: 'cli:bob' }]);
    await withWorker(env, c.taskQueue, c.m.activities, async () => {
      await statusUntil<ReleaseStatus>(handle, 'the release paused', (s) => s.paused === true);
      await expectSignalInFirstTask(handle, 'pause');
      await handle.signal(resumeSignal, { by: 'cli:bob' });
      expect(states(await approvedToTheEnd(handle))).toEqual(['s1 promoted', 's2 promoted']);
    });
  });

  it('resume signal leaves the release unpaused; it deploys when approved', async () => {
    const env = devServer();
    const c = newCase();
    const handle = await startWithSignal(env, c.start, resumeSignal, [{ by: 'cli:bob' }]);
    await withWorker(env, c.taskQueue, c.m.activities, async () => {
      expect(states(await approvedToTheEnd(handle))).toEqual(['s1 promoted', 's2 promoted']);
      await expectSignalInFirstTask(handle, 'resume');
    });
  });

  it('status query is answered with the first wave waiting for approval', async () => {
    const env = devServer();
    const c = newCase();
    const handle = await startOnly(env, c.start);
    const answer = queryBeforeWorker(handle, statusQuery);
    await withWorker(env, c.taskQueue, c.m.activities, async () => {
      expect(await answer).toMatchObject({ phase: 'awaiting-approval', paused: false, release: c.input.id, wave: { current: 1, total: 1 }, counts: { pending: 2 }, continuedRuns: 0 });
      expect(states(await approvedToTheEnd(handle))).toEqual(['s1 promoted', 's2 promoted']);
    });
  });
});

describe('release: a message in the first workflow task of a run that continues a previous one', () => {
  it('approveWave update is accepted for wave 2; only its service is deployed', async () => {
    const env = devServer();
    const c = newCase(true);
    const { handle, answer } = await startWithUpdate(env, c.start, approveWaveUpdate, [{ by: 'cli:bob', wave: 2 }]);
    await withWorker(env, c.taskQueue, c.m.activities, async () => {
      expect(await accepted(answer)).toMatchObject({ phase: 'awaiting-approval', wave: { current: 2 }, continuedRuns: 1 });
      await expectUpdateInFirstTask(handle, 'approveWave');
      expect(states(await approvedToTheEnd(handle))).toEqual(['s1 promoted', 's2 promoted']);
      expect([...c.m.started.keys()]).toEqual([`${c.cluster}/s2`]);
    });
  });

  it('rollback update is accepted; the service the previous run promoted is deployed back', async () => {
    const env = devServer();
    const c = newCase(true);
    const { handle, answer } = await startWithUpdate(env, c.start, rollbackUpdate, [{ by: 'cli:alice', reason: 'errors up' }]);
    await withWorker(env, c.taskQueue, c.m.activities, async () => {
      expect(await accepted(answer)).toMatchObject({ rollback: { by: 'cli:alice' } });
      await expectUpdateInFirstTask(handle, 'rollback');
      const result = (await handle.result()) as ReleaseResult;
      expect(states(result)).toEqual(['s1 reverted', 's2 pending']);
      expect(c.m.mainTd.get(`${c.cluster}/s1`)).toBe(oldTd('s1'));
    });
  });

  it('skip update of wave 2’s service is accepted; with nothing left, the release completes', async () => {
    const env = devServer();
    const c = newCase(true);
    const { handle, answer } = await startWithUpdate(env, c.start, skipUpdate, [{ by: 'cli:bob', service: 's2' }]);
    await withWorker(env, c.taskQueue, c.m.activities, async () => {
      expect(await accepted(answer)).toMatchObject({ counts: { skipped: 1, promoted: 1 } });
      await expectUpdateInFirstTask(handle, 'skip');
      expect(states(await approvedToTheEnd(handle))).toEqual(['s1 promoted', 's2 skipped']);
    });
  });

  it('a run continued from a paused one starts paused; resume update lets it deploy wave 2', async () => {
    const env = devServer();
    const c = newCase(true, true);
    const { handle, answer } = await startWithUpdate(env, c.start, resumeUpdate, [{ by: 'cli:bob' }]);
    await withWorker(env, c.taskQueue, c.m.activities, async () => {
      expect(await accepted(answer)).toMatchObject({ paused: false, wave: { current: 2 } });
      await expectUpdateInFirstTask(handle, 'resume');
      expect(states(await approvedToTheEnd(handle))).toEqual(['s1 promoted', 's2 promoted']);
    });
  });

  it('status query is answered with wave 2 waiting and what the previous run did', async () => {
    const env = devServer();
    const c = newCase(true);
    const handle = await startOnly(env, c.start);
    const answer = queryBeforeWorker(handle, statusQuery);
    await withWorker(env, c.taskQueue, c.m.activities, async () => {
      expect(await answer).toMatchObject({
        phase: 'awaiting-approval',
        wave: { current: 2, total: 2 },
        continuedRuns: 1,
        lastWave: { wave: 1, promoted: [`${c.cluster}/s1`], approvedBy: 'cli:bob' },
      });
      expect(states(await approvedToTheEnd(handle))).toEqual(['s1 promoted', 's2 promoted']);
    });
  });
});
