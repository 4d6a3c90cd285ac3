import { ecsEventSignal } from '../../contracts/canary-deploy/messages';
import { BASIC_PLAN, CLUSTER, RULE, finish, healthyTargets, mock, mutations, planOf, run, snapshot, start, untilPhase, useTimeSkippingEnv } from './deploy-mock';

/**
 * Traffic reaches the canary only once it can serve: before each weight step its targets must be
 * registered and healthy in each of its target groups. Time-skipping server, mocked activities.
 */

useTimeSkippingEnv();

const LISTENER_PLAN = planOf({ ...BASIC_PLAN, listenerRule: RULE, alarms: [] });

describe('canaryDeploy gates weight on the canary’s target health', () => {
  it('moves weight only after the canary’s targets are healthy in its target group', async () => {
    const m = mock({
      plan: LISTENER_PLAN,
      stableDesired: 9,
      stableRunning: 9,
      // Registered, still being health-checked for the first three looks.
      targets: (check, desired) => (check <= 3 ? healthyTargets(desired, 0, 'initial') : undefined),
    });
    const result = await run(m, async (tq) => finish(await start(tq), 'weight-after-healthy-targets'));
    expect(result.outcome).toBe('promoted');
    const firstWeight = m.log.indexOf('setTrafficWeight:10');
    expect(firstWeight).toBeGreaterThan(-1);
    // Three looks at initial targets, then a fourth with them healthy, all before the first weight.
    expect(m.log.slice(0, firstWeight).filter((l) => l === 'describeServiceTargets')).toHaveLength(4);
    expect(result.decisions.find((d) => d.decision === 'ready')?.reason).toBe(`web-canary serves: 1 of 1 target(s) healthy in ${RULE.canaryTargetGroupArn}`);
  });

  it('never gives weight to a canary whose tasks fail their health checks, and rolls it back', async () => {
    const m = mock({
      plan: LISTENER_PLAN,
      stableDesired: 4,
      stableRunning: 4,
      targets: (check, desired) => ({
        ...healthyTargets(desired, 0, check < 3 ? 'initial' : 'unhealthy'),
        stoppedTasks:
          check < 4
            ? []
            : [{ taskArn: 't1', taskDefinition: 'web:2', stopCode: 'ServiceSchedulerInitiated', stoppedReason: `Task failed ELB health checks in (target-group ${RULE.canaryTargetGroupArn})` }],
      }),
    });
    const result = await run(m, async (tq) => finish(await start(tq), 'unhealthy-canary-no-weight'));
    expect(result.outcome).toBe('rolled-back');
    expect(result.reason).toBe(
      `rolled back: web-canary is not serving: 1 canary task(s) stopped: ServiceSchedulerInitiated: Task failed ELB health checks in (target-group ${RULE.canaryTargetGroupArn})`,
    );
    expect(mutations(m.log).filter((l) => l.startsWith('setTrafficWeight'))).toEqual([]);
    expect(mutations(m.log)).toEqual(['createCanaryService', 'scaleService:1', 'deleteCanaryService']);
  });

  it('rolls back a canary ECS cannot place (no room in the cluster) once the readiness timeout passes, saying what ECS said', async () => {
    const pending = { ...snapshot('web-canary', 'web:2', 1, 0), pendingCount: 1 };
    pending.deployments = [{ ...pending.deployments[0]!, rolloutState: 'IN_PROGRESS', runningCount: 0 }];
    const m = mock(
      { plan: LISTENER_PLAN, stableDesired: 4, stableRunning: 4, targets: () => ({ desiredCount: 1, runningCount: 0, groups: [{ targetGroupArn: RULE.canaryTargetGroupArn, healthy: 0, states: [] }], stoppedTasks: [] }) },
      {
        async describeDeployService({ service }) {
          return service === 'web' ? snapshot('web', 'web:1', 4) : pending;
        },
      },
    );
    const result = await run(m, async (tq) => {
      const handle = await start(tq);
      await untilPhase(handle, 'shifting-traffic');
      await handle.signal(ecsEventSignal, {
        detailType: 'ECS Service Action',
        eventName: 'SERVICE_TASK_PLACEMENT_FAILURE',
        eventType: 'WARN',
        resources: [`arn:aws:ecs:us-east-1:123456789012:service/${CLUSTER}/web-canary`],
        time: new Date().toISOString(),
        reason: '(service web-canary) was unable to place a task because no container instance met all of its requirements: RESOURCE:MEMORY',
        eventId: 'placement-1',
      });
      return finish(handle, 'canary-not-placed');
    });
    expect(result.outcome).toBe('rolled-back');
    expect(result.reason).toBe(
      `rolled back: web-canary is not serving after 600 s: 0 of 1 running (rollout IN_PROGRESS), 0 of 1 target(s) healthy in ${RULE.canaryTargetGroupArn}; ` +
        'last from ECS: SERVICE_TASK_PLACEMENT_FAILURE ((service web-canary) was unable to place a task because no container instance met all of its requirements: RESOURCE:MEMORY)',
    );
    expect(mutations(m.log).filter((l) => l.startsWith('setTrafficWeight'))).toEqual([]);
  });

  it('is refused, before any change, when the stable service has a target group the listener rule does not weight', async () => {
    const other = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-admin/9';
    const m = mock({ plan: LISTENER_PLAN, stableDesired: 4, stableRunning: 4, stableTargetGroups: [RULE.stableTargetGroupArn, other] });
    const result = await run(m, async (tq) => finish(await start(tq), 'second-target-group-refused'));
    expect(result.outcome).toBe('refused');
    expect(result.reason).toBe(
      `web is in 2 target groups (${RULE.stableTargetGroupArn}, ${other}) but the plan's listener rule weights only ${RULE.stableTargetGroupArn}: ` +
        `the canary would have no target group behind the others; give web one target group, or deploy it without listenerRule`,
    );
    expect(mutations(m.log)).toEqual([]);
  });
});
