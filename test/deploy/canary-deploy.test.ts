import { WorkflowExecutionAlreadyStartedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { abortUpdate, pauseUpdate, resumeUpdate } from '../../contracts/controls';
import { FailureType } from '../../common/failures';
import { deployWorkflowId } from '../../common/workflow-ids';
import type { DeployInput } from '../../contracts/canary-deploy/input';
import { approveUpdate, ecsEventSignal } from '../../contracts/canary-deploy/messages';
import { canaryTaskCount } from '../../workflows/canary-deploy/sizing';
import {
  BASIC_PLAN,
  CLUSTER,
  NEW_TD,
  OLD_TD,
  RULE,
  RULE_ACTIONS,
  finish,
  healthyAnalysis,
  mock,
  mutations,
  newService,
  planOf,
  run,
  snapshot,
  start,
  startDeploy,
  statusOf,
  untilPhase,
  useTimeSkippingEnv,
} from './deploy-mock';

/**
 * The canary deploy on the time-skipping server with mocked activities (test/deploy/deploy-mock.ts):
 * every path the workflow can take (promote, the rollback triggers, human gates, abort, refusal, dry
 * run). The activities are tested against moto + the simulator in test/deploy/activities.test.ts.
 */

const env = useTimeSkippingEnv();

describe('canary sizing', () => {
  it('approximates the weight in a shared target group and takes the share in listener-rule mode', () => {
    expect(canaryTaskCount(9, 10, 'shared-target-group')).toBe(1);
    expect(canaryTaskCount(4, 50, 'shared-target-group')).toBe(4);
    expect(canaryTaskCount(2, 5, 'shared-target-group')).toBe(1);
    expect(canaryTaskCount(6, 100, 'shared-target-group')).toBe(6);
    expect(canaryTaskCount(9, 10, 'listener-rule')).toBe(1);
    expect(canaryTaskCount(9, 50, 'listener-rule')).toBe(5);
    expect(canaryTaskCount(9, 0, 'listener-rule')).toBe(0);
  });
});

describe('canaryDeploy workflow (time-skipping, mocked activities)', () => {
  it('promotes cleanly: canary sized by weight, two bakes with analysis, main service moved, canary removed', async () => {
    const m = mock({ plan: BASIC_PLAN, stableDesired: 9, stableRunning: 9 });
    const { result, status } = await run(m, async (tq) => {
      const handle = await start(tq);
      const r = await finish(handle, 'clean-promote');
      return { result: r, status: await statusOf(handle) };
    });
    expect(result.outcome).toBe('promoted');
    expect(result.taskDefinition).toBe(NEW_TD);
    expect(result.previousTaskDefinition).toBe(OLD_TD);
    // 9 stable tasks: 1 canary ≈ 10%, 9 canary = 50%; 300 s bakes at 60 s intervals = 5 analyses each,
    // and 5 more in the default 300 s post-promotion bake.
    expect(mutations(m.log)).toEqual(['createCanaryService', 'scaleService:1', 'scaleService:9', 'updateServiceRevision:web:2', 'deleteCanaryService']);
    expect(m.log.filter((l) => l === 'analyzeCanary')).toHaveLength(15);
    expect(status.phase).toBe('promoted');
    expect(status.analysis.runs).toBe(15);
    expect(status.canaryWeight).toBe(0);
    expect(m.notified).toEqual(['creating-canary', 'shifting-traffic', 'baking', 'shifting-traffic', 'baking', 'promoting', 'post-promotion-bake', 'promoted']);
    expect(result.decisions.map((d) => d.decision)).toEqual(expect.arrayContaining(['proceed', 'create', 'scale', 'shift', 'pass', 'promote']));
  });

  it('uses the weighted listener rule when configured and restores it after promotion', async () => {
    const plan = planOf({ ...BASIC_PLAN, listenerRule: RULE, alarms: [] });
    const m = mock({ plan, stableDesired: 9, stableRunning: 9 });
    const result = await run(m, async (tq) => finish(await start(tq), 'listener-rule-promote'));
    expect(result.outcome).toBe('promoted');
    expect(mutations(m.log)).toEqual([
      'createCanaryService',
      'scaleService:1',
      'setTrafficWeight:10',
      'scaleService:5',
      'setTrafficWeight:50',
      'updateServiceRevision:web:2',
      'restoreListenerRule',
      'deleteCanaryService',
    ]);
    expect(m.calls.createCanaryService?.[0]).toMatchObject({ canaryTargetGroupArn: RULE.canaryTargetGroupArn, desiredCount: 0 });
    // What goes back is the rule as preflight read it, authentication action and stickiness included.
    expect(m.calls.restoreListenerRule).toEqual([expect.objectContaining({ listenerRule: RULE, snapshot: { ruleArn: RULE.ruleArn, actions: RULE_ACTIONS } })]);
  });

  it('is refused before any change when the listener rule does not forward to the plan’s stable target group', async () => {
    const plan = planOf({ ...BASIC_PLAN, listenerRule: RULE, alarms: [] });
    const m = mock(
      { plan, stableDesired: 4, stableRunning: 4 },
      {
        async readListenerRule() {
          throw ApplicationFailure.nonRetryable(`listener rule ${RULE.ruleArn} forwards to tg/other, not to the plan's stable target group ${RULE.stableTargetGroupArn}`, FailureType.InvalidRequest);
        },
      },
    );
    const result = await run(m, async (tq) => finish(await start(tq), 'listener-rule-refused'));
    expect(result.outcome).toBe('refused');
    expect(result.reason).toBe(`readListenerRule: listener rule ${RULE.ruleArn} forwards to tg/other, not to the plan's stable target group ${RULE.stableTargetGroupArn}`);
    expect(mutations(m.log)).toEqual([]);
  });

  it('rolls back when an alarm fires during the bake; a failed compensation attempt is retried', async () => {
    const plan = planOf({ ...BASIC_PLAN, listenerRule: RULE });
    let deleteAttempts = 0;
    const m = mock(
      {
        plan,
        stableDesired: 4,
        stableRunning: 4,
        analysis: (run, p) =>
          run === 2 ? { ...healthyAnalysis(p.alarms), alarms: [{ name: 'web-5xx', state: 'ALARM', reason: 'Threshold Crossed: 3 datapoints' }] } : undefined,
      },
      {
        async deleteCanaryService() {
          deleteAttempts += 1;
          if (deleteAttempts === 1) throw ApplicationFailure.retryable('ecs:DeleteService: ThrottlingException', FailureType.AwsThrottled);
          return { dryRunCalls: [] };
        },
      },
    );
    const { result, status } = await run(m, async (tq) => {
      const handle = await start(tq);
      const r = await finish(handle, 'alarm-rollback');
      return { result: r, status: await statusOf(handle) };
    });
    expect(result.outcome).toBe('rolled-back');
    expect(result.reason).toContain('alarm web-5xx in ALARM (Threshold Crossed: 3 datapoints)');
    // Reverse order: weights back first, then the canary goes; the main service was never touched.
    expect(mutations(m.log)).toEqual(['createCanaryService', 'scaleService:1', 'setTrafficWeight:10', 'restoreListenerRule', 'deleteCanaryService', 'deleteCanaryService']);
    expect(deleteAttempts).toBe(2);
    expect(status.phase).toBe('rolled-back');
    expect(status.decisions.find((d) => d.decision === 'rollback')?.reason).toContain('web-5xx');
    expect(m.notified.slice(-2)).toEqual(['rolling-back', 'rolled-back']);
  });

  it('tolerates metric failures up to the failure limit, then rolls back', async () => {
    const plan = planOf({
      ...BASIC_PLAN,
      alarms: [],
      failureLimit: 1,
      metricChecks: [{ name: 'canary-5xx', namespace: 'AWS/ApplicationELB', metricName: 'HTTPCode_Target_5XX_Count', maxValue: 5 }],
    });
    const m = mock({
      plan,
      stableDesired: 4,
      stableRunning: 4,
      analysis: (run, p) => ({
        ...healthyAnalysis(p.alarms),
        metrics: [
          run >= 2
            ? { name: 'canary-5xx', verdict: 'fail', value: 12, reason: 'HTTPCode_Target_5XX_Count 12 above 5' }
            : { name: 'canary-5xx', verdict: 'pass', value: 0, reason: 'within limits' },
        ],
      }),
    });
    const result = await run(m, async (tq) => finish(await start(tq), 'metric-failure'));
    expect(result.outcome).toBe('rolled-back');
    expect(result.reason).toBe('rolled back: metric checks failed 2 times (limit 1): canary-5xx: HTTPCode_Target_5XX_Count 12 above 5');
    expect(result.decisions.filter((d) => d.decision === 'tolerate')).toHaveLength(1);
    expect(m.log.filter((l) => l === 'analyzeCanary')).toHaveLength(3);
    expect(m.log).not.toContain('updateServiceRevision:web:2');
  });

  it('waits for a human on inconclusive analysis and goes on when approved', async () => {
    const plan = planOf({ ...BASIC_PLAN, inconclusiveTimeoutSeconds: 900 });
    const m = mock({
      plan,
      stableDesired: 4,
      stableRunning: 4,
      analysis: (run, p) =>
        run === 1
          ? { ...healthyAnalysis(p.alarms), metrics: [{ name: 'p99', verdict: 'inconclusive', reason: 'no data for App/p99' }] }
          : undefined,
    });
    const { result, rejected } = await run(m, async (tq) => {
      const handle = await start(tq);
      const baking = await untilPhase(handle, 'baking');
      expect(baking.awaiting).toBeUndefined();
      // approve outside a gate is refused with the reason, and changes nothing.
      const rejected = await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob' }] }).catch((e: unknown) => e);
      const waiting = await untilPhase(handle, 'inconclusive');
      expect(waiting.awaiting).toMatchObject({ kind: 'inconclusive', onTimeout: 'rollback' });
      expect(waiting.summary).toContain('inconclusive');
      const after = await handle.executeUpdate(approveUpdate, { args: [{ by: 'carol', reason: 'metric is new, looked at logs' }] });
      expect(after.phase).toBe('inconclusive');
      return { result: await finish(handle, 'inconclusive-approved'), rejected };
    });
    expect(rejected).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(String((rejected as WorkflowUpdateFailedError).cause?.message)).toMatch(/nothing to approve: deploy demo\/web is baking/);
    expect(result.outcome).toBe('promoted');
    expect(result.decisions.find((d) => d.decision === 'approve')?.reason).toBe('approved by carol: metric is new, looked at logs');
  });

  it('rolls back when nobody judges an inconclusive analysis in time', async () => {
    const plan = planOf({ ...BASIC_PLAN, inconclusiveTimeoutSeconds: 900 });
    const m = mock({
      plan,
      stableDesired: 4,
      stableRunning: 4,
      analysis: (_run, p) => ({ ...healthyAnalysis(p.alarms), alarms: [{ name: 'web-5xx', state: 'INSUFFICIENT_DATA' }] }),
    });
    const result = await run(m, async (tq) => finish(await start(tq), 'inconclusive-timeout'));
    expect(result.outcome).toBe('rolled-back');
    expect(result.reason).toBe('rolled back: inconclusive analysis not judged within 900 s (alarm web-5xx INSUFFICIENT_DATA)');
    expect(m.notified).toContain('inconclusive');
    expect(m.log.filter((l) => l === 'analyzeCanary')).toHaveLength(1);
  });

  it('passes a gate on approve, and applies the configured timeout action when nobody answers', async () => {
    const gated = (action: string) =>
      planOf({ alarms: [], gateTimeoutAction: action, steps: [{ kind: 'setWeight', weight: 20 }, { kind: 'gate', timeoutSeconds: 600 }, { kind: 'promote' }] });
    const approved = mock({ plan: gated('rollback'), stableDesired: 4, stableRunning: 4 });
    const r1 = await run(approved, async (tq) => {
      const handle = await start(tq);
      const s = await untilPhase(handle, 'awaiting-approval');
      expect(s.awaiting).toMatchObject({ kind: 'gate', onTimeout: 'rollback' });
      // alice requested the deploy: her approval is refused by the workflow itself, and the gate waits on.
      const own = await handle.executeUpdate(approveUpdate, { args: [{ by: 'alice' }] }).catch((e: unknown) => e);
      expect(String((own as WorkflowUpdateFailedError).cause?.message)).toBe('alice requested this deploy and cannot approve it: someone else must');
      expect((await untilPhase(handle, 'awaiting-approval')).awaiting).toMatchObject({ kind: 'gate' });
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'dave' }] });
      const again = await handle.executeUpdate(approveUpdate, { args: [{ by: 'dave' }] }).catch((e: unknown) => e);
      expect(again).toBeInstanceOf(WorkflowUpdateFailedError);
      return finish(handle, 'gate-approved');
    });
    expect(r1.outcome).toBe('promoted');

    const timedOutRollback = mock({ plan: gated('rollback'), stableDesired: 4, stableRunning: 4 });
    const r2 = await run(timedOutRollback, async (tq) => finish(await start(tq), 'gate-timeout-rollback'));
    expect(r2.outcome).toBe('rolled-back');
    expect(r2.reason).toBe('rolled back: gate not answered within 600 s; config says rollback');

    const timedOutPromote = mock({ plan: gated('promote'), stableDesired: 4, stableRunning: 4 });
    const r3 = await run(timedOutPromote, async (tq) => finish(await start(tq), 'gate-timeout-promote'));
    expect(r3.outcome).toBe('promoted');
    expect(r3.decisions.find((d) => d.decision === 'promote')?.reason).toContain('config says promote');
  });

  it('waits at its gate when its input names a release approval but no release started it', async () => {
    const gated = planOf({ alarms: [], gateTimeoutAction: 'rollback', steps: [{ kind: 'setWeight', weight: 20 }, { kind: 'gate', timeoutSeconds: 600 }, { kind: 'promote' }] });
    const m = mock({ plan: gated, stableDesired: 4, stableRunning: 4 });
    const r = await run(m, async (tq) => {
      const handle = await start(tq, { releaseApproval: { release: 'release-forged', wave: 1, by: 'dave' } });
      const s = await untilPhase(handle, 'awaiting-approval');
      expect(s.awaiting).toMatchObject({ kind: 'gate' });
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'dave' }] });
      return handle.result();
    });
    expect(r.outcome).toBe('promoted');
    expect(r.decisions.find((d) => d.decision === 'approve')?.reason).not.toContain('release-forged');
  });

  it('aborts mid-bake: the abort update is accepted, the canary is removed, the stable service untouched', async () => {
    const m = mock({ plan: BASIC_PLAN, stableDesired: 4, stableRunning: 4 });
    const { result, accepted, late } = await run(m, async (tq) => {
      const handle = await start(tq);
      await untilPhase(handle, 'baking');
      const accepted = await handle.executeUpdate(abortUpdate, { args: [{ reason: 'wrong build', by: 'erin' }] });
      const r = await finish(handle, 'abort-mid-bake');
      const late = await handle.executeUpdate(abortUpdate, { args: [{ reason: 'again' }] }).catch((e: unknown) => e);
      return { result: r, accepted, late };
    });
    expect(accepted.abortRequested).toBe('wrong build');
    expect(result.outcome).toBe('rolled-back');
    expect(result.reason).toBe('rolled back: aborted by erin: wrong build');
    expect(mutations(m.log)).toEqual(['createCanaryService', 'scaleService:1', 'deleteCanaryService']);
    expect(late).toBeInstanceOf(Error);
  });

  it('pause holds the deploy in the bake (analysis goes on) until resume', async () => {
    const plan = planOf({ alarms: [], steps: [{ kind: 'setWeight', weight: 20 }, { kind: 'bake', seconds: 120 }, { kind: 'promote' }] });
    const m = mock({ plan, stableDesired: 4, stableRunning: 4 });
    const result = await run(m, async (tq) => {
      const handle = await start(tq);
      await untilPhase(handle, 'baking');
      expect(await handle.executeUpdate(pauseUpdate, { args: [{ by: 'frank' }] })).toMatchObject({ phase: 'baking', paused: true });
      // Well past the 120 s bake: still baking, paused, and still analysing.
      await env().sleep('6 minutes');
      const held = await statusOf(handle);
      expect(held).toMatchObject({ phase: 'baking', paused: true });
      expect(held.analysis.runs).toBeGreaterThanOrEqual(5);
      expect(m.log).not.toContain('updateServiceRevision:web:2');
      expect(await handle.executeUpdate(resumeUpdate, { args: [{ by: 'frank' }] })).toMatchObject({ paused: false });
      return finish(handle, 'pause-resume-updates');
    });
    expect(result.outcome).toBe('promoted');
  });

  it('rolls back when ECS reports the canary cannot start tasks, and when canary tasks stop on their own', async () => {
    const m = mock({ plan: BASIC_PLAN, stableDesired: 4, stableRunning: 4 });
    const r1 = await run(m, async (tq) => {
      const handle = await start(tq);
      await untilPhase(handle, 'baking');
      const ev = {
        detailType: 'ECS Service Action' as const,
        eventName: 'SERVICE_TASK_START_IMPAIRED',
        eventType: 'WARN',
        resources: [`arn:aws:ecs:us-east-1:123456789012:service/${CLUSTER}/web-canary`],
        time: new Date().toISOString(),
        eventId: 'ev-1',
      };
      await handle.signal(ecsEventSignal, ev);
      await handle.signal(ecsEventSignal, ev);
      const r = await finish(handle, 'ecs-event-rollback');
      const s = await statusOf(handle);
      expect(s.timeline.filter((t) => t.source === 'ecs')).toHaveLength(1);
      return r;
    });
    expect(r1.outcome).toBe('rolled-back');
    expect(r1.reason).toBe('rolled back: ECS reported SERVICE_TASK_START_IMPAIRED for web-canary');

    const stopped = mock({
      plan: BASIC_PLAN,
      stableDesired: 4,
      stableRunning: 4,
      analysis: (run, p) =>
        run === 3
          ? {
              ...healthyAnalysis(p.alarms),
              stoppedTasks: [{ taskArn: 't1', taskDefinition: NEW_TD, stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited' }],
            }
          : undefined,
    });
    const r2 = await run(stopped, async (tq) => finish(await start(tq), 'canary-tasks-stopped'));
    expect(r2.outcome).toBe('rolled-back');
    expect(r2.reason).toBe('rolled back: 1 canary task(s) stopped unexpectedly: EssentialContainerExited: Essential container in task exited');
  });

  it('rolls back a failed promotion, putting the main service back on the old revision', async () => {
    let mainTd = OLD_TD;
    const m = mock(
      { plan: planOf({ alarms: [], steps: [{ kind: 'setWeight', weight: 20 }, { kind: 'promote' }], promoteTimeoutSeconds: 300 }), stableDesired: 4, stableRunning: 4 },
      {
        async updateServiceRevision({ taskDefinition }) {
          mainTd = taskDefinition;
          return { dryRunCalls: [] };
        },
        async describeDeployService({ service }) {
          if (service !== 'web') return snapshot('web-canary', NEW_TD, 1);
          const s = snapshot('web', mainTd, 4);
          // The new revision's tasks never come up; the old one settles at once.
          return mainTd === NEW_TD
            ? { ...s, runningCount: 2, deployments: [{ ...s.deployments[0]!, rolloutState: 'IN_PROGRESS', runningCount: 0 }] }
            : s;
        },
      },
    );
    const result = await run(m, async (tq) => finish(await start(tq), 'promotion-timeout'));
    expect(result.outcome).toBe('rolled-back');
    expect(result.reason).toContain('promotion failed: ECS deployment of');
    expect(mutations(m.log)).toEqual(['createCanaryService', 'scaleService:1', 'updateServiceRevision:web:2', 'updateServiceRevision:web:1', 'deleteCanaryService']);
  });

  it('asks for an incident when a rollback still fails after retries', async () => {
    const m = mock(
      {
        plan: BASIC_PLAN,
        stableDesired: 4,
        stableRunning: 4,
        analysis: (run, p) => (run === 1 ? { ...healthyAnalysis(p.alarms), alarms: [{ name: 'web-5xx', state: 'ALARM' }] } : undefined),
      },
      {
        async deleteCanaryService() {
          throw ApplicationFailure.nonRetryable('ecs:DeleteService: AccessDeniedException', FailureType.AwsAccessDenied);
        },
      },
    );
    const { result, status } = await run(m, async (tq) => {
      const handle = await start(tq);
      const r = await finish(handle, 'rollback-failure-incident');
      return { result: r, status: await statusOf(handle) };
    });
    expect(result.outcome).toBe('rollback-failed');
    expect(result.incidentWorkflowId).toMatch(/^incident-deploy-rollback-failed-/);
    expect(status.phase).toBe('rollback-failed');
    const req = m.calls.requestDeployIncident?.[0] as { facts: Record<string, string>; cluster: string };
    expect(req.cluster).toBe(CLUSTER);
    expect(req.facts['undo failures']).toContain('AccessDeniedException');
    expect(req.facts.reason).toContain('web-5xx');
  });

  it('refuses a second deploy of the same service while one runs', async () => {
    const plan = planOf({ alarms: [], steps: [{ kind: 'setWeight', weight: 20 }, { kind: 'gate' }, { kind: 'promote' }] });
    const m = mock({ plan, stableDesired: 4, stableRunning: 4 });
    const { second, result } = await run(m, async (tq) => {
      const workflowId = deployWorkflowId(CLUSTER, newService());
      const args: DeployInput = { cluster: CLUSTER, service: 'web', image: 'registry.example/web:2' };
      const first = await startDeploy(args, workflowId, tq);
      await untilPhase(first, 'awaiting-approval');
      const second = await startDeploy(args, workflowId, tq).catch((e: unknown) => e);
      await first.executeUpdate(abortUpdate, { args: [{ reason: 'test over' }] });
      return { second, result: await finish(first, 'second-deploy-refused') };
    });
    expect(second).toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
    expect(result.outcome).toBe('rolled-back');
  });

  it('is refused while a sev1/sev2 incident is open for the cluster, unless forced', async () => {
    const incidents = [{ workflowId: 'incident-db-down-1a2b3c4d', severity: 'sev1', phase: 'open' }];
    const frozen = mock({ plan: BASIC_PLAN, stableDesired: 4, stableRunning: 4, blockingIncidents: incidents });
    const { result, status } = await run(frozen, async (tq) => {
      const handle = await start(tq);
      const r = await finish(handle, 'incident-freeze');
      return { result: r, status: await statusOf(handle) };
    });
    expect(result.outcome).toBe('refused');
    expect(result.reason).toContain('frozen while incidents are open: incident-db-down-1a2b3c4d (sev1, open)');
    expect(mutations(frozen.log)).toEqual([]);
    expect(status.phase).toBe('refused');
    expect(frozen.notified).toEqual(['refused']);

    const forced = mock({ plan: BASIC_PLAN, stableDesired: 4, stableRunning: 4, blockingIncidents: incidents });
    const r2 = await run(forced, async (tq) => finish(await start(tq, { force: true }), 'incident-freeze-forced'));
    expect(r2.outcome).toBe('promoted');
    expect(forced.log).not.toContain('findBlockingIncidents');
    expect(r2.decisions[0]).toMatchObject({ decision: 'skip', reason: 'forced: open incidents not checked' });
  });

  it('is refused inside a readiness window that freezes deploys, with the window\'s reason, unless forced', async () => {
    const windows = [{ workflowId: 'readiness-demo-sale', level: 3, end: '2026-11-28T12:00:00.000Z', reason: 'TV spot' }];
    const frozen = mock({ plan: BASIC_PLAN, stableDesired: 4, stableRunning: 4, freezingWindows: windows });
    const result = await run(frozen, async (tq) => finish(await start(tq), 'readiness-freeze'));
    expect(result.outcome).toBe('refused');
    expect(result.reason).toContain('frozen during readiness windows: readiness-demo-sale (level 3 until 2026-11-28T12:00:00.000Z: TV spot); use force to override');
    expect(mutations(frozen.log)).toEqual([]);
    expect(frozen.notified).toEqual(['refused']);

    const forced = mock({ plan: BASIC_PLAN, stableDesired: 4, stableRunning: 4, freezingWindows: windows });
    const r2 = await run(forced, async (tq) => finish(await start(tq, { force: true }), 'readiness-freeze-forced'));
    expect(r2.outcome).toBe('promoted');
    expect(forced.log).not.toContain('findFreezingWindows');
  });

  it('is refused when the stable service is unhealthy (preflight)', async () => {
    const m = mock({ plan: BASIC_PLAN, stableDesired: 4, stableRunning: 3 });
    const result = await run(m, async (tq) => finish(await start(tq), 'preflight-unhealthy'));
    expect(result.outcome).toBe('refused');
    expect(result.reason).toBe('stable web is not healthy: 3 running of 4 desired');
    expect(mutations(m.log)).toEqual([]);
  });

  it('refuses an image outside the service’s repositories in preflight, right after the plan lookup (a start that skipped the starters)', async () => {
    const m = mock(
      { plan: BASIC_PLAN, stableDesired: 4, stableRunning: 4 },
      {
        async resolveDeployPlan() {
          return { plan: BASIC_PLAN, canaryService: 'web-canary', images: ['registry.example/web'] };
        },
      },
    );
    const result = await run(m, async (tq) => finish(await start(tq, { image: 'registry.example/web-evil:1' }), 'preflight-image-refused'));
    expect(result.outcome).toBe('refused');
    expect(result.reason).toBe('image repository registry.example/web-evil is not one demo/web may run (services[].images: registry.example/web)');
    // Nothing read or changed after the plan: no incident check, no service read, no revision, no canary.
    expect(m.log).toEqual(['resolveDeployPlan']);

    // A plan with no list: image deploys are refused; the same plan lets an allowed image through.
    const none = mock({ plan: BASIC_PLAN, stableDesired: 4, stableRunning: 4 }, { resolveDeployPlan: async () => ({ plan: BASIC_PLAN, canaryService: 'web-canary', images: [] }) });
    const r2 = await run(none, async (tq) => finish(await start(tq), 'preflight-no-images'));
    expect(r2).toMatchObject({ outcome: 'refused', reason: expect.stringContaining('demo/web names no image repositories (services[].images): image deploys are refused') });
    expect(none.log).toEqual(['resolveDeployPlan']);
    const allowed = mock({ plan: BASIC_PLAN, stableDesired: 4, stableRunning: 4 }, { resolveDeployPlan: async () => ({ plan: BASIC_PLAN, canaryService: 'web-canary', images: ['registry.example/web'] }) });
    expect((await run(allowed, async (tq) => finish(await start(tq), 'preflight-image-allowed'))).outcome).toBe('promoted');
  });

  it('is refused, with the activity reason, when the revision cannot be built (nothing was changed)', async () => {
    const m = mock(
      { plan: BASIC_PLAN, stableDesired: 4, stableRunning: 4 },
      {
        async resolveDeployRevision() {
          throw ApplicationFailure.nonRetryable(
            'task definition web has 2 containers; set services[].canary.container to name the one to replace',
            FailureType.InvalidRequest,
          );
        },
      },
    );
    const result = await run(m, async (tq) => finish(await start(tq), 'revision-refused'));
    expect(result.outcome).toBe('refused');
    expect(result.reason).toBe(
      'deploy step failed before any change: resolveDeployRevision: task definition web has 2 containers; set services[].canary.container to name the one to replace',
    );
    expect(mutations(m.log)).toEqual([]);
    expect(m.notified).toEqual(['creating-canary', 'refused']);
  });

  it('dryRun records every mutating call instead of making it and does not wait', async () => {
    const plan = planOf({ ...BASIC_PLAN, listenerRule: RULE, steps: [...BASIC_PLAN.steps.slice(0, 4), { kind: 'gate' }, { kind: 'promote' }] });
    const m = mock({ plan, stableDesired: 9, stableRunning: 9 });
    const { result, status, seconds } = await run(m, async (tq) => {
      const handle = await start(tq, { dryRun: true });
      const r = await finish(handle, 'dry-run');
      const d = await handle.describe();
      return { result: r, status: await statusOf(handle), seconds: ((d.closeTime?.getTime() ?? 0) - d.startTime.getTime()) / 1000 };
    });
    expect(result.outcome).toBe('dry-run-complete');
    expect(status.dryRun).toBe(true);
    expect(status.dryRunCalls?.map((c) => c.action)).toEqual([
      'ecs:RegisterTaskDefinition',
      'ecs:CreateService',
      'ecs:UpdateService',
      'elasticloadbalancing:ModifyRule',
      'ecs:UpdateService',
      'elasticloadbalancing:ModifyRule',
      'ecs:UpdateService',
      'elasticloadbalancing:ModifyRule',
      'ecs:DeleteService',
    ]);
    expect(result.dryRunCalls).toEqual(status.dryRunCalls);
    expect(m.log).not.toContain('analyzeCanary');
    expect(seconds).toBeLessThan(60);
    expect(m.calls.scaleService?.every((a) => (a as { dryRun?: boolean }).dryRun === true)).toBe(true);
  });
});
