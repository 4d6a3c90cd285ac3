import type { AbortRequest } from '../../contracts/controls';
import type { CanaryAnalysis } from '../../common/deploy';
import type { CanaryPlan } from '../../config/schema';
import type { DeployEcsEvent } from '../../contracts/canary-deploy/input';
import { serviceSchema } from '../../config/schema';
import { analysisTimeline, describeInconclusive, judgeAnalysis } from '../../workflows/canary-deploy/checks';
import type { DeployPhase } from '../../contracts/canary-deploy/messages';
import { DeployState } from '../../workflows/canary-deploy/state';

/**
 * The canary deploy's state and handlers (workflows/canary-deploy/state.ts) and its analysis checks,
 * driven as plain objects: no Temporal server, no workflow. The workflow around them is tested on the
 * time-skipping server in canary-deploy.test.ts.
 */

const AT = new Date('2026-05-04T10:00:00.000Z');

class FakeControls {
  phase: DeployPhase = 'preflight';
  paused = false;
  abortRequest: AbortRequest | undefined;
}

function stateIn(phase: DeployPhase, input: Partial<ConstructorParameters<typeof DeployState>[0]> = {}) {
  const controls = new FakeControls();
  controls.phase = phase;
  const state = new DeployState({ cluster: 'demo', service: 'web', image: 'registry.example/web:2', requestedBy: 'alice', ...input }, controls, () => AT);
  return { state, controls };
}

function ecsEvent(service: string, eventName: string, extra: Partial<DeployEcsEvent> = {}): DeployEcsEvent {
  return {
    detailType: 'ECS Deployment State Change',
    eventName,
    resources: [`arn:aws:ecs:us-east-1:123456789012:service/demo/${service}`],
    time: AT.toISOString(),
    ...extra,
  };
}

const plan: CanaryPlan = serviceSchema.parse({ cluster: 'demo', name: 'web', canary: { alarms: ['web-5xx'] } }).canary;

function analysis(over: Partial<CanaryAnalysis> = {}): CanaryAnalysis {
  return {
    at: AT.toISOString(),
    alarms: [{ name: 'web-5xx', state: 'OK' }],
    metrics: [],
    stoppedTasks: [],
    canary: { runningCount: 1, desiredCount: 1, rolloutState: 'COMPLETED' },
    ...over,
  };
}

describe('DeployState handlers', () => {
  it('ecsEvent: records each event once, and keeps a canary failure only while the canary runs', () => {
    const { state, controls } = stateIn('creating-canary');
    const failed = ecsEvent('web-canary', 'SERVICE_DEPLOYMENT_FAILED', { eventId: 'e1', reason: 'circuit breaker' });
    state.onEcsEvent(failed);
    expect(state.canaryEventFailure).toBeUndefined();
    expect(state.timeline).toEqual([{ at: AT.toISOString(), source: 'ecs', text: 'web-canary: SERVICE_DEPLOYMENT_FAILED (circuit breaker)' }]);

    controls.phase = 'baking';
    state.onEcsEvent(failed);
    expect(state.timeline).toHaveLength(1);
    state.onEcsEvent({ ...failed, eventId: 'e2' });
    expect(state.canaryEventFailure).toBe('ECS reported SERVICE_DEPLOYMENT_FAILED for web-canary: circuit breaker');
    state.onEcsEvent(ecsEvent('web-canary', 'SERVICE_TASK_START_IMPAIRED', { eventId: 'e3' }));
    expect(state.canaryEventFailure).toBe('ECS reported SERVICE_DEPLOYMENT_FAILED for web-canary: circuit breaker');
  });

  it('ecsEvent: while promoting, counts completed main deployments and keeps a failed one', () => {
    const { state } = stateIn('promoting');
    state.onEcsEvent(ecsEvent('web', 'SERVICE_DEPLOYMENT_COMPLETED'));
    state.onEcsEvent(ecsEvent('web', 'SERVICE_DEPLOYMENT_COMPLETED'));
    expect(state.mainDeploymentEvents).toBe(2);
    state.onEcsEvent(ecsEvent('web', 'SERVICE_DEPLOYMENT_FAILED'));
    expect(state.mainEventFailure).toBe('ECS reported SERVICE_DEPLOYMENT_FAILED for web');
    expect(state.canaryEventFailure).toBeUndefined();
  });

  it('interrupted: one answer per wait scope', () => {
    const { state, controls } = stateIn('baking');
    for (const scope of ['canary', 'promotion', 'compensation'] as const) expect(state.interrupted(scope)).toBeUndefined();

    state.canaryEventFailure = 'ECS reported SERVICE_TASK_START_IMPAIRED for web-canary';
    state.mainEventFailure = 'ECS reported SERVICE_DEPLOYMENT_FAILED for web';
    expect(state.interrupted('canary')).toEqual({ reason: 'ECS reported SERVICE_TASK_START_IMPAIRED for web-canary', decision: 'rollback' });
    expect(state.interrupted('promotion')).toEqual({ reason: 'promotion failed: ECS reported SERVICE_DEPLOYMENT_FAILED for web', decision: 'rollback' });

    // An abort comes first, and says who asked.
    controls.abortRequest = { reason: 'wrong build', by: 'erin' };
    expect(state.interrupted('canary')).toEqual({ reason: 'aborted by erin: wrong build', decision: 'abort' });
    expect(state.interrupted('promotion')).toEqual({ reason: 'aborted during promotion: wrong build', decision: 'abort' });
    expect(state.interrupted('compensation')).toBeUndefined();
    expect(() => state.throwIfInterrupted('canary')).toThrow('aborted by erin: wrong build');
  });

  it('approve: accepted only at a gate or an inconclusive analysis, once, and not while aborting', () => {
    const { state, controls } = stateIn('baking');
    expect(() => state.validateApprove()).toThrow('nothing to approve: deploy demo/web is baking, not waiting at a gate');

    controls.phase = 'awaiting-approval';
    state.startAwaiting('gate', 600, 'rollback');
    expect(state.awaiting).toEqual({ kind: 'gate', since: AT.toISOString(), timeoutAt: '2026-05-04T10:10:00.000Z', onTimeout: 'rollback' });
    expect(() => state.validateApprove({ by: 'dave' })).not.toThrow();
    // The requester (alice) cannot approve her own deploy, whichever client she uses.
    expect(() => state.validateApprove({ by: 'alice' })).toThrow('alice requested this deploy and cannot approve it: someone else must');
    const status = state.approve({ by: 'dave', reason: 'canary clean' });
    expect(status.phase).toBe('awaiting-approval');
    expect(() => state.validateApprove()).toThrow('already approved');
    expect(state.endAwaiting(true)).toBe('approved');
    expect(state.awaiting).toBeUndefined();
    expect(state.decisions.at(-1)).toMatchObject({ decision: 'approve', reason: 'approved by dave: canary clean', phase: 'awaiting-approval' });

    controls.phase = 'inconclusive';
    state.startAwaiting('inconclusive', 900, 'rollback');
    expect(state.approval).toBeUndefined();
    controls.abortRequest = { reason: 'stop' };
    expect(() => state.validateApprove()).toThrow('deploy is being aborted: stop');
    expect(state.endAwaiting(true)).toBe('aborted');
    expect(state.endAwaiting(false)).toBe('timeout');
  });

  it('abort: rejected once the deploy finished or while it rolls back', () => {
    const { state, controls } = stateIn('baking');
    expect(state.rejectAbort()).toBeUndefined();
    controls.phase = 'rolling-back';
    expect(state.rejectAbort()).toBe('deploy is already rolling back');
    controls.phase = 'promoted';
    expect(state.rejectAbort()).toBe('deploy already finished: promoted');
  });

  it('status: summary by phase, and only the last 100 decisions', () => {
    const { state, controls } = stateIn('baking', { dryRun: true });
    state.canaryWeight = 10;
    state.canaryDesiredCount = 1;
    state.step = { index: 1, total: 5, kind: 'bake' };
    for (let i = 0; i < 120; i++) state.decide('pass', `run ${i}`);
    const s = state.status();
    expect(s.summary).toBe('[dry run] demo/web: canary at 10% (1 tasks), step 2/5 bake');
    expect(s.decisions).toHaveLength(100);
    expect(s.decisions[0]?.reason).toBe('run 20');
    expect(state.result('dry-run-complete', 'done')).toMatchObject({ outcome: 'dry-run-complete', dryRunCalls: [], decisions: expect.any(Array) });
    controls.phase = 'preflight';
    expect(state.status().summary).toBe('[dry run] demo/web: checking incidents, stable health and alarms before deploying registry.example/web:2');
  });
});

describe('canary analysis checks', () => {
  it('a healthy run passes and reads as one timeline line', () => {
    expect(judgeAnalysis(analysis(), plan)).toEqual({ counted: [], inconclusive: [] });
    expect(analysisTimeline(analysis())).toBe('alarms web-5xx=OK; metrics none; stopped canary tasks 0');
  });

  it('fails at once on a firing alarm before stopped tasks and a failed rollout', () => {
    const v = judgeAnalysis(
      analysis({
        alarms: [{ name: 'web-5xx', state: 'ALARM', reason: 'Threshold Crossed' }],
        stoppedTasks: [{ taskArn: 't1', taskDefinition: 'td', stopCode: 'EssentialContainerExited', stoppedReason: 'exited' }],
        canary: { runningCount: 0, desiredCount: 1, rolloutState: 'FAILED' },
      }),
      plan,
    );
    expect(v.fail).toBe('alarm web-5xx in ALARM (Threshold Crossed)');
    expect(judgeAnalysis(analysis({ canary: { runningCount: 0, desiredCount: 1, rolloutState: 'FAILED' } }), plan).fail).toBe(
      'canary deployment FAILED: no reason given',
    );
  });

  it('counts failed metrics and collects what a human must judge', () => {
    const a = analysis({
      alarms: [{ name: 'web-5xx', state: 'INSUFFICIENT_DATA' }],
      metrics: [
        { name: 'canary-5xx', verdict: 'fail', value: 12, reason: 'HTTPCode_Target_5XX_Count 12 above 5' },
        { name: 'p99', verdict: 'inconclusive', reason: 'no data for App/p99' },
      ],
    });
    expect(judgeAnalysis(a, plan)).toEqual({
      counted: ['canary-5xx: HTTPCode_Target_5XX_Count 12 above 5'],
      inconclusive: ['alarm web-5xx INSUFFICIENT_DATA', 'p99: no data for App/p99'],
    });
    expect(describeInconclusive(a, plan)).toBe('alarm web-5xx INSUFFICIENT_DATA; p99: no data for App/p99');
    expect(describeInconclusive(undefined, plan)).toBe('no analysis yet');
  });
});
