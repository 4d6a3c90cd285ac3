import type { DrainEvent } from '../../contracts/spot-drain/input';
import { DEFAULT_DRAIN, DrainState, type DrainTarget } from '../../workflows/spot-drain/state';

/**
 * The drain's state without a server (workflows/spot-drain/state.ts): which events count, the
 * deadline and mode they imply, and what status and the result say. The workflow around it is tested
 * on the time-skipping server in spot-drain.test.ts.
 */

const INSTANCE = 'i-0123456789abcdef0';
const T0 = Date.parse('2025-01-01T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

function newState(dryRun = false): { state: DrainState; clock: { now: number } } {
  const clock = { now: T0 };
  return { state: new DrainState(INSTANCE, dryRun, () => clock.now), clock };
}

function ev(kind: DrainEvent['kind'], eventId: string, extra: Partial<DrainEvent> = {}): DrainEvent {
  return { kind, instanceId: INSTANCE, eventId, eventTime: iso(T0), ...extra };
}

const LIFECYCLE = { hookName: 'drain-hook', asgName: 'demo-asg', actionToken: 'token-1' };

const target = (over: Partial<DrainTarget> = {}): DrainTarget => ({
  found: true,
  cluster: 'demo',
  containerInstanceArn: 'arn:aws:ecs:us-east-1:123456789012:container-instance/demo/abc',
  status: 'ACTIVE',
  runningTasks: 2,
  pendingTasks: 1,
  capacityUnits: 1,
  drain: DEFAULT_DRAIN,
  ...over,
});

describe('DrainState events', () => {
  it('counts events for another instance and repeated event ids, and keeps neither', () => {
    const { state, clock } = newState();
    expect(state.addEvent(ev('interruption-warning', 'e1'))).toBe('added');
    clock.now += 5_000;
    expect(state.addEvent(ev('interruption-warning', 'e1'))).toBe('duplicate');
    expect(state.addEvent({ ...ev('interruption-warning', 'e2'), instanceId: 'i-0fedcba9876543210' })).toBe('foreign');
    expect(state.events).toHaveLength(1);
    expect(state.duplicateEvents).toBe(1);
    expect(state.foreignEvents).toBe(1);
    expect(state.eventLog).toEqual([{ kind: 'interruption-warning', eventId: 'e1', eventTime: iso(T0), receivedAt: iso(T0) }]);
  });

  it('a warning outranks a lifecycle action outranks a rebalance; scale-in only when alone', () => {
    const { state } = newState();
    expect(state.mode()).toBeUndefined();
    state.addEvent(ev('scale-in', 's'));
    expect(state.mode()).toBe('scale-in');
    state.addEvent(ev('rebalance-recommendation', 'r'));
    expect(state.mode()).toBe('rebalance-recommendation');
    state.addEvent(ev('lifecycle-terminate', 'l', { lifecycle: LIFECYCLE }));
    expect(state.mode()).toBe('lifecycle-terminate');
    expect(state.lifecycle()).toEqual(LIFECYCLE);
    state.addEvent(ev('interruption-warning', 'w'));
    expect(state.mode()).toBe('interruption-warning');
  });

  it('a warning after a rebalance pulls the deadline in to two minutes and bumps the deadline version', () => {
    const { state } = newState();
    state.addEvent(ev('rebalance-recommendation', 'r'));
    expect(state.deadlineMs()).toBe(T0 + DEFAULT_DRAIN.rebalanceDeadlineSeconds * 1000);
    const version = state.deadlineVersion;
    state.addEvent(ev('interruption-warning', 'w', { eventTime: iso(T0 + 60_000) }));
    expect(state.deadlineMs()).toBe(T0 + 60_000 + 120_000);
    expect(state.deadlineVersion).toBe(version + 1);
    // A later, laxer event moves nothing.
    state.addEvent(ev('rebalance-recommendation', 'r2', { eventTime: iso(T0 + 90_000) }));
    expect(state.deadlineVersion).toBe(version + 1);
  });

  it('an event that states an earlier deadline than its kind gives wins; the time left follows the clock', () => {
    const { state, clock } = newState();
    state.addEvent(ev('interruption-warning', 'w', { deadline: iso(T0 + 90_000) }));
    expect(state.deadlineMs()).toBe(T0 + 90_000);
    clock.now = T0 + 30_000;
    expect(state.timeLeftMs()).toBe(60_000);
  });

  it("the resolved cluster's drain settings apply to the deadline, and resolving restarts waits", () => {
    const { state } = newState();
    state.addEvent(ev('lifecycle-terminate', 'l', { lifecycle: LIFECYCLE }));
    expect(state.deadlineMs()).toBe(T0 + DEFAULT_DRAIN.lifecycleDeadlineSeconds * 1000);
    const version = state.deadlineVersion;
    state.resolved(target({ drain: { ...DEFAULT_DRAIN, lifecycleDeadlineSeconds: 300 } }));
    expect(state.deadlineMs()).toBe(T0 + 300_000);
    expect(state.deadlineVersion).toBe(version + 1);
    expect(state.tasksLeft).toBe(3);
  });
});

describe('DrainState replacement', () => {
  it('asks for a replacement for warnings and rebalances, not for lifecycle actions or scale-in', () => {
    const warning = newState().state;
    warning.addEvent(ev('interruption-warning', 'w'));
    expect(warning.noReplacement()).toBeUndefined();
    const lifecycle = newState().state;
    lifecycle.addEvent(ev('lifecycle-terminate', 'l', { lifecycle: LIFECYCLE }));
    expect(lifecycle.noReplacement()).toMatch(/Auto Scaling group replaces/);
    const scaleIn = newState().state;
    scaleIn.addEvent(ev('scale-in', 's'));
    expect(scaleIn.noReplacement()).toMatch(/^scale-in/);
  });
});

describe('DrainState status and result', () => {
  it('status shows the phase, mode, deadline, seconds left and tasks; the summary says the same', () => {
    const { state, clock } = newState(true);
    state.addEvent(ev('interruption-warning', 'w'));
    state.resolved(target());
    clock.now = T0 + 20_000;
    const status = state.status('moving-work');
    expect(status).toMatchObject({
      phase: 'moving-work',
      dryRun: true,
      instanceId: INSTANCE,
      mode: 'interruption-warning',
      cluster: 'demo',
      deadline: iso(T0 + 120_000),
      secondsToDeadline: 100,
      tasksLeft: 3,
      duplicateEvents: 0,
      foreignEvents: 0,
      capacityRequested: false,
    });
    expect(status.summary).toBe(`drain ${INSTANCE} on demo (interruption-warning) [dry run]: moving-work, 3 task(s) left, 100 s to deadline`);
  });

  it('records steps; the result lists the planned steps that did not complete', () => {
    const { state, clock } = newState();
    state.addEvent(ev('interruption-warning', 'w'));
    state.resolved(target());
    const s = state.begin('set-draining');
    clock.now += 1_000;
    state.end(s, 'done', 'DRAINING');
    state.skip('wait-for-tasks', 'no time left before the deadline');
    state.record({ dryRunCalls: [{ action: 'ecs:UpdateContainerInstancesState', params: {} }] });
    state.failure = 'boom';
    const result = state.finish('deadline-missed', undefined);
    expect(state.steps[0]).toEqual({ name: 'set-draining', status: 'done', startedAt: iso(T0), endedAt: iso(T0 + 1_000), detail: 'DRAINING' });
    expect(result).toMatchObject({
      outcome: 'deadline-missed',
      cluster: 'demo',
      deadline: iso(T0 + 120_000),
      notDone: ['request-capacity', 'deregister-targets', 'move-standalone-tasks', 'wait-for-tasks'],
      failure: 'boom',
    });
    expect(result.dryRunCalls).toHaveLength(1);
    expect(state.drainFinished).toBe(true);
    expect(state.status('deadline-missed')).toMatchObject({ outcome: 'deadline-missed', secondsToDeadline: undefined });
    expect(state.summary('deadline-missed')).toBe(`drain ${INSTANCE} on demo (interruption-warning): deadline-missed — boom, 3 task(s) left`);
  });

  it('a lifecycle drain plans to complete the action and no replacement; not-in-cluster leaves nothing undone', () => {
    const { state } = newState();
    state.addEvent(ev('lifecycle-terminate', 'l', { lifecycle: LIFECYCLE }));
    expect(state.finish('aborted', 'operator said so')).toMatchObject({
      abortReason: 'operator said so',
      notDone: ['set-draining', 'deregister-targets', 'move-standalone-tasks', 'wait-for-tasks', 'complete-lifecycle-action'],
    });
    const gone = newState().state;
    gone.addEvent(ev('interruption-warning', 'w'));
    expect(gone.finish('not-in-cluster', undefined).notDone).toEqual([]);
  });
});
