import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { TASK_QUEUE_DRAIN_COORDINATOR } from '../../common/task-queues';
import { parseConfig } from '../../config/load';
import { atOnceBatches } from '../../router/at-once';
import { TemporalUnavailableError, type Dispatcher } from '../../router/dispatch';
import { HeadStart } from '../../router/head-start';
import { createRouterMetrics } from '../../router/metrics';
import { createLogger } from '../../common/logger';
import { parseEvent } from '../../router/events';
import { decisionsOf, routeEvent, type RouteDecision } from '../../router/routes';
import { ROOT } from '../../testkit/paths';
import { createTestWorld, newInstanceId, type Envelope } from '../../testkit/router/fixtures';

/**
 * Which events of a batch go to the drain coordinator (router/at-once.ts): warnings and instances
 * stopping or shutting down, one signal per account and region, never a rebalance, scheduled change
 * or lifecycle action (they replace first or wait for the budget), never a dry run.
 */

const world = createTestWorld();

function decisions(events: Envelope[], config = world.config, dryRun = false): RouteDecision[] {
  return events.flatMap((e) => {
    const parsed = parseEvent(e);
    if (!parsed.ok) throw new Error(parsed.error);
    return decisionsOf(routeEvent(parsed.event, config, { dryRun }));
  });
}

const ids = (events: Envelope[]) => events.map((e) => (e.detail['instance-id'] ?? e.detail.EC2InstanceId) as string);

describe('the drain coordinator share of an event batch', () => {
  it('takes every warning and stopping instance of the batch in one signal-with-start, with each deadline', () => {
    const warnings = [world.event('spot-interruption-warning'), world.event('spot-interruption-warning')];
    const stopping = world.event('instance-state-change', { state: 'shutting-down' });
    const batches = atOnceBatches(decisions([...warnings, stopping]));
    expect(batches).toHaveLength(1);
    const { decision } = batches[0]!;
    expect(decision).toMatchObject({
      action: 'signalWithStart',
      workflowType: 'drainCoordinator',
      workflowId: 'drain-coordinator',
      taskQueue: TASK_QUEUE_DRAIN_COORDINATOR,
      reusePolicy: 'ALLOW_DUPLICATE',
      // Ahead of the drains' first workflow tasks in a storm's backlog.
      priority: { priorityKey: 1 },
      signal: { name: 'interruptionNotices' },
    });
    const notices = decision.signal.arg as { instanceId: string; eventId: string; deadline: string }[];
    expect(notices.map((n) => n.instanceId)).toEqual([...ids(warnings), stopping.detail['instance-id']]);
    expect(notices[0]).toEqual({
      instanceId: warnings[0]!.detail['instance-id'],
      eventId: warnings[0]!.id,
      eventTime: warnings[0]!.time,
      deadline: new Date(Date.parse(warnings[0]!.time) + 120_000).toISOString(),
    });
  });

  it('leaves rebalance recommendations, scheduled changes, lifecycle actions and stopped instances to their drains', () => {
    const events = [
      world.event('rebalance-recommendation'),
      world.event('health-event'),
      world.event('lifecycle-terminate'),
      world.event('instance-state-change', { state: 'stopped' }),
      world.event('alarm-state-change', { alarmName: world.alarms.scaleOut }),
    ];
    expect(decisions(events).length).toBeGreaterThanOrEqual(5);
    expect(atOnceBatches(decisions(events))).toEqual([]);
  });

  it('gives a dry run no head start: a dry run changes nothing', () => {
    expect(atOnceBatches(decisions([world.event('spot-interruption-warning')], world.config, true))).toEqual([]);
  });

  it('names an instance once per batch (its first event), and the same notices make the same batch id in any order', () => {
    const id = newInstanceId();
    const a = world.event('spot-interruption-warning', { instanceId: id });
    const b = world.event('instance-state-change', { instanceId: id, state: 'stopping' });
    const c = world.event('spot-interruption-warning');
    const one = atOnceBatches(decisions([a, b, c]));
    expect((one[0]!.decision.signal.arg as unknown[]).length).toBe(2);
    expect(atOnceBatches(decisions([c, a, b]))[0]!.batchId).toBe(one[0]!.batchId);
    // The id stands for what is sent: the same notices, the same id (the server drops the repeat).
    expect(atOnceBatches(decisions([a, c]))[0]!.batchId).toBe(one[0]!.batchId);
    expect(atOnceBatches(decisions([b, c]))[0]!.batchId).not.toBe(one[0]!.batchId);
  });

  it('sends each account and region its own coordinator', () => {
    const base = parse(readFileSync(join(ROOT, 'test', 'fixtures', 'fleetops.valid.yaml'), 'utf8')) as Record<string, any>;
    const A = '222222222222';
    const config = parseConfig(
      {
        ...base,
        aws: { region: 'us-east-1', account: '111111111111' },
        services: [],
        alarmRoutes: [],
        clusters: {
          home: { pools: [{ name: 'od', kind: 'asg', autoScalingGroupName: 'home-asg' }] },
          far: { region: 'eu-west-1', roleArn: `arn:aws:iam::${A}:role/fleetops-member`, pools: [{ name: 'od', kind: 'asg', autoScalingGroupName: 'far-asg' }] },
        },
      },
      'at-once-test',
    );
    const at = (account: string, region: string) => {
      const e = world.event('spot-interruption-warning');
      e.account = account;
      e.region = region;
      return e;
    };
    const batches = atOnceBatches(decisions([at('111111111111', 'us-east-1'), at(A, 'eu-west-1'), at(A, 'eu-west-1')], config));
    expect(batches.map((b) => [b.decision.workflowId, (b.decision.signal.arg as unknown[]).length])).toEqual([
      ['drain-coordinator-111111111111-us-east-1', 1],
      [`drain-coordinator-${A}-eu-west-1`, 2],
    ]);
    expect(batches[1]!.decision.args).toEqual([{ placement: { account: A, region: 'eu-west-1', member: true } }]);
  });
});

describe('sending the coordinator its share (router/head-start.ts)', () => {
  const log = createLogger('at-once-test');
  function stubDispatcher(fail?: Error): { dispatcher: Dispatcher; sent: { batchId: string; notices: number }[] } {
    const sent: { batchId: string; notices: number }[] = [];
    const dispatcher = {
      async carryOut(batchId: string, decision: RouteDecision) {
        if (fail) throw fail;
        if (decision.action === 'signalWithStart') sent.push({ batchId, notices: (decision.signal.arg as unknown[]).length });
        return { eventId: batchId, action: 'signaled', workflowId: decision.workflowId };
      },
    } as unknown as Dispatcher;
    return { dispatcher, sent };
  }

  it('sends the notices of concurrent messages (one SQS receive) in one signal', async () => {
    const { dispatcher, sent } = stubDispatcher();
    const head = new HeadStart(dispatcher, log, createRouterMetrics(), 'sqs');
    // Ten messages carried out at once, each one event, as the SQS consumer does; one is a rebalance.
    const events = [...Array.from({ length: 9 }, () => world.event('spot-interruption-warning')), world.event('rebalance-recommendation')];
    await Promise.all(events.map((e) => head.send(decisions([e]))));
    expect(sent).toHaveLength(1);
    expect(sent[0]!.notices).toBe(9);
  });

  it('fails every caller when Temporal does not answer (each message is retried), and only logs any other failure', async () => {
    const down = new HeadStart(stubDispatcher(new TemporalUnavailableError('temporal unavailable')).dispatcher, log, createRouterMetrics(), 'sqs');
    const results = await Promise.allSettled([1, 2].map(() => down.send(decisions([world.event('spot-interruption-warning')]))));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason).toBeInstanceOf(TemporalUnavailableError);
    const broken = new HeadStart(stubDispatcher(new Error('workflow type not registered')).dispatcher, log, createRouterMetrics(), 'sqs');
    await expect(broken.send(decisions([world.event('spot-interruption-warning')]))).resolves.toBeUndefined();
  });
});
