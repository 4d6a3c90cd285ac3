import { FaultRules, RateLimiter, globMatches } from '../../simulator/faults';

describe('fault rules', () => {
  it('matches service and action globs, case-insensitively, and accepts service aliases', () => {
    expect(globMatches('Describe*', 'DescribeInstances')).toBe(true);
    expect(globMatches('describe*', 'DescribeInstances')).toBe(true);
    expect(globMatches('Describe*', 'RunInstances')).toBe(false);
    expect(globMatches('*Instances', 'TerminateInstances')).toBe(true);
    expect(globMatches('Run?nstances', 'RunInstances')).toBe(true);
    expect(globMatches('a.b', 'axb')).toBe(false);

    const rules = new FaultRules();
    rules.add({ service: 'cloudwatch', action: 'Put*', fault: { kind: 'throttle' } });
    expect(rules.decide('monitoring', 'PutMetricAlarm').fault?.fault.kind).toBe('throttle');
    expect(rules.decide('monitoring', 'DescribeAlarms').fault).toBeUndefined();
    expect(rules.decide('ecs', 'PutAttributes').fault).toBeUndefined();
  });

  it('fires after the first `after` matches and at most `count` times', () => {
    const rules = new FaultRules();
    const rule = rules.add({ service: 'ec2', fault: { kind: 'reset' }, after: 2, count: 2 });
    const fired = Array.from({ length: 6 }, () => rules.decide('ec2', 'DescribeInstances').fault !== undefined);
    expect(fired).toEqual([false, false, true, true, false, false]);
    expect(rules.list().find((r) => r.id === rule.id)).toMatchObject({ matched: 6, fired: 2 });
  });

  it('fires with the given probability', () => {
    const draws = [0.1, 0.6, 0.49, 0.5];
    const rules = new FaultRules(() => draws.shift() ?? 1);
    rules.add({ service: '*', fault: { kind: 'error', status: 500 }, probability: 0.5 });
    const fired = Array.from({ length: 4 }, () => rules.decide('sqs', 'ReceiveMessage').fault !== undefined);
    expect(fired).toEqual([true, false, true, false]);
  });

  it('adds up latency rules and lets the first other matching rule decide', () => {
    const rules = new FaultRules();
    rules.add({ id: 'slow', service: 'ecs', fault: { kind: 'latency', ms: 100 } });
    rules.add({ id: 'slower', service: '*', action: 'List*', fault: { kind: 'latency', ms: 50 } });
    rules.add({ id: 'first', service: 'ecs', action: 'ListTasks', fault: { kind: 'throttle' } });
    rules.add({ id: 'second', service: 'ecs', fault: { kind: 'error', status: 503 } });
    const d = rules.decide('ecs', 'ListTasks');
    expect(d.latencyMs).toBe(150);
    expect(d.fault?.rule.id).toBe('first');
    expect(d.fired).toEqual(['slow', 'slower', 'first']);
  });

  it('replaces a rule given the same id, removes and clears', () => {
    const rules = new FaultRules();
    rules.add({ id: 'r', service: 'ecs', fault: { kind: 'throttle' } });
    rules.add({ id: 'r', service: 'ec2', fault: { kind: 'throttle' } });
    expect(rules.list().map((r) => [r.id, r.service])).toEqual([['r', 'ec2']]);
    expect(rules.remove('r')).toBe(true);
    expect(rules.remove('r')).toBe(false);
    rules.add({ service: 'ecs', fault: { kind: 'throttle' } });
    rules.clear();
    expect(rules.list()).toEqual([]);
  });

  it('rejects malformed rules naming the field', () => {
    const rules = new FaultRules();
    expect(() => rules.add({ service: 'ecs', fault: { kind: 'error', status: 200 } })).toThrow(/status/);
    expect(() => rules.add({ service: 'ecs', fault: { kind: 'throttle' }, probability: 2 })).toThrow(/probability/);
  });
});

describe('rate limiter', () => {
  it('allows a burst, throttles when empty and refills at the rate', () => {
    let now = 0;
    const limiter = new RateLimiter(() => now);
    limiter.set({ service: 'elbv2', ratePerSec: 2, burst: 3 });
    const take = () => limiter.take('elasticloadbalancing', 'DescribeTargetHealth');
    expect([take(), take(), take(), take()]).toEqual([true, true, true, false]);
    now += 499;
    expect(take()).toBe(false);
    now += 1;
    expect([take(), take()]).toEqual([true, false]);
    now += 10_000;
    expect([take(), take(), take(), take()]).toEqual([true, true, true, false]);
  });

  it('gives an action with its own limit its own bucket, and leaves other services alone', () => {
    const limiter = new RateLimiter(() => 0);
    limiter.set({ service: 'ecs', ratePerSec: 1, burst: 1 });
    limiter.set({ service: 'ecs', action: 'DescribeTasks', ratePerSec: 1, burst: 2 });
    expect([limiter.take('ecs', 'DescribeTasks'), limiter.take('ecs', 'DescribeTasks'), limiter.take('ecs', 'DescribeTasks')]).toEqual([true, true, false]);
    expect([limiter.take('ecs', 'ListTasks'), limiter.take('ecs', 'ListTasks')]).toEqual([true, false]);
    expect(limiter.take('ec2', 'DescribeInstances')).toBe(true);
    expect(limiter.remove('ecs')).toBe(true);
    expect(limiter.take('ecs', 'ListTasks')).toBe(true);
  });
});
