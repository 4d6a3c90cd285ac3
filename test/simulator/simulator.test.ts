import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeAlarmsCommand, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeInstancesCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateClusterCommand, ListClustersCommand } from '@aws-sdk/client-ecs';
import { DescribeLoadBalancersCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateQueueCommand, ListQueuesCommand } from '@aws-sdk/client-sqs';
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import { startEmulator, type Emulator } from '../../testkit/emulator';
import { useEmulator } from '../harness/emulator';

/**
 * Each fault kind must reach the real SDK v3 client the way AWS delivers it, for every service
 * fleetops calls: JSON protocols (ECS awsJson1.1; SQS and CloudWatch awsJson1.0, which SDK 3.1142
 * uses for both) and Query protocols (EC2's own dialect; Auto Scaling and ELBv2).
 * `@smithy/core/retry` is the SDK's own error classification: asserting on it proves the SDK sees a
 * simulated throttle as throttling and a 5xx or reset as transient.
 */

interface SdkError {
  name: string;
  code?: string;
  message: string;
  $fault?: string;
  $metadata?: { httpStatusCode?: number; requestId?: string };
}

async function failure(p: Promise<unknown>): Promise<SdkError> {
  try {
    await p;
  } catch (err) {
    return err as SdkError;
  }
  throw new Error('expected the call to fail');
}

interface ServiceCase {
  /** Name used in rules (an alias where the signing name differs). */
  rule: string;
  /** Signing name, as recorded. */
  service: string;
  action: string;
  protocol: string;
  call(emu: Emulator): Promise<unknown>;
  throttle: { name: string; status: number };
  e500: string;
  e503: string;
}

const SERVICES: ServiceCase[] = [
  {
    rule: 'ecs',
    service: 'ecs',
    action: 'ListClusters',
    protocol: 'json',
    call: (emu) => emu.aws.ecs.send(new ListClustersCommand({})),
    throttle: { name: 'ThrottlingException', status: 400 },
    e500: 'InternalFailure',
    e503: 'ServiceUnavailableException',
  },
  {
    rule: 'sqs',
    service: 'sqs',
    action: 'ListQueues',
    protocol: 'json',
    call: (emu) => emu.aws.sqs.send(new ListQueuesCommand({})),
    throttle: { name: 'ThrottlingException', status: 400 },
    e500: 'InternalFailure',
    e503: 'ServiceUnavailableException',
  },
  {
    rule: 'cloudwatch',
    service: 'monitoring',
    action: 'DescribeAlarms',
    protocol: 'json',
    call: (emu) => emu.aws.cloudwatch.send(new DescribeAlarmsCommand({})),
    throttle: { name: 'ThrottlingException', status: 400 },
    e500: 'InternalFailure',
    e503: 'ServiceUnavailableException',
  },
  {
    rule: 'ec2',
    service: 'ec2',
    action: 'DescribeInstances',
    protocol: 'ec2-query',
    call: (emu) => emu.aws.ec2.send(new DescribeInstancesCommand({})),
    throttle: { name: 'RequestLimitExceeded', status: 503 },
    e500: 'InternalError',
    e503: 'Unavailable',
  },
  {
    rule: 'autoscaling',
    service: 'autoscaling',
    action: 'DescribeAutoScalingGroups',
    protocol: 'query',
    call: (emu) => emu.aws.autoscaling.send(new DescribeAutoScalingGroupsCommand({})),
    throttle: { name: 'Throttling', status: 400 },
    e500: 'InternalFailure',
    e503: 'ServiceUnavailable',
  },
  {
    rule: 'elbv2',
    service: 'elasticloadbalancing',
    action: 'DescribeLoadBalancers',
    protocol: 'query',
    call: (emu) => emu.aws.elbv2.send(new DescribeLoadBalancersCommand({})),
    throttle: { name: 'Throttling', status: 400 },
    e500: 'InternalFailure',
    e503: 'ServiceUnavailable',
  },
];

const emu = useEmulator(() => startEmulator());

describe.each(SERVICES)('$rule ($protocol)', (svc) => {
  it('identifies the call and forwards it to moto', async () => {
    await svc.call(emu);
    const [call] = await emu.sim.calls({ service: svc.rule });
    expect(call).toMatchObject({ service: svc.service, action: svc.action, protocol: svc.protocol, region: 'us-east-1', status: 200, handledBy: 'moto' });
    expect(call.fault).toBeUndefined();
  });

  it('throttles with the service’s own throttling error', async () => {
    await emu.sim.setFaults({ service: svc.rule, action: svc.action, fault: { kind: 'throttle' }, count: 1 });
    const err = await failure(svc.call(emu));
    expect(err.name).toBe(svc.throttle.name);
    expect(err.$metadata?.httpStatusCode).toBe(svc.throttle.status);
    expect(err.$metadata?.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(isThrottlingError(err as never)).toBe(true);
    await expect(svc.call(emu)).resolves.toBeDefined();
    const calls = await emu.sim.calls({ service: svc.rule });
    expect(calls.map((c) => [c.status, c.fault?.kind ?? null, c.errorCode ?? null])).toEqual([
      [svc.throttle.status, 'throttle', svc.throttle.name],
      [200, null, null],
    ]);
  });

  it.each([
    [500, 'e500'],
    [503, 'e503'],
  ] as const)('answers a %i with the service’s server error', async (status, key) => {
    await emu.sim.setFaults({ service: svc.rule, fault: { kind: 'error', status } });
    const err = await failure(svc.call(emu));
    expect(err.name).toBe(svc[key]);
    expect(err.$metadata?.httpStatusCode).toBe(status);
    expect(err.$fault).toBe('server');
    expect(isTransientError(err as never) || isServerError(err as never)).toBe(true);
    expect(isThrottlingError(err as never)).toBe(false);
  });

  it('delivers an error with any code and status, e.g. access denied', async () => {
    await emu.sim.setFaults({ service: svc.rule, fault: { kind: 'error', status: 403, code: 'AccessDenied', message: 'not allowed' } });
    const err = await failure(svc.call(emu));
    expect(err).toMatchObject({ name: 'AccessDenied', message: 'not allowed', $fault: 'client' });
    expect(err.$metadata?.httpStatusCode).toBe(403);
  });

  it('resets the connection: the SDK sees a network error without a response', async () => {
    await emu.sim.setFaults({ service: svc.rule, fault: { kind: 'reset' }, count: 1 });
    const err = await failure(svc.call(emu));
    // Outside jest the SDK rethrows Node's error (name TimeoutError, code ECONNRESET). Under jest the
    // error comes from another realm, fails the SDK's `instanceof Error` and is rewrapped keeping only
    // the message, so the code is asserted wherever it survives.
    expect(`${err.code ?? ''} ${err.message}`).toMatch(/ECONNRESET/);
    expect(err.$metadata?.httpStatusCode).toBeUndefined();
    await expect(svc.call(emu)).resolves.toBeDefined();
    expect((await emu.sim.calls({ service: svc.rule })).map((c) => c.status)).toEqual([null, 200]);
  });
});

describe('exact wire shapes', () => {
  // What the SDK parsed is asserted above; these pin the bytes, so a change that the SDK happens to
  // tolerate but AWS would never send is caught too.
  const auth = (service: string) => `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=00`;

  it('JSON: HTTP 400, x-amzn-errortype and a __type body', async () => {
    await emu.sim.setFaults({ service: 'ecs', fault: { kind: 'throttle' } });
    const res = await fetch(emu.endpoint, {
      method: 'POST',
      headers: { authorization: auth('ecs'), 'x-amz-target': 'AmazonEC2ContainerServiceV20141113.ListClusters', 'content-type': 'application/x-amz-json-1.1' },
      body: '{}',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-errortype')).toBe('ThrottlingException');
    expect(res.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(await res.json()).toEqual({ __type: 'ThrottlingException', message: 'Rate exceeded' });
  });

  it('EC2 Query: HTTP 503 RequestLimitExceeded in <Response><Errors>', async () => {
    await emu.sim.setFaults({ service: 'ec2', fault: { kind: 'throttle' } });
    const res = await fetch(emu.endpoint, {
      method: 'POST',
      headers: { authorization: auth('ec2'), 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=DescribeInstances&Version=2016-11-15',
    });
    expect(res.status).toBe(503);
    expect(await res.text()).toMatch(
      /<Response><Errors><Error><Code>RequestLimitExceeded<\/Code><Message>[^<]+<\/Message><\/Error><\/Errors><RequestID>[0-9a-f-]{36}<\/RequestID><\/Response>$/,
    );
  });

  it('Query (Auto Scaling, ELBv2): HTTP 400 Throttling in <ErrorResponse> with Type Sender', async () => {
    await emu.sim.setFaults({ service: 'autoscaling', fault: { kind: 'throttle' } });
    const res = await fetch(emu.endpoint, {
      method: 'POST',
      headers: { authorization: auth('autoscaling'), 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: 'Action=DescribeAutoScalingGroups&Version=2011-01-01',
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(
      /^<ErrorResponse[^>]*><Error><Type>Sender<\/Type><Code>Throttling<\/Code><Message>Rate exceeded<\/Message><\/Error><RequestId>[0-9a-f-]{36}<\/RequestId><\/ErrorResponse>$/,
    );
  });
});

describe('latency', () => {
  it('delays the matching call by at least the added latency', async () => {
    await emu.sim.setFaults({ service: 'ecs', action: 'ListClusters', fault: { kind: 'latency', ms: 400 } });
    const started = Date.now();
    await emu.aws.ecs.send(new ListClustersCommand({}));
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    const [call] = await emu.sim.calls({ service: 'ecs' });
    expect(call).toMatchObject({ latencyMs: 400, status: 200 });
    expect(call.durationMs).toBeGreaterThanOrEqual(400);
  });
});

describe('rate limits', () => {
  it('throttles a Query service once its bucket is empty, then recovers as it refills', async () => {
    const describe = () => emu.aws.ec2.send(new DescribeInstancesCommand({}));
    // moto loads EC2 on its first call (seconds on a busy machine); warm it so the bucket is not
    // refilled while the burst is being spent.
    await describe();
    await emu.sim.clearCalls();
    await emu.sim.setRateLimit({ service: 'ec2', ratePerSec: 1, burst: 2 });
    await describe();
    await describe();
    const err = await failure(describe());
    expect(err.name).toBe('RequestLimitExceeded');
    expect(err.$metadata?.httpStatusCode).toBe(503);
    await new Promise((r) => setTimeout(r, 1_000));
    await expect(describe()).resolves.toBeDefined();
    expect((await emu.sim.calls({ service: 'ec2' })).map((c) => c.fault?.kind ?? c.status)).toEqual([200, 200, 'rate-limit', 200]);
  });

  it('throttles a JSON service with ThrottlingException, per action where the limit names one', async () => {
    await emu.sim.setRateLimit({ service: 'sqs', action: 'ListQueues', ratePerSec: 0.001, burst: 1 });
    await emu.aws.sqs.send(new ListQueuesCommand({}));
    const err = await failure(emu.aws.sqs.send(new ListQueuesCommand({})));
    expect(err.name).toBe('ThrottlingException');
    expect(isThrottlingError(err as never)).toBe(true);
    // Another action of the same service has no bucket. moto builds the queue URL from the Host
    // header the simulator passes through, so consumers keep talking to the simulator.
    const { QueueUrl } = await emu.aws.sqs.send(new CreateQueueCommand({ QueueName: 'q1' }));
    expect(QueueUrl).toBe(`${emu.endpoint}/123456789012/q1`);
    await emu.sim.clearRateLimits('sqs', 'ListQueues');
    await expect(emu.aws.sqs.send(new ListQueuesCommand({}))).resolves.toBeDefined();
  });
});

describe('call record', () => {
  it('records JSON bodies and Query form fields, and filters by service, action, seq and fault', async () => {
    await emu.aws.ecs.send(new CreateClusterCommand({ clusterName: 'rec' }));
    await emu.aws.ec2.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 1, MaxCount: 1, InstanceType: 't3.micro' }));
    await emu.sim.setFaults({ service: 'cloudwatch', fault: { kind: 'throttle' }, count: 1 });
    await failure(
      emu.aws.cloudwatch.send(
        new PutMetricAlarmCommand({ AlarmName: 'a', MetricName: 'm', Namespace: 'n', Statistic: 'Average', Period: 60, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: 'GreaterThanThreshold' }),
      ),
    );

    const all = await emu.sim.calls();
    expect(all.map((c) => `${c.service}:${c.action}`)).toEqual(['ecs:CreateCluster', 'ec2:RunInstances', 'monitoring:PutMetricAlarm']);
    expect(all[0].params).toEqual({ clusterName: 'rec' });
    expect(all[1].params).toMatchObject({ ImageId: 'ami-12c6146b', MinCount: '1', MaxCount: '1', InstanceType: 't3.micro', Version: '2016-11-15' });
    expect(all[2].params).toMatchObject({ AlarmName: 'a', Threshold: 1 });
    expect(Date.parse(all[0].time)).not.toBeNaN();

    expect((await emu.sim.calls({ action: 'Run*' })).map((c) => c.action)).toEqual(['RunInstances']);
    expect((await emu.sim.calls({ service: 'cloudwatch' })).map((c) => c.action)).toEqual(['PutMetricAlarm']);
    expect((await emu.sim.calls({ faulted: true })).map((c) => c.action)).toEqual(['PutMetricAlarm']);
    expect((await emu.sim.calls({ faulted: false })).length).toBe(2);
    expect((await emu.sim.calls({ sinceSeq: all[1].seq })).map((c) => c.action)).toEqual(['PutMetricAlarm']);

    await emu.sim.clearCalls();
    expect(await emu.sim.calls()).toEqual([]);
  });
});

describe('control API', () => {
  it('lists and removes rules by id', async () => {
    const [a, b] = await emu.sim.setFaults({ service: 'ecs', fault: { kind: 'throttle' } }, { id: 'mine', service: 'ec2', fault: { kind: 'reset' } });
    expect(b.id).toBe('mine');
    expect((await emu.sim.faults()).map((r) => r.id)).toEqual([a.id, 'mine']);
    await emu.sim.clearFaults('mine');
    expect((await emu.sim.faults()).map((r) => r.id)).toEqual([a.id]);
    await emu.sim.clearFaults();
    expect(await emu.sim.faults()).toEqual([]);
  });

  it('rejects a malformed rule or limit with 400 naming the field', async () => {
    await expect(emu.sim.setFaults({ service: 'ecs', fault: { kind: 'latency', ms: -1 } })).rejects.toThrow(/HTTP 400: rules\.0\.fault\.ms/);
    await expect(emu.sim.setRateLimit({ service: 'ecs', ratePerSec: 0, burst: 1 })).rejects.toThrow(/HTTP 400: ratePerSec/);
    await expect(emu.sim.request('GET', 'nothing-here')).rejects.toThrow(/HTTP 404/);
  });

  it('reports health', async () => {
    expect(await emu.sim.request('GET', 'health')).toMatchObject({ ok: true, moto: `${emu.motoUrl}/` });
  });

  it('reset empties moto and clears rules, limits and the record', async () => {
    await emu.aws.ecs.send(new CreateClusterCommand({ clusterName: 'gone' }));
    await emu.sim.setFaults({ service: 'ec2', fault: { kind: 'throttle' } });
    await emu.sim.setRateLimit({ service: 'ecs', ratePerSec: 1, burst: 5 });
    await emu.sim.reset();
    expect(await emu.sim.faults()).toEqual([]);
    expect(await emu.sim.request('GET', 'rate-limits')).toEqual({ limits: [] });
    expect(await emu.sim.calls()).toEqual([]);
    expect((await emu.aws.ecs.send(new ListClustersCommand({}))).clusterArns).toEqual([]);
    await expect(emu.aws.ec2.send(new DescribeInstancesCommand({}))).resolves.toBeDefined();
  });
});
