import type { CanaryAnalysis } from '../../common/deploy';
import { abortUpdate } from '../../contracts/controls';
import { OLD_TD, finish, healthyAnalysis, mock, mutations, planOf, run, start, statusOf, untilPhase, useTimeSkippingEnv } from './deploy-mock';

/**
 * After promotion the main service bakes on the new revision under the same alarms and checks, and is
 * put back on the previous revision if they fail (Argo Rollouts and ECS blue/green keep the previous
 * revision ready for such a bake). Time-skipping server, mocked activities.
 */

useTimeSkippingEnv();

const PLAN = planOf({
  alarms: ['web-5xx'],
  metricChecks: [
    { name: 'errors', namespace: 'App', metricName: 'Errors', dimensions: { Service: '{canary}' }, maxValue: 5 },
    { name: 'errors-vs-stable', namespace: 'App', metricName: 'Errors', dimensions: { Service: '{canary}' }, maxRatioToStable: 2 },
  ],
  steps: [{ kind: 'setWeight', weight: 20 }, { kind: 'bake', seconds: 120 }, { kind: 'promote' }],
  analysisIntervalSeconds: 60,
  postPromotionBakeSeconds: 180,
});

const alarmed = (a: CanaryAnalysis): CanaryAnalysis => ({ ...a, alarms: [{ name: 'web-5xx', state: 'ALARM', reason: 'Threshold Crossed: 12 5xx' }] });

describe('canaryDeploy post-promotion bake', () => {
  it('is on by default for a few minutes', () => {
    expect(planOf({}).postPromotionBakeSeconds).toBe(300);
  });

  it('bakes the promoted service under the alarms and the checks that need no stable, then lets the previous revision go', async () => {
    const inputs: { canaryService: string; metricChecks: { name: string }[] }[] = [];
    const m = mock(
      { plan: PLAN, stableDesired: 4, stableRunning: 4 },
      {
        async analyzeCanary(input) {
          inputs.push(input);
          return healthyAnalysis(input.alarms);
        },
      },
    );
    const { result, status } = await run(m, async (tq) => {
      const handle = await start(tq);
      const r = await finish(handle, 'post-promotion-bake-passed');
      return { result: r, status: await statusOf(handle) };
    });
    expect(result.outcome).toBe('promoted');
    expect(m.notified).toEqual(['creating-canary', 'shifting-traffic', 'baking', 'promoting', 'post-promotion-bake', 'promoted']);
    // Two canary analyses (120 s), then three of the main service (180 s) on the plan's alarms and absolute checks.
    expect(inputs.map((i) => i.canaryService)).toEqual(['web-canary', 'web-canary', 'web', 'web', 'web']);
    expect(inputs[2]?.metricChecks.map((c) => c.name)).toEqual(['errors']);
    expect(result.decisions.map((d) => d.decision)).toContain('pass');
    expect(result.decisions.find((d) => d.reason.startsWith('post-promotion bake'))?.reason).toBe('post-promotion bake of 180 s passed; the previous revision is let go');
    expect(status.phase).toBe('promoted');
  });

  it('rolls the main service back to the previous revision when an alarm fires after promotion', async () => {
    const m = mock(
      { plan: PLAN, stableDesired: 4, stableRunning: 4 },
      {
        async analyzeCanary(input) {
          return input.canaryService === 'web' ? alarmed(healthyAnalysis(input.alarms)) : healthyAnalysis(input.alarms);
        },
      },
    );
    const { result, main } = await run(m, async (tq) => {
      const handle = await start(tq);
      const r = await finish(handle, 'post-promotion-alarm-rollback');
      return { result: r, main: await m.activities.describeDeployService({ cluster: 'demo', service: 'web' }) };
    });
    expect(result.outcome).toBe('rolled-back');
    expect(result.reason).toBe('rolled back: after promotion: alarm web-5xx in ALARM (Threshold Crossed: 12 5xx)');
    expect(mutations(m.log)).toEqual(['createCanaryService', 'scaleService:1', 'updateServiceRevision:web:2', 'deleteCanaryService', 'updateServiceRevision:web:1']);
    expect(main?.taskDefinition).toBe(OLD_TD);
    expect(result).toMatchObject({ previousTaskDefinition: OLD_TD });
    expect(m.notified.slice(-3)).toEqual(['post-promotion-bake', 'rolling-back', 'rolled-back']);
  });

  it('an abort during the post-promotion bake puts the previous revision back', async () => {
    const m = mock({ plan: PLAN, stableDesired: 4, stableRunning: 4 });
    const result = await run(m, async (tq) => {
      const handle = await start(tq);
      await untilPhase(handle, 'post-promotion-bake');
      await handle.executeUpdate(abortUpdate, { args: [{ reason: 'customer reports', by: 'gina' }] });
      return finish(handle, 'post-promotion-abort');
    });
    expect(result.outcome).toBe('rolled-back');
    expect(result.reason).toBe('rolled back: aborted after promotion by gina: customer reports');
    expect(mutations(m.log).slice(-2)).toEqual(['deleteCanaryService', 'updateServiceRevision:web:1']);
  });
});
