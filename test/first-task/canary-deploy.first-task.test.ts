import type { WorkflowHandle } from '@temporalio/client';
import { abortUpdate, pauseSignal, pauseUpdate, resumeSignal, resumeUpdate, statusQuery } from '../../contracts/controls';
import { deployStartOptions } from '../../contracts/canary-deploy/start';
import { deployWorkflowId } from '../../common/workflow-ids';
import type { DeployEcsEvent } from '../../contracts/canary-deploy/input';
import { approveUpdate, ecsEventSignal, type DeployResult, type DeployStatus } from '../../contracts/canary-deploy/messages';
import { CLUSTER, mock, mutations, newService, planOf, type Mock } from '../deploy/deploy-mock';
import { uniqueTaskQueue } from '../harness/temporal';
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
  useDevServer,
  withWorker,
  type StartOptions,
} from './first-task';

/**
 * Every message the canary deploy accepts, delivered in its first workflow task (a deploy does not
 * continue as new): the run answers it and goes on to its gate, where an approval promotes it. The
 * deploy activities are test/deploy/deploy-mock.ts's mocked world; the plan is short so it runs in
 * real time on the dev server.
 */

const devServer = useDevServer();

const PLAN = planOf({ steps: [{ kind: 'setWeight', weight: 10 }, { kind: 'gate' }, { kind: 'promote' }], alarms: [], postPromotionBakeSeconds: 0 });
const REQUESTED_BY = 'alice';

interface Case {
  m: Mock;
  taskQueue: string;
  start: StartOptions;
}

function newCase(): Case {
  const taskQueue = uniqueTaskQueue('deploy-first-task');
  // The mocks answer for service `web` whatever the workflow id says; each test has an id of its own.
  const { workflowType, ...options } = deployStartOptions({ cluster: CLUSTER, service: 'web', image: 'registry.example/web:2', requestedBy: REQUESTED_BY });
  return {
    m: mock({ plan: PLAN, stableDesired: 4, stableRunning: 4 }),
    taskQueue,
    start: { workflowType, ...options, workflowId: deployWorkflowId(CLUSTER, newService()), taskQueue },
  };
}

const ecsEvent = (eventId: string): DeployEcsEvent => ({
  detailType: 'ECS Deployment State Change',
  eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS',
  eventType: 'INFO',
  resources: [`arn:aws:ecs:us-east-1:123456789012:service/${CLUSTER}/web`],
  time: new Date().toISOString(),
  eventId,
});

/** Progress: the deploy reaches its gate, someone other than the requester approves, and it is promoted. */
async function expectPromotedAfterGate(c: Case, handle: WorkflowHandle): Promise<DeployResult> {
  await statusUntil<DeployStatus>(handle, 'the deploy to wait at its gate', (s) => s.phase === 'awaiting-approval');
  expect(await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob' }] })).toMatchObject({ phase: 'awaiting-approval' });
  const result = (await handle.result()) as DeployResult;
  expect(result.outcome).toBe('promoted');
  expect(mutations(c.m.log)).toEqual(['createCanaryService', 'scaleService:1', 'updateServiceRevision:web:2', 'deleteCanaryService']);
  return result;
}

/** A paused deploy passes preflight and then holds before its first change. */
async function expectHeldBeforeAnyChange(c: Case, handle: WorkflowHandle): Promise<void> {
  const held = await statusUntil<DeployStatus>(handle, 'the paused deploy to pass preflight and hold', (s) => s.decisions.some((d) => d.decision === 'proceed'));
  expect(held).toMatchObject({ paused: true, phase: 'preflight' });
  expect(mutations(c.m.log)).toEqual([]);
}

describe('canaryDeploy: a message in the first workflow task', () => {
  it('approve update is refused by its validator (no gate yet), and the deploy goes on to its gate and is promoted on approval', async () => {
    const env = devServer();
    const c = newCase();
    const { handle, answer } = await startWithUpdate(env, c.start, approveUpdate, [{ by: 'bob' }]);
    await withWorker(env, c.taskQueue, c.m.activities, async () => {
      expect(await refused(answer)).toBe(`nothing to approve: deploy ${CLUSTER}/web is preflight, not waiting at a gate`);
      await expectPromotedAfterGate(c, handle);
    });
  });

  it('ecsEvent signal (signal-with-start) is on the timeline, and the deploy goes on to its gate and is promoted', async () => {
    const env = devServer();
    const c = newCase();
    const handle = await startWithSignal(env, c.start, ecsEventSignal, [ecsEvent('ecs-1')]);
    await withWorker(env, c.taskQueue, c.m.activities, async () => {
      const s = await statusUntil<DeployStatus>(handle, 'the event on the timeline', (x) => x.timeline.some((t) => t.source === 'ecs'));
      expect(s.timeline.filter((t) => t.source === 'ecs').map((t) => t.text)).toEqual(['web: SERVICE_DEPLOYMENT_IN_PROGRESS']);
      await expectSignalInFirstTask(handle, 'ecsEvent');
      await expectPromotedAfterGate(c, handle);
    });
  });

  it('pause update is answered paused; the deploy holds before its first change, and after resume reaches its gate and is promoted', async () => {
    const env = devServer();
    const c = newCase();
    const { handle, answer } = await startWithUpdate(env, c.start, pauseUpdate, [{ by: 'bob' }]);
    await withWorker(env, c.taskQueue, c.m.activities, async () => {
      expect(await accepted(answer)).toMatchObject({ paused: true, phase: 'preflight', service: 'web' });
      await expectUpdateInFirstTask(handle, 'pause');
      await expectHeldBeforeAnyChange(c, handle);
      expect(await handle.executeUpdate(resumeUpdate, { args: [{ by: 'bob' }] })).toMatchObject({ paused: false });
      await expectPromotedAfterGate(c, handle);
    });
  });

  it('resume update is answered not paused, and the deploy reaches its gate and is promoted', async () => {
    const env = devServer();
    const c = newCase();
    const { handle, answer } = await startWithUpdate(env, c.start, resumeUpdate, [{ by: 'bob' }]);
    await withWorker(env, c.taskQueue, c.m.activities, async () => {
      expect(await accepted(answer)).toMatchObject({ paused: false, phase: 'preflight' });
      await expectUpdateInFirstTask(handle, 'resume');
      await expectPromotedAfterGate(c, handle);
    });
  });

  it('abort update is answered with the abort, and the deploy ends before any change', async () => {
    const env = devServer();
    const c = newCase();
    const { handle, answer } = await startWithUpdate(env, c.start, abortUpdate, [{ reason: 'wrong image', by: 'bob' }]);
    await withWorker(env, c.taskQueue, c.m.activities, async () => {
      expect(await accepted(answer)).toMatchObject({ abortRequested: 'wrong image', phase: 'preflight' });
      await expectUpdateInFirstTask(handle, 'abort');
      const result = (await handle.result()) as DeployResult;
      expect(result).toMatchObject({ outcome: 'rolled-back', reason: expect.stringContaining('wrong image') });
      expect(mutations(c.m.log)).toEqual([]);
    });
  });

  it('pause signal holds the deploy before its first change; after the resume signal it reaches its gate and is promoted', async () => {
    const env = devServer();
    const c = newCase();
    const handle = await startWithSignal(env, c.start, pauseSignal, [{ by: 'bob' }]);
    await withWorker(env, c.taskQueue, c.m.activities, async () => {
      await expectHeldBeforeAnyChange(c, handle);
      await expectSignalInFirstTask(handle, 'pause');
      await handle.signal(resumeSignal, { by: 'bob' });
      await expectPromotedAfterGate(c, handle);
    });
  });

  it('resume signal leaves the deploy unpaused; it reaches its gate and is promoted', async () => {
    const env = devServer();
    const c = newCase();
    const handle = await startWithSignal(env, c.start, resumeSignal, [{ by: 'bob' }]);
    await withWorker(env, c.taskQueue, c.m.activities, async () => {
      await expectPromotedAfterGate(c, handle);
      await expectSignalInFirstTask(handle, 'resume');
    });
  });

  it('status query is answered with the deploy in preflight, and the deploy reaches its gate and is promoted', async () => {
    const env = devServer();
    const c = newCase();
    const handle = await startOnly(env, c.start);
    const answer = queryBeforeWorker(handle, statusQuery);
    await withWorker(env, c.taskQueue, c.m.activities, async () => {
      expect(await answer).toMatchObject({ phase: 'preflight', paused: false, cluster: CLUSTER, service: 'web', requestedBy: REQUESTED_BY });
      await expectPromotedAfterGate(c, handle);
    });
  });
});
