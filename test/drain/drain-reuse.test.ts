import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { statusQuery } from '../../contracts/controls';
import { drainHandledEventIds, type DrainStatus, type SpotDrainResult } from '../../contracts/spot-drain/messages';
import { untilValue } from '../../testkit/poll';
import { Dispatcher } from '../../router/dispatch';
import { parseEvent } from '../../router/events';
import { createRouterMetrics } from '../../router/metrics';
import { decisionsOf, routeEvent, type RouteDecision } from '../../router/routes';
import { createTestWorld, newInstanceId, type Envelope } from '../../testkit/router/fixtures';
import { bundledWorkflows, connectDevServer, uniqueTaskQueue } from '../harness/temporal';
import { createWorker } from '../harness/workers';
import { mockActivities } from './drain-mocks';

/**
 * A drain that ended does not stop the next interruption of the same instance (a spot instance
 * stopped and restarted, a user stop/start, a warm-pool instance keep their id): the next event starts
 * a new run of `drain-<instance-id>`, while a redelivery of an event the ended run handled is still
 * `duplicate`. Router decisions from AWS-shaped events, carried out by the router's dispatcher against
 * the drain workflow (activities mocked).
 */

let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
const world = createTestWorld();
/** The suite's own queue on the shared dev server (the router's decisions name fleetops-critical). */
const taskQueue = uniqueTaskQueue('drain-reuse');

beforeAll(async () => {
  env = await connectDevServer();
  worker = await createWorker({ connection: env.nativeConnection, taskQueue, ...bundledWorkflows(), activities: mockActivities().activities });
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
});

/** A dispatcher with no memory of earlier events: what a restarted router (or another replica) is. */
const freshDispatcher = () => new Dispatcher({ connection: env.connection, namespace: env.namespace ?? 'default', metrics: createRouterMetrics() });

function decisionOf(e: Envelope): RouteDecision {
  const parsed = parseEvent(e);
  if (!parsed.ok) throw new Error(parsed.error);
  const all = decisionsOf(routeEvent(parsed.event, world.config));
  expect(all).toHaveLength(1);
  const d = all[0]!;
  return d.action === 'signalWithStart' || d.action === 'start' ? { ...d, taskQueue } : d;
}

async function send(d: Dispatcher, e: Envelope): Promise<string> {
  return (await d.dispatch(e.id, 'test', decisionOf(e), 'sqs')).action;
}

function warning(instanceId: string, action: 'terminate' | 'stop'): Envelope {
  const e = world.event('spot-interruption-warning', { instanceId });
  (e.detail as Record<string, unknown>)['instance-action'] = action;
  return e;
}

function state(instanceId: string, s: string): Envelope {
  const e = world.event('instance-state-change', { instanceId });
  (e.detail as Record<string, unknown>).state = s;
  return e;
}

/** The current run of the workflow: its id and status. */
async function current(workflowId: string): Promise<{ runId: string; status: string }> {
  const d = await env.client.workflow.getHandle(workflowId).describe();
  return { runId: d.runId, status: d.status.name };
}

describe('a drain that ended, and the next interruption of the same instance', () => {
  it('stop, stopped, running, then a terminate warning: the warning starts a new run that drains; redeliveries stay duplicate', async () => {
    const instanceId = newInstanceId();
    const id = `drain-${instanceId}`;
    const router = freshDispatcher();
    const stop = warning(instanceId, 'stop');
    const stopping = state(instanceId, 'stopping');
    expect(await send(router, stop)).toBe('started');
    expect(await send(router, stopping)).toBe('signaled');
    // EC2 stops the instance at the deadline, after the drain emptied it.
    await untilValue('the drain to wait for the instance to come back', () => env.client.workflow.getHandle(id).query(statusQuery) as Promise<DrainStatus>, (s) => s.phase === 'waiting-for-return', {
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    expect(await send(router, state(instanceId, 'stopped'))).toBe('signaled');
    expect(await send(router, state(instanceId, 'running'))).toBe('signaled');
    const first = (await env.client.workflow.getHandle(id).result()) as SpotDrainResult;
    expect(first.outcome).toBe('drained');
    expect(first.steps.at(-1)).toMatchObject({ name: 'reactivate', status: 'done' });

    // The ended run says which events it handled.
    const firstRun = await current(id);
    const memo = (await env.client.workflow.getHandle(id).describe()).memo ?? {};
    expect(drainHandledEventIds(memo)).toEqual(expect.arrayContaining([stop.id, stopping.id]));

    // Redeliveries of events the ended run handled (after a router restart: no memory) start nothing.
    const restarted = freshDispatcher();
    expect(await send(restarted, stop)).toBe('duplicate');
    expect(await send(restarted, stopping)).toBe('duplicate');
    expect(await current(id)).toEqual({ runId: firstRun.runId, status: 'COMPLETED' });

    // The next real interruption starts a new run of the same drain, which drains the instance.
    const terminate = warning(instanceId, 'terminate');
    expect(await send(restarted, terminate)).toBe('started');
    const second = (await env.client.workflow.getHandle(id).result()) as SpotDrainResult;
    expect(second.outcome).toBe('drained');
    expect(second.steps.find((s) => s.name === 'set-draining')).toMatchObject({ status: 'done' });
    expect((await current(id)).runId).not.toBe(firstRun.runId);
    // ... and a redelivery of it, once that run ended too, is a duplicate as well.
    expect(await send(freshDispatcher(), terminate)).toBe('duplicate');
    // The instance was terminating: the shutting-down and terminated that follow are no new
    // interruption (EC2 never reuses the id), so they start no third run.
    const secondRun = (await current(id)).runId;
    expect(await send(freshDispatcher(), state(instanceId, 'shutting-down'))).toBe('duplicate');
    expect(await send(freshDispatcher(), state(instanceId, 'terminated'))).toBe('ignored');
    expect(await current(id)).toEqual({ runId: secondRun, status: 'COMPLETED' });
  });

  it('the same event twice while nothing ran before: started, then duplicate (unchanged)', async () => {
    const e = warning(newInstanceId(), 'terminate');
    const router = freshDispatcher();
    expect(await send(router, e)).toBe('started');
    expect(await send(router, e)).toBe('duplicate');
  });
});
