import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { moveWorkOffFrom, type MoveOffParts } from '../../activities/drain';
import type { MoveWorkOffInput, MoveWorkOffResult } from '../../activities/drain/types';
import { FailureType } from '../../common/failures';
import { ARN, CLUSTER } from './drain-mocks';

/**
 * moveWorkOff (activities/drain/move-off.ts), the work after DRAINING of a drain on the two-minute
 * deadline as one activity, made of fake parts: each part keeps its own retries and outcome.
 */

const INSTANCE = 'i-0123456789abcdef0';

function input(over: Partial<MoveWorkOffInput> = {}): MoveWorkOffInput {
  return {
    cluster: CLUSTER,
    containerInstanceArn: ARN,
    instanceId: INSTANCE,
    deregister: true,
    standalone: { rerun: true, reason: 'fleetops: interruption-warning', idempotencyKey: 'drain-x/run' },
    capacity: { units: 1, reason: 'interruption-warning', source: 'drain-x' },
    waitUntilEpochMs: Date.now() + 5_000,
    deadlineEpochMs: Date.now() + 60_000,
    dryRun: false,
    ...over,
  };
}

/** Fake parts, each recording its input (`calls`, by name) and the order they were called in; `over` replaces single parts. */
function parts(over: Partial<MoveOffParts> = {}): { parts: MoveOffParts; order: string[]; calls: Record<string, unknown[]> } {
  const order: string[] = [];
  const calls: Record<string, unknown[]> = {};
  const base: MoveOffParts = {
    deregisterInstanceTargets: async () => ({ targetGroups: [], dryRunCalls: [] }),
    moveStandaloneTasks: async () => ({ stopped: ['t-1'], rerun: [{ from: 't-1', to: ['t-2'] }], rerunFailed: [], orchestrated: [], serviceTasks: 2, dryRunCalls: [] }),
    findInstancePool: async () => ({ found: true, pool: 'spot-instant', kind: 'ec2-fleet', replacesOwnInstances: false }),
    requestReplacementCapacity: async (i) => ({ workflowId: `capacity-${i.cluster}`, dryRunCalls: [] }),
    waitForInstanceTasks: async () => ({ tasksLeft: 0, running: 0, pending: 0 }),
  };
  const recorded = Object.entries({ ...base, ...over }).map(([name, fn]) => [
    name,
    (arg: unknown) => {
      order.push(name);
      (calls[name] ??= []).push(arg);
      return (fn as (a: unknown) => Promise<unknown>)(arg);
    },
  ]);
  return { parts: Object.fromEntries(recorded) as MoveOffParts, order, calls };
}

const run = (p: MoveOffParts, i: MoveWorkOffInput, env = new MockActivityEnvironment()): Promise<MoveWorkOffResult> => env.run(moveWorkOffFrom(p), i);

describe('moveWorkOff', () => {
  it('moves the work off with the inputs each step had as an activity of its own, then waits for the tasks', async () => {
    const { parts: p, order, calls } = parts();
    const r = await run(p, input());
    expect(r.deregister).toEqual({ ok: true, value: { targetGroups: [], dryRunCalls: [] } });
    expect(r.standalone).toMatchObject({ ok: true, value: { stopped: ['t-1'], serviceTasks: 2 } });
    expect(r.capacity).toEqual({ pool: expect.objectContaining({ found: true, pool: 'spot-instant' }), request: { ok: true, value: { workflowId: `capacity-${CLUSTER}`, dryRunCalls: [] } } });
    expect(r.tasks).toEqual({ ok: true, value: { tasksLeft: 0, running: 0, pending: 0 } });
    expect(calls.deregisterInstanceTargets).toEqual([{ instanceId: INSTANCE, cluster: CLUSTER, dryRun: false }]);
    expect(calls.moveStandaloneTasks).toEqual([{ cluster: CLUSTER, containerInstanceArn: ARN, instanceId: INSTANCE, rerun: true, reason: 'fleetops: interruption-warning', idempotencyKey: 'drain-x/run', dryRun: false }]);
    expect(calls.requestReplacementCapacity).toEqual([{ cluster: CLUSTER, instanceId: INSTANCE, units: 1, reason: 'interruption-warning', source: 'drain-x', dryRun: false }]);
    // The wait comes after every moving step.
    expect(order.at(-1)).toBe('waitForInstanceTasks');
    expect(order.indexOf('requestReplacementCapacity')).toBeGreaterThan(order.indexOf('findInstancePool'));
  });

  it('retries a throttled step with short backoff; a step that cannot succeed fails alone and the others go on', async () => {
    let attempts = 0;
    const { parts: p } = parts({
      async deregisterInstanceTargets() {
        attempts += 1;
        if (attempts < 3) throw ApplicationFailure.retryable('elasticloadbalancing:DeregisterTargets: Throttling', FailureType.AwsThrottled);
        return { targetGroups: [], dryRunCalls: [] };
      },
      async moveStandaloneTasks() {
        throw ApplicationFailure.nonRetryable('ecs:ListTasks: AccessDeniedException', FailureType.AwsAccessDenied);
      },
    });
    const started = Date.now();
    const r = await run(p, input());
    expect(attempts).toBe(3);
    // Backoff 250 ms, then 500 ms.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(r.deregister?.ok).toBe(true);
    expect(r.standalone).toEqual({ ok: false, error: 'ecs:ListTasks: AccessDeniedException' });
    expect(r.capacity?.request?.ok).toBe(true);
    expect(r.tasks?.ok).toBe(true);
  });

  it('gives up a failing step at the deadline', async () => {
    const { parts: p } = parts({
      async requestReplacementCapacity() {
        throw ApplicationFailure.retryable('temporal unavailable', FailureType.AwsUnavailable);
      },
    });
    const r = await run(p, input({ deadlineEpochMs: Date.now() + 1_200 }));
    expect(r.capacity?.request).toEqual({ ok: false, error: 'temporal unavailable' });
  });

  it('asks no replacement of a pool that replaces an interrupted instance itself; a pool it cannot find is asked as any', async () => {
    const own = parts({ findInstancePool: async () => ({ found: true, pool: 'spot-diversified', kind: 'spot-fleet', replacesOwnInstances: true }) });
    expect((await run(own.parts, input())).capacity).toEqual({ pool: { found: true, pool: 'spot-diversified', kind: 'spot-fleet', replacesOwnInstances: true } });
    expect(own.calls.requestReplacementCapacity).toBeUndefined();
    const unknown = parts({
      findInstancePool: async () => {
        throw ApplicationFailure.nonRetryable('ec2:DescribeSpotFleetRequests: AccessDenied', FailureType.AwsAccessDenied);
      },
    });
    expect((await run(unknown.parts, input())).capacity).toMatchObject({ pool: { found: false }, request: { ok: true } });
  });

  it('without a wait time (a dry run) and without capacity to ask (the pool or the instance needs none) it does only the rest', async () => {
    const { parts: p, calls } = parts();
    const { waitUntilEpochMs: _w, capacity: _c, ...rest } = input();
    const r = await run(p, { ...rest, dryRun: true });
    expect(r.tasks).toBeUndefined();
    expect(r.capacity).toBeUndefined();
    expect(calls.waitForInstanceTasks).toBeUndefined();
    expect(calls.findInstancePool).toBeUndefined();
    expect(calls.moveStandaloneTasks?.[0]).toMatchObject({ dryRun: true });
  });

  it('cancelled (an operator abort) during the wait: answers what it moved, the wait cut short', async () => {
    const env = new MockActivityEnvironment();
    let waiting!: () => void;
    const waitStarted = new Promise<void>((r) => (waiting = r));
    const { parts: p } = parts({
      async waitForInstanceTasks() {
        waiting();
        await Context.current().cancelled;
        throw new Error('unreachable');
      },
    });
    const result = run(p, input({ waitUntilEpochMs: Date.now() + 30_000 }), env);
    await waitStarted;
    env.cancel();
    const r = await result;
    expect(r.standalone.ok).toBe(true);
    expect(r.capacity?.request?.ok).toBe(true);
    expect(r.tasks?.ok).toBe(false);
  });
});
