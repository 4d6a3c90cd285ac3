import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloudFormationClient, CreateStackCommand, DescribeStacksCommand, type Stack } from '@aws-sdk/client-cloudformation';
import { ROOT } from './settings';

/**
 * Deploys the AWS-side kit (deploy/aws/fleetops-events.yaml) with CloudFormation, the way a user
 * deploys it into their account, and returns its outputs. The local stack deploys it into the
 * emulator (moto runs CloudFormation, EventBridge rules and SQS delivery), so the events path there is
 * the production one: the simulator publishes to EventBridge, the rules deliver to the queue, the
 * router consumes it.
 */
export const EVENTS_KIT_TEMPLATE = join(ROOT, 'deploy', 'aws', 'fleetops-events.yaml');
/** The member-account part (one fleetops for many accounts): rules forwarding to the central bus, the member role. */
export const MEMBER_KIT_TEMPLATE = join(ROOT, 'deploy', 'aws', 'fleetops-member.yaml');

export interface MemberKitOutputs {
  MemberRoleArn: string;
  ForwardDeadLetterQueueUrl: string;
}

export interface EventsKitOutputs {
  EventsQueueUrl: string;
  EventsQueueArn: string;
  LifecycleQueueUrl: string;
  LifecycleQueueArn: string;
  LifecycleNotificationRoleArn: string;
  CommandBusName: string;
  CommandBusArn: string;
  DeadLetterQueueUrl: string;
  WorkerRoleArn: string;
  RouterRoleArn: string;
  OperatorPolicyArn: string;
  OperatorFleetPolicyArn: string;
  DeadLetterQueueAlarmName: string;
}

export interface EventsKitOptions {
  stackName: string;
  /** Template parameters (VisibilityTimeout, MaxReceiveCount, ...); the template's defaults otherwise. */
  parameters?: Record<string, string>;
  timeoutMs?: number;
}

export async function deployEventsKit(cfn: CloudFormationClient, opts: EventsKitOptions): Promise<EventsKitOutputs> {
  return deployStack(cfn, EVENTS_KIT_TEMPLATE, opts, [
    'EventsQueueUrl',
    'EventsQueueArn',
    'LifecycleQueueUrl',
    'LifecycleQueueArn',
    'LifecycleNotificationRoleArn',
    'CommandBusName',
    'CommandBusArn',
    'DeadLetterQueueUrl',
    'WorkerRoleArn',
    'RouterRoleArn',
    'OperatorPolicyArn',
    'OperatorFleetPolicyArn',
    'DeadLetterQueueAlarmName',
  ]);
}

/** deploy/aws/fleetops-member.yaml, with `cfn` acting in the member account. */
export async function deployMemberKit(cfn: CloudFormationClient, opts: EventsKitOptions): Promise<MemberKitOutputs> {
  return deployStack(cfn, MEMBER_KIT_TEMPLATE, opts, ['MemberRoleArn', 'ForwardDeadLetterQueueUrl']);
}

async function deployStack<T>(cfn: CloudFormationClient, template: string, opts: EventsKitOptions, required: (keyof T & string)[]): Promise<T> {
  await cfn.send(
    new CreateStackCommand({
      StackName: opts.stackName,
      TemplateBody: readFileSync(template, 'utf8'),
      Capabilities: ['CAPABILITY_NAMED_IAM'],
      Parameters: Object.entries(opts.parameters ?? {}).map(([ParameterKey, ParameterValue]) => ({ ParameterKey, ParameterValue })),
    }),
  );
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let stack: Stack | undefined;
  for (;;) {
    stack = (await cfn.send(new DescribeStacksCommand({ StackName: opts.stackName }))).Stacks?.[0];
    const status = stack?.StackStatus ?? '';
    if (status === 'CREATE_COMPLETE') break;
    if (!status.endsWith('_IN_PROGRESS')) throw new Error(`stack ${opts.stackName}: ${status} ${stack?.StackStatusReason ?? ''}`.trim());
    if (Date.now() > deadline) throw new Error(`stack ${opts.stackName} still ${status} after ${opts.timeoutMs ?? 60_000} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const outputs = Object.fromEntries((stack?.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
  for (const key of required) {
    if (!outputs[key]) throw new Error(`stack ${opts.stackName} has no output ${key}`);
  }
  return outputs as unknown as T;
}
