import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { capacityStartOptions } from '../../contracts/capacity/start';
import type { CapacityStatus } from '../../contracts/capacity/messages';
import { statusQuery, type WorkflowStatus } from '../../contracts/controls';
import type { ReadinessInput, ReadinessLevelInput } from '../../contracts/readiness/input';
import { signalFloor, type ReadinessFloorRequest } from '../../activities/readiness';
import { readinessStartOptions } from '../../contracts/readiness/start';
import * as poll from '../../testkit/poll';
import { TASK_QUEUE_CRITICAL } from '../../common/task-queues';
import { FakeCloud } from '../capacity/fake-cloud';
import { fakeDrainActivities } from '../capacity/fake-drain';
import { bundledWorkflows, uniqueTaskQueue } from '../harness/temporal';
import { createWorker } from '../harness/workers';

/**
 * A cluster for readiness windows on the time-skipping server: the real capacity workflow over
 * test/capacity/fake-cloud.ts, and the readiness workflow with its floor sent to it as the worker's
 * activity would (signal-with-start of `capacity-<cluster>` on the test's queue).
 */

export const SEC = 1_000;

export interface Cluster {
  env: TestWorkflowEnvironment;
  cloud: FakeCloud;
  cluster: string;
  taskQueue: string;
  /** Starts a window `startIn`..`endIn` ms from now (server time). */
  window(id: string, level: ReadinessLevelInput, startIn: number, endIn: number): Promise<WorkflowHandle>;
  capacity(): WorkflowHandle;
}

let seq = 0;

export async function withCluster(env: TestWorkflowEnvironment, cloud: FakeCloud, body: (c: Cluster) => Promise<void>): Promise<void> {
  const cluster = `ready-${Date.now().toString(36)}-${++seq}`;
  const taskQueue = uniqueTaskQueue('readiness');
  cloud.now = () => Date.now();
  const sendReadinessFloor = async (req: ReadinessFloorRequest) => {
    const { workflowType, ...start } = capacityStartOptions(req.cluster);
    await signalFloor(env.client.workflow, workflowType, { ...start, taskQueue }, req.floor);
    return { workflowId: start.workflowId };
  };
  const worker = await createWorker({ connection: env.nativeConnection, taskQueue, ...bundledWorkflows(), activities: { ...cloud.activities(), sendReadinessFloor } });
  // Capacity drains what it scales in as `spotDrain` children on fleetops-critical. With no worker
  // there, a child's first workflow task stays outstanding, and the time-skipping server never skips
  // time again: a full-suite run hung 50 s in env.sleep once a scale-in came inside a sleep.
  const critical = await createWorker({ connection: env.nativeConnection, taskQueue: TASK_QUEUE_CRITICAL, ...bundledWorkflows(), activities: fakeDrainActivities(env.client, cluster) });
  await worker.runUntil(() => critical.runUntil(async () => {
    const c: Cluster = {
      env,
      cloud,
      cluster,
      taskQueue,
      async window(id, level, startIn, endIn) {
        const now = await env.currentTimeMs();
        const input: ReadinessInput = { cluster, id, start: new Date(now + startIn).toISOString(), end: new Date(now + endIn).toISOString(), reason: `test window ${id}`, level };
        const { workflowType, ...start } = readinessStartOptions(input);
        return env.client.workflow.start(workflowType, { ...start, taskQueue });
      },
      capacity: () => env.client.workflow.getHandle(`capacity-${cluster}`),
    };
    await body(c);
  }));
}

export async function statusOf<S extends WorkflowStatus>(h: WorkflowHandle): Promise<S> {
  return poll.until('status to answer', async () => (await h.query(statusQuery)) as S, { timeoutMs: 5 * SEC, intervalMs: 100 });
}

export function untilStatus<S extends WorkflowStatus>(h: WorkflowHandle, what: string, pred: (s: S) => boolean): Promise<S> {
  return poll.untilValue(what, () => statusOf<S>(h), pred, { timeoutMs: 30 * SEC, intervalMs: 100, failOnError: true });
}

/**
 * Waits for a status while moving the server's clock on in `stepMs` steps: a state that comes only
 * after a workflow timer (the window's 30 s floor check) never comes while the test just queries,
 * since the time-skipping server skips time only while a client sleeps or awaits a result.
 */
export async function skipUntilStatus<S extends WorkflowStatus>(env: TestWorkflowEnvironment, h: WorkflowHandle, what: string, pred: (s: S) => boolean, opts: { stepMs?: number; maxMs?: number } = {}): Promise<S> {
  const step = opts.stepMs ?? 5 * SEC;
  for (let skipped = 0; ; skipped += step) {
    const s = await statusOf<S>(h);
    if (pred(s)) return s;
    if (skipped >= (opts.maxMs ?? 5 * 60 * SEC)) throw new Error(`${what}: not seen after ${skipped / SEC} s of workflow time; last status: ${JSON.stringify(s).slice(0, 500)}`);
    await env.sleep(step);
  }
}

/** Units in the fake cluster, all pools, and on-demand ones. */
export function units(cloud: FakeCloud): { all: number; onDemand: number } {
  const all = cloud.pools.reduce((s, p) => s + p.instances.reduce((a, i) => a + i.weight, 0), 0);
  return { all, onDemand: cloud.units('on-demand') };
}

export const capacityFloor = (s: CapacityStatus) => s.floor;

export const level = (l: Partial<ReadinessLevelInput> = {}): ReadinessLevelInput => ({ level: 3, floor: { units: 6 }, onDemandShare: 0.5, leadSeconds: 300, freezeDeploys: true, notify: ['#launch'], ...l });
