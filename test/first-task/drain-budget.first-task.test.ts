import type { WorkflowHandle } from '@temporalio/client';
import { abortUpdate, statusQuery } from '../../contracts/controls';
import type { DrainBudgetCarried, DrainSlotRequest } from '../../contracts/drain-budget/input';
import { acquireDrainSlotUpdate, releaseDrainSlotSignal, type DrainBudgetStatus } from '../../contracts/drain-budget/messages';
import { drainBudgetStartOptions } from '../../contracts/drain-budget/start';
import { BudgetState } from '../../workflows/drain-budget/state';
import { mockActivities } from '../drain/drain-mocks';
import { uniqueTaskQueue } from '../harness/temporal';
import {
  accepted,
  expectSignalInFirstTask,
  expectUpdateInFirstTask,
  queryBeforeWorker,
  startOnly,
  startWithSignal,
  startWithUpdate,
  statusUntil,
  unique,
  useDevServer,
  withWorker,
  type StartOptions,
} from './first-task';

/**
 * Every message the drain budget accepts (`acquireDrainSlot`, `releaseDrainSlot`, `status`, `abort`),
 * delivered in the first workflow task of a new run and of a run that continues a previous one (its
 * input carries what continue-as-new hands over, built by the workflow's own state class: one drain
 * holding a slot). The run answers it and goes on granting slots.
 */

const devServer = useDevServer();

let n = 0;
function request(budget = 2): DrainSlotRequest {
  n += 1;
  const instanceId = `i-${(Date.now().toString(16) + n.toString(16).padStart(4, '0')).padStart(17, '0').slice(-17)}`;
  return { workflowId: `drain-${instanceId}`, runId: `run-${n}`, instanceId, containerInstanceArn: `arn:aws:ecs:us-east-1:123456789012:container-instance/demo/${instanceId}`, budget, draining: [] };
}

interface Case {
  taskQueue: string;
  start: StartOptions;
  /** The slot the previous run handed over (a continued run only). */
  held?: DrainSlotRequest;
}

function newCase(continued: boolean): Case {
  const taskQueue = uniqueTaskQueue('budget-first-task');
  const cluster = unique('budget');
  let carried: DrainBudgetCarried | undefined;
  let held: DrainSlotRequest | undefined;
  if (continued) {
    const s = new BudgetState(cluster);
    held = request();
    s.acquire(held, Date.now());
    carried = JSON.parse(JSON.stringify(s.carry())) as DrainBudgetCarried;
  }
  // The contract's conflict policy is update-with-start's; the helpers set their own.
  const { workflowType, workflowIdConflictPolicy: _policy, ...options } = drainBudgetStartOptions(cluster);
  return { taskQueue, held, start: { workflowType, ...options, taskQueue, args: [{ cluster, ...(carried ? { carried } : {}) }] } };
}

const holdersOf = (s: DrainBudgetStatus) => s.holders.map((h) => h.workflowId).sort();

/** Ends the long-lived run once the test has shown what it must. */
async function endRun(handle: WorkflowHandle): Promise<void> {
  await handle.executeUpdate(abortUpdate, { args: [{ reason: 'first-task test over', by: 'jest' }] });
  await handle.result();
}

describe.each([
  ['a new run', false],
  ['a run continued from a previous one', true],
])('drainBudget: a message in the first workflow task of %s', (_name, continued) => {
  it('acquireDrainSlot update (update-with-start, as the drain activity sends it) is granted beside the slots held', async () => {
    const env = devServer();
    const c = newCase(continued);
    const r = request();
    const { handle, answer } = await startWithUpdate(env, c.start, acquireDrainSlotUpdate, [r]);
    await withWorker(env, c.taskQueue, mockActivities().activities, async () => {
      expect(await accepted(answer)).toEqual({ granted: true, holders: c.held ? 2 : 1, others: 0, budget: 2 });
      await expectUpdateInFirstTask(handle, 'acquireDrainSlot');
      // The budget is spent: the next is told to wait.
      expect(await handle.executeUpdate(acquireDrainSlotUpdate, { args: [request()] })).toMatchObject({ granted: c.held === undefined, holders: 2 });
      await endRun(handle);
    });
  });

  it('releaseDrainSlot signal frees the slot it names (none in a new run), and a slot is then granted', async () => {
    const env = devServer();
    const c = newCase(continued);
    const named = c.held ?? request();
    const handle = await startWithSignal(env, c.start, releaseDrainSlotSignal, [{ workflowId: named.workflowId, runId: named.runId }]);
    await withWorker(env, c.taskQueue, mockActivities().activities, async () => {
      const s = await statusUntil<DrainBudgetStatus>(handle, 'the release to be taken', (x) => x.holders.length === 0);
      expect(s.counts).toEqual(c.held ? { granted: 1, released: 1 } : {});
      await expectSignalInFirstTask(handle, 'releaseDrainSlot');
      const r = request(1);
      expect(await handle.executeUpdate(acquireDrainSlotUpdate, { args: [r] })).toMatchObject({ granted: true, holders: 1, budget: 1 });
      await endRun(handle);
    });
  });

  it('status query is answered with the slots held, and slots are then granted', async () => {
    const env = devServer();
    const c = newCase(continued);
    const handle = await startOnly(env, c.start);
    const answer = queryBeforeWorker(handle, statusQuery);
    await withWorker(env, c.taskQueue, mockActivities().activities, async () => {
      const s = (await answer) as DrainBudgetStatus;
      expect(s).toMatchObject({ phase: 'holding', waiters: [] });
      expect(holdersOf(s)).toEqual(c.held ? [c.held.workflowId] : []);
      const r = request();
      expect(await handle.executeUpdate(acquireDrainSlotUpdate, { args: [r] })).toMatchObject({ granted: true });
      expect(holdersOf((await handle.query(statusQuery)) as DrainBudgetStatus)).toEqual([...(c.held ? [c.held.workflowId] : []), r.workflowId].sort());
      await endRun(handle);
    });
  });

  it('abort update is answered with the abort, and the run ends', async () => {
    const env = devServer();
    const c = newCase(continued);
    const { handle, answer } = await startWithUpdate(env, c.start, abortUpdate, [{ reason: 'drill', by: 'alice' }]);
    await withWorker(env, c.taskQueue, mockActivities().activities, async () => {
      expect(await accepted(answer)).toMatchObject({ abortRequested: 'drill', phase: 'holding' });
      await expectUpdateInFirstTask(handle, 'abort');
      await handle.result();
      expect((await handle.query(statusQuery)) as DrainBudgetStatus).toMatchObject({ phase: 'aborted' });
    });
  });
});
