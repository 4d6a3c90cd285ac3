import { CreateAutoScalingGroupCommand, DescribeAutoScalingGroupsCommand, TerminateInstanceInAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeAlarmsCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeInstancesCommand, RunInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeServicesCommand, ListClustersCommand } from '@aws-sdk/client-ecs';
import { DescribeLoadBalancersCommand, DescribeTargetGroupsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetQueueUrlCommand, ListQueuesCommand } from '@aws-sdk/client-sqs';
import { ApplicationFailure } from '@temporalio/common';
import { createAwsClients } from '../../activities/aws/clients';
import { awsCall, classifyAwsError } from '../../activities/aws/errors';
import { FailureType, NON_RETRYABLE_FAILURE_TYPES, type FailureTypeName } from '../../common/failures';
import { freePort } from '../../simulator/moto';
import type { FaultRuleInput } from '../../simulator/faults';
import { startEmulator } from '../../testkit/emulator';
import { useEmulator } from '../harness/emulator';

/**
 * The error classifier against real SDK errors: moto's own errors where moto produces the class
 * (validation, not-found), simulator faults in each service's wire shape where it cannot (throttling,
 * 5xx, resets, access denied, capacity). Each must become the ApplicationFailure type workflows
 * branch on, retryable exactly when Temporal should retry it.
 */

const emu = useEmulator(() => startEmulator());

async function classified(action: string, fn: () => Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await awsCall(action, fn);
  } catch (err) {
    expect(err).toBeInstanceOf(ApplicationFailure);
    return err as ApplicationFailure;
  }
  throw new Error(`${action} was expected to fail`);
}

function expectFailure(f: ApplicationFailure, type: FailureTypeName, code: string | RegExp, httpStatus: number | null) {
  expect(f.type).toBe(type);
  expect(f.nonRetryable).toBe(NON_RETRYABLE_FAILURE_TYPES.includes(type));
  const [details] = f.details as [{ action: string; code: string; httpStatus: number | null }];
  expect(details.code).toMatch(code);
  expect(details.httpStatus).toBe(httpStatus);
  expect(f.message).toContain(details.action);
}

interface InjectedCase {
  name: string;
  fault: FaultRuleInput;
  action: string;
  call: () => Promise<unknown>;
  type: FailureTypeName;
  code: string | RegExp;
  httpStatus: number | null;
}

const injected: InjectedCase[] = [
  // Throttled: retryable, in every wire protocol.
  { name: 'ECS ThrottlingException', fault: { service: 'ecs', fault: { kind: 'throttle' } }, action: 'ecs:ListClusters', call: () => emu.aws.ecs.send(new ListClustersCommand({})), type: FailureType.AwsThrottled, code: 'ThrottlingException', httpStatus: 400 },
  { name: 'SQS ThrottlingException', fault: { service: 'sqs', fault: { kind: 'throttle' } }, action: 'sqs:ListQueues', call: () => emu.aws.sqs.send(new ListQueuesCommand({})), type: FailureType.AwsThrottled, code: 'ThrottlingException', httpStatus: 400 },
  { name: 'CloudWatch ThrottlingException', fault: { service: 'cloudwatch', fault: { kind: 'throttle' } }, action: 'cloudwatch:DescribeAlarms', call: () => emu.aws.cloudwatch.send(new DescribeAlarmsCommand({})), type: FailureType.AwsThrottled, code: 'ThrottlingException', httpStatus: 400 },
  { name: 'EC2 RequestLimitExceeded (503)', fault: { service: 'ec2', fault: { kind: 'throttle' } }, action: 'ec2:DescribeInstances', call: () => emu.aws.ec2.send(new DescribeInstancesCommand({})), type: FailureType.AwsThrottled, code: 'RequestLimitExceeded', httpStatus: 503 },
  { name: 'Auto Scaling Throttling', fault: { service: 'autoscaling', fault: { kind: 'throttle' } }, action: 'autoscaling:DescribeAutoScalingGroups', call: () => emu.aws.autoscaling.send(new DescribeAutoScalingGroupsCommand({})), type: FailureType.AwsThrottled, code: 'Throttling', httpStatus: 400 },
  { name: 'ELBv2 Throttling', fault: { service: 'elbv2', fault: { kind: 'throttle' } }, action: 'elbv2:DescribeLoadBalancers', call: () => emu.aws.elbv2.send(new DescribeLoadBalancersCommand({})), type: FailureType.AwsThrottled, code: 'Throttling', httpStatus: 400 },
  // 5xx: retryable.
  { name: 'ECS 500', fault: { service: 'ecs', fault: { kind: 'error', status: 500 } }, action: 'ecs:ListClusters', call: () => emu.aws.ecs.send(new ListClustersCommand({})), type: FailureType.AwsUnavailable, code: 'InternalFailure', httpStatus: 500 },
  { name: 'EC2 503 Unavailable', fault: { service: 'ec2', fault: { kind: 'error', status: 503 } }, action: 'ec2:DescribeInstances', call: () => emu.aws.ec2.send(new DescribeInstancesCommand({})), type: FailureType.AwsUnavailable, code: 'Unavailable', httpStatus: 503 },
  { name: 'ELBv2 503 ServiceUnavailable', fault: { service: 'elbv2', fault: { kind: 'error', status: 503 } }, action: 'elbv2:DescribeLoadBalancers', call: () => emu.aws.elbv2.send(new DescribeLoadBalancersCommand({})), type: FailureType.AwsUnavailable, code: 'ServiceUnavailable', httpStatus: 503 },
  { name: 'a 502 with a code the classifier does not know', fault: { service: 'sqs', fault: { kind: 'error', status: 502, code: 'BadGateway' } }, action: 'sqs:ListQueues', call: () => emu.aws.sqs.send(new ListQueuesCommand({})), type: FailureType.AwsUnavailable, code: 'BadGateway', httpStatus: 502 },
  // Network: retryable.
  { name: 'connection reset', fault: { service: 'ecs', fault: { kind: 'reset' } }, action: 'ecs:ListClusters', call: () => emu.aws.ecs.send(new ListClustersCommand({})), type: FailureType.AwsNetwork, code: /.+/, httpStatus: null },
  // Busy (Auto Scaling, while a scaling activity runs): not now, not never. Retryable.
  {
    name: 'Auto Scaling ScalingActivityInProgress on TerminateInstanceInAutoScalingGroup',
    fault: { service: 'autoscaling', action: 'TerminateInstanceInAutoScalingGroup', fault: { kind: 'error', status: 400, code: 'ScalingActivityInProgress', message: 'Scaling activities in progress.' } },
    action: 'autoscaling:TerminateInstanceInAutoScalingGroup',
    call: () => emu.aws.autoscaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: 'i-0123456789abcdef0', ShouldDecrementDesiredCapacity: true })),
    type: FailureType.AwsUnavailable,
    code: 'ScalingActivityInProgress',
    httpStatus: 400,
  },
  // Access denied: not retryable.
  { name: 'ECS AccessDeniedException', fault: { service: 'ecs', fault: { kind: 'error', status: 400, code: 'AccessDeniedException' } }, action: 'ecs:ListClusters', call: () => emu.aws.ecs.send(new ListClustersCommand({})), type: FailureType.AwsAccessDenied, code: 'AccessDeniedException', httpStatus: 400 },
  { name: 'EC2 UnauthorizedOperation', fault: { service: 'ec2', action: 'TerminateInstances', fault: { kind: 'error', status: 403, code: 'UnauthorizedOperation' } }, action: 'ec2:TerminateInstances', call: () => emu.aws.ec2.send(new TerminateInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] })), type: FailureType.AwsAccessDenied, code: 'UnauthorizedOperation', httpStatus: 403 },
  { name: 'Auto Scaling AccessDenied', fault: { service: 'autoscaling', fault: { kind: 'error', status: 403, code: 'AccessDenied' } }, action: 'autoscaling:DescribeAutoScalingGroups', call: () => emu.aws.autoscaling.send(new DescribeAutoScalingGroupsCommand({})), type: FailureType.AwsAccessDenied, code: 'AccessDenied', httpStatus: 403 },
  // Capacity: not retryable (the workflow falls back to the next pool), even though EC2 sends it as a 500.
  {
    name: 'EC2 InsufficientInstanceCapacity on RunInstances',
    fault: { service: 'ec2', action: 'RunInstances', fault: { kind: 'error', status: 500, code: 'InsufficientInstanceCapacity', message: 'We currently do not have sufficient m5.large capacity in the Availability Zone you requested (us-east-1a).' } },
    action: 'ec2:RunInstances',
    call: () => emu.aws.ec2.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 1, MaxCount: 1, InstanceType: 'm5.large' })),
    type: FailureType.AwsCapacityUnavailable,
    code: 'InsufficientInstanceCapacity',
    httpStatus: 500,
  },
  { name: 'EC2 SpotMaxPriceTooLow', fault: { service: 'ec2', action: 'RunInstances', fault: { kind: 'error', status: 400, code: 'SpotMaxPriceTooLow' } }, action: 'ec2:RunInstances', call: () => emu.aws.ec2.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 1, MaxCount: 1 })), type: FailureType.AwsCapacityUnavailable, code: 'SpotMaxPriceTooLow', httpStatus: 400 },
  // Validation and unknown 4xx: not retryable.
  { name: 'ECS InvalidParameterException', fault: { service: 'ecs', fault: { kind: 'error', status: 400, code: 'InvalidParameterException' } }, action: 'ecs:ListClusters', call: () => emu.aws.ecs.send(new ListClustersCommand({})), type: FailureType.AwsValidation, code: 'InvalidParameterException', httpStatus: 400 },
  { name: 'an unknown 4xx code', fault: { service: 'elbv2', fault: { kind: 'error', status: 409, code: 'ResourceInUse' } }, action: 'elbv2:DescribeLoadBalancers', call: () => emu.aws.elbv2.send(new DescribeLoadBalancersCommand({})), type: FailureType.AwsRejected, code: 'ResourceInUse', httpStatus: 409 },
];

describe('faults the simulator injects', () => {
  it.each(injected)('$name → $type', async (c) => {
    await emu.sim.setFaults(c.fault);
    expectFailure(await classified(c.action, c.call), c.type, c.code, c.httpStatus);
    expect(await emu.sim.calls({ faulted: true })).toHaveLength(1);
  });

  it('a rate-limited service → AwsThrottled', async () => {
    await emu.sim.setRateLimit({ service: 'ecs', ratePerSec: 0.001, burst: 1 });
    await awsCall('ecs:ListClusters', () => emu.aws.ecs.send(new ListClustersCommand({})));
    expectFailure(await classified('ecs:ListClusters', () => emu.aws.ecs.send(new ListClustersCommand({}))), FailureType.AwsThrottled, 'ThrottlingException', 400);
  });
});

describe('errors moto itself returns', () => {
  it('validation: Auto Scaling ValidationError → AwsValidation', async () => {
    const f = await classified('autoscaling:CreateAutoScalingGroup', () =>
      emu.aws.autoscaling.send(new CreateAutoScalingGroupCommand({ AutoScalingGroupName: 'no-template', MinSize: 0, MaxSize: 1 })),
    );
    expectFailure(f, FailureType.AwsValidation, 'ValidationError', 400);
  });

  it.each([
    ['ECS ClusterNotFoundException', 'ecs:DescribeServices', () => emu.aws.ecs.send(new DescribeServicesCommand({ cluster: 'missing', services: ['web'] })), 'ClusterNotFoundException', 400],
    ['EC2 InvalidInstanceID.NotFound', 'ec2:TerminateInstances', () => emu.aws.ec2.send(new TerminateInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] })), 'InvalidInstanceID.NotFound', 400],
    ['SQS QueueDoesNotExist', 'sqs:GetQueueUrl', () => emu.aws.sqs.send(new GetQueueUrlCommand({ QueueName: 'missing' })), 'QueueDoesNotExist', 400],
    ['CloudWatch ResourceNotFound', 'cloudwatch:SetAlarmState', () => emu.aws.cloudwatch.send(new SetAlarmStateCommand({ AlarmName: 'missing', StateValue: 'ALARM', StateReason: 'test' })), 'ResourceNotFound', 404],
    [
      'ELBv2 TargetGroupNotFoundException',
      'elbv2:DescribeTargetGroups',
      () => emu.aws.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: ['arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/missing/0123456789abcdef'] })),
      'TargetGroupNotFoundException',
      400,
    ],
  ] as const)('not found: %s → AwsNotFound', async (_name, action, call, code, status) => {
    expectFailure(await classified(action, call), FailureType.AwsNotFound, code, status);
  });
});

describe('network errors without the simulator', () => {
  it('connection refused → AwsNetwork, retryable', async () => {
    const closedPort = await freePort();
    const aws = createAwsClients({ region: 'us-east-1', endpoint: `http://127.0.0.1:${closedPort}` });
    try {
      const f = await classified('ecs:ListClusters', () => aws.ecs.send(new ListClustersCommand({})));
      expectFailure(f, FailureType.AwsNetwork, /.+/, null);
      expect(f.message).toMatch(/ECONNREFUSED/);
    } finally {
      aws.destroy();
    }
  });
});

describe("Node's own network error shape", () => {
  // What the SDK rethrows outside jest for a reset (under jest it is rewrapped: see test/simulator).
  it('reports the Node code of a reset the SDK names TimeoutError', () => {
    const reset = Object.assign(new Error('read ECONNRESET'), { name: 'TimeoutError', code: 'ECONNRESET', $metadata: { attempts: 1 } });
    expect(classifyAwsError(reset)).toEqual({ type: FailureType.AwsNetwork, retryable: true, code: 'ECONNRESET', httpStatus: undefined });
  });
});

describe('errors from our own code', () => {
  it('a TypeError thrown inside an AWS step is a bug, not a retryable network error', async () => {
    const f = await classified('ec2:DescribeInstances', async () => {
      const reservations = undefined as unknown as { Instances: unknown[] }[];
      return reservations[0]!.Instances;
    });
    expect(f.type).toBe(FailureType.FleetopsBug);
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toMatch(/^ec2:DescribeInstances: TypeError/);
  });

  it('a TypeError whose cause is a reset connection stays a network error', () => {
    const failed = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) });
    expect(classifyAwsError(failed)).toMatchObject({ type: FailureType.AwsNetwork, retryable: true });
  });
});
