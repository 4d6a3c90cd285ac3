import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { parse } from 'yaml';
import { z } from 'zod';
import { EVENT_KINDS, parseEvent } from '../../router/events';
import { detailTypesOf } from '../../router/events/envelope';
import type { PublishedEvent } from '../../simulator/events';
import { deployEventsKit, EVENTS_KIT_TEMPLATE, MEMBER_KIT_TEMPLATE, type EventsKitOutputs } from '../../stack/events-kit';
import { startEmulator } from '../../testkit/emulator';
import { useEmulator } from '../harness/emulator';
import { ROOT } from '../../testkit/paths';
import { iamActionsCalledIn } from './iam-actions';

/**
 * The AWS-side kit (deploy/aws/fleetops-events.yaml): read as a document, it has a rule per event kind
 * the router knows, SSE queues with redrive, a queue policy naming exactly its rules, and IAM policies
 * with exactly the actions the worker, router and CLI call; deployed into moto with CloudFormation,
 * every example event published (AWS's on the default bus, as the simulator's behaviours publish;
 * fleetops' own on the command bus) arrives on
 * the events queue exactly when a rule should match it, as the kind it is, and near misses do not.
 */

jest.setTimeout(120_000);

type Json = Record<string, unknown>;
const template = parse(readFileSync(EVENTS_KIT_TEMPLATE, 'utf8')) as { Resources: Record<string, { Type: string; Properties: Json }>; Outputs: Json };
const resources = Object.entries(template.Resources);
const ofType = (type: string) => resources.filter(([, r]) => r.Type === type);
const rules = ofType('AWS::Events::Rule').map(([id, r]) => ({ id, pattern: r.Properties.EventPattern as { source: string[]; 'detail-type': string[]; detail?: Json }, props: r.Properties }));

const statementSchema = z.object({ Sid: z.string(), Effect: z.literal('Allow'), Action: z.union([z.string(), z.array(z.string())]), Resource: z.unknown() });
/** A statement kept only under a condition (`Fn::If: [condition, statement, AWS::NoValue]`) is read as its statement. */
const unlessConditional = (s: unknown): unknown => (s && typeof s === 'object' && 'Fn::If' in s ? (s as { 'Fn::If': unknown[] })['Fn::If'][1] : s);
const statementsOf = (doc: unknown) => (doc as { Statement: unknown[] }).Statement.map((s) => statementSchema.parse(unlessConditional(s)));
const actions = (s: { Action: string | string[] }) => ([] as string[]).concat(s.Action).sort();
const rolePolicy = (id: string) => statementsOf((template.Resources[id]!.Properties.Policies as { PolicyDocument: unknown }[])[0]!.PolicyDocument);

describe('deploy/aws/fleetops-events.yaml, read as a document', () => {
  it('has one rule per event kind the router knows, each sending to the events queue (with the DLQ for undelivered events)', () => {
    for (const kind of EVENT_KINDS) {
      for (const detailType of detailTypesOf(kind)) {
        const matching = rules.filter((r) => r.pattern.source.includes(kind.source) && r.pattern['detail-type'].includes(detailType));
        expect([kind.kind, detailType, matching.length]).toEqual([kind.kind, detailType, 1]);
      }
    }
    // And no rule for something the router does not know.
    const known = new Set(EVENT_KINDS.flatMap((k) => detailTypesOf(k).map((d) => `${k.source}/${d}`)));
    expect(rules.flatMap((r) => r.pattern.source.flatMap((s) => r.pattern['detail-type'].map((d) => `${s}/${d}`))).filter((k) => !known.has(k))).toEqual([]);
    for (const r of rules) {
      expect(r.props.State).toBe('ENABLED');
      // fleetops' own events on the command bus, AWS's on the default bus.
      expect([r.id, r.props.EventBusName]).toEqual([r.id, r.pattern.source.includes('fleetops') ? { 'Fn::GetAtt': ['CommandBus', 'Name'] } : undefined]);
      expect(r.props.Targets).toEqual([
        { Id: 'fleetops-events', Arn: { 'Fn::GetAtt': ['EventsQueue', 'Arn'] }, DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['EventsDeadLetterQueue', 'Arn'] } } },
      ]);
    }
  });

  it('encrypts both queues, redrives the events queue to the dead-letter queue, and lets only its own rules send', () => {
    for (const id of ['EventsQueue', 'EventsDeadLetterQueue']) expect(template.Resources[id]!.Properties.SqsManagedSseEnabled).toBe(true);
    expect(template.Resources.EventsQueue!.Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': ['EventsDeadLetterQueue', 'Arn'] },
      maxReceiveCount: { Ref: 'MaxReceiveCount' },
    });
    const ruleArns = rules.map((r) => ({ 'Fn::GetAtt': [r.id, 'Arn'] }));
    for (const [policyId, queueId] of [['EventsQueuePolicy', 'EventsQueue'], ['DeadLetterQueuePolicy', 'EventsDeadLetterQueue']] as const) {
      const doc = template.Resources[policyId]!.Properties.PolicyDocument as { Statement: Json[] };
      const allows = doc.Statement.filter((s) => s.Effect === 'Allow');
      expect(allows).toEqual([
        {
          Sid: expect.any(String),
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
          Condition: { ArnEquals: { 'aws:SourceArn': expect.arrayContaining(ruleArns) } },
        },
      ]);
      expect((allows[0]!.Condition as { ArnEquals: { 'aws:SourceArn': unknown[] } }).ArnEquals['aws:SourceArn']).toHaveLength(ruleArns.length);
      expect(doc.Statement.find((s) => s.Sid === 'DenyInsecureTransport')).toMatchObject({ Effect: 'Deny', Principal: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
      // The deny names the same rules as the allow (test/stack/kit-resource-policies.test.ts evaluates it).
      const deny = JSON.stringify(doc.Statement.find((s) => s.Sid === 'NoOtherSender'));
      for (const arn of ruleArns) expect(deny).toContain(JSON.stringify(arn));
    }
    // The lifecycle queue: SSE, redriven to the same dead-letter queue.
    expect(template.Resources.LifecycleQueue!.Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['EventsDeadLetterQueue', 'Arn'] }, maxReceiveCount: { Ref: 'MaxReceiveCount' } },
    });
    for (const policyId of ['EventsQueuePolicy', 'DeadLetterQueuePolicy', 'LifecycleQueuePolicy']) {
      expect([policyId, (template.Resources[policyId]!.Properties.PolicyDocument as { Statement: Json[] }).Statement.map((s) => s.Sid)]).toEqual([
        policyId,
        [expect.any(String), 'NoOtherSender', 'DenyInsecureTransport'],
      ]);
    }
  });

  it("the worker role allows exactly the actions the activities call (plus what CreateFleet's launch needs) and the fleet gauges' prices", () => {
    const statements = rolePolicy('WorkerRole');
    const called = iamActionsCalledIn(['activities', 'common/pricing']);
    // What AWS authorises beside the calls themselves: tags on create, the roles passed, CreateFleet's launch.
    const alongside = ['ec2:CreateTags', 'ec2:RunInstances', 'ecs:TagResource', 'iam:PassRole'];
    const granted = [...new Set(statements.filter((st) => st.Sid !== 'AssumeMemberRoles').flatMap(actions))].sort();
    expect(granted).toEqual([...new Set([...called, ...alongside])].sort());
    // S3 only for the postmortem, only under its prefix of its bucket, only when the stack names one.
    expect(statements.find((st) => st.Sid === 'FleetopsPostmortems')).toMatchObject({ Action: 's3:PutObject' });
    expect(called.filter((a) => a.startsWith('s3:'))).toEqual(['s3:PutObject']);
    const assume = statements.find((st) => st.Sid === 'AssumeMemberRoles');
    // Many accounts: the member roles it is given, and nothing else; its own cluster actions only while it has clusters here.
    expect(assume).toEqual({ Sid: 'AssumeMemberRoles', Effect: 'Allow', Action: 'sts:AssumeRole', Resource: { Ref: 'MemberRoleArns' } });
    const raw = (template.Resources.WorkerRole!.Properties.Policies as { PolicyDocument: { Statement: Json[] } }[])[0]!.PolicyDocument.Statement;
    const conditions = raw.map((st) => (st['Fn::If'] as unknown[] | undefined)?.[0]);
    expect(conditions.slice(-3)).toEqual(['StoresPostmortems', 'HasMemberRoles', undefined]);
    // On-demand prices whatever account the clusters are in: the worker asks with its own credentials.
    expect(raw.at(-1)).toEqual({ Sid: 'FleetopsPriceList', Effect: 'Allow', Action: 'pricing:GetProducts', Resource: '*' });
    // PassesTaskRoles: this account's clusters, and task roles listed.
    expect(new Set(conditions.slice(0, -3))).toEqual(new Set(['ActsInThisAccount', 'PassesTaskRoles']));
  });

  it('admits the member accounts on the default bus, for AWS sources only (every entry of a PutEvents)', () => {
    expect(template.Resources.MemberAccountsBusPolicy).toEqual({
      Type: 'AWS::Events::EventBusPolicy',
      Condition: 'HasMemberAccounts',
      Properties: {
        EventBusName: 'default',
        StatementId: 'fleetops-member-accounts',
        Statement: {
          Effect: 'Allow',
          Principal: { AWS: { Ref: 'MemberAccountIds' } },
          Action: 'events:PutEvents',
          Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default' },
          Condition: { 'ForAllValues:StringLike': { 'events:source': 'aws.*' }, Null: { 'events:source': 'false' } },
        },
      },
    });
  });

  it('the router role allows exactly the SQS actions the router calls: consuming on the events and lifecycle queues, watching on the dead-letter queue', () => {
    const [queue, dlq] = rolePolicy('RouterRole');
    expect([...new Set([...actions(queue!), ...actions(dlq!)])].sort()).toEqual(iamActionsCalledIn(['router', 'common/dead-letter-queue.ts']));
    // The consumer's calls on the events queue, and reading its redrive policy (common/dead-letter-queue.ts).
    expect(actions(queue!)).toEqual([...new Set([...iamActionsCalledIn(['router/sqs-consumer.ts']), 'sqs:GetQueueAttributes'])].sort());
    expect(queue!.Resource).toEqual([{ 'Fn::GetAtt': ['EventsQueue', 'Arn'] }, { 'Fn::GetAtt': ['LifecycleQueue', 'Arn'] }]);
    expect(actions(dlq!)).toEqual(iamActionsCalledIn(['common/dead-letter-queue.ts']));
    expect(dlq!.Resource).toEqual({ 'Fn::GetAtt': ['EventsDeadLetterQueue', 'Arn'] });
  });

  it('the operator policy allows exactly what `fleetops events dlq` calls, and sending to the events queue (a message move acts with the caller\'s permissions)', () => {
    const [statement, destination] = statementsOf(template.Resources.OperatorDeadLetterQueuePolicy!.Properties.PolicyDocument);
    expect(actions(statement!)).toEqual([...new Set([...iamActionsCalledIn(['cli']), ...iamActionsCalledIn(['common/dead-letter-queue.ts'])])].sort());
    expect(actions(destination!)).toEqual(['sqs:SendMessage']);
    expect(destination!.Resource).toEqual([{ 'Fn::GetAtt': ['EventsQueue', 'Arn'] }, { 'Fn::GetAtt': ['LifecycleQueue', 'Arn'] }]);
  });

  it('the operators\' fleet policy allows exactly the Price List call `fleetops fleet` makes', () => {
    const [statement, ...more] = statementsOf(template.Resources.OperatorFleetPolicy!.Properties.PolicyDocument);
    expect(more).toEqual([]);
    expect(actions(statement!)).toEqual(iamActionsCalledIn(['common/pricing']));
    expect(statement!.Resource).toBe('*');
  });

  it('alarms when the dead-letter queue holds a visible message, notifying DeadLetterAlarmTopicArn when one is given', () => {
    const alarm = template.Resources.EventsDeadLetterQueueAlarm!;
    expect(alarm.Type).toBe('AWS::CloudWatch::Alarm');
    expect(alarm.Properties).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['EventsDeadLetterQueue', 'QueueName'] } }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: { 'Fn::If': ['NotifiesDeadLetterAlarm', [{ Ref: 'DeadLetterAlarmTopicArn' }], { Ref: 'AWS::NoValue' }] },
    });
  });
});

describe('deploy/aws/fleetops-member.yaml, read as a document', () => {
  const member = parse(readFileSync(MEMBER_KIT_TEMPLATE, 'utf8')) as { Resources: Record<string, { Type: string; Properties: Json }> };
  const memberRules = Object.entries(member.Resources).filter(([, r]) => r.Type === 'AWS::Events::Rule');

  it('forwards exactly the AWS event kinds, with the central rules own patterns, to the central bus with its role and a dead-letter queue', () => {
    const central = new Map(rules.map((r) => [r.id, r.pattern]));
    const awsRules = rules.filter((r) => r.pattern.source.every((src) => src.startsWith('aws.'))).map((r) => r.id);
    expect(memberRules.map(([id]) => id).sort()).toEqual(awsRules.sort());
    for (const [id, r] of memberRules) {
      expect([id, r.Properties.EventPattern]).toEqual([id, central.get(id)]);
      expect(r.Properties.Targets).toEqual([
        {
          Id: 'fleetops-central',
          Arn: { Ref: 'CentralEventBusArn' },
          RoleArn: { 'Fn::GetAtt': ['ForwardRole', 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['ForwardDeadLetterQueue', 'Arn'] } },
        },
      ]);
    }
    const forward = statementsOf((member.Resources.ForwardRole!.Properties.Policies as { PolicyDocument: unknown }[])[0]!.PolicyDocument);
    expect(forward).toEqual([{ Sid: 'PutOnTheCentralBus', Effect: 'Allow', Action: 'events:PutEvents', Resource: { Ref: 'CentralEventBusArn' } }]);
  });

  it('gives the member role exactly the actions the activities call, assumable by the worker role only, with the external id', () => {
    const role = member.Resources.MemberRole!.Properties;
    const statements = statementsOf((role.Policies as { PolicyDocument: unknown }[])[0]!.PolicyDocument);
    const alongside = ['ec2:CreateTags', 'ec2:RunInstances', 'ecs:TagResource', 'iam:PassRole'];
    const called = iamActionsCalledIn(['activities']).filter((a) => !a.startsWith('s3:'));
    expect([...new Set(statements.flatMap(actions))].sort()).toEqual([...new Set([...called, ...alongside])].sort());
    expect(role.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: { Ref: 'WorkerRoleArn' } },
          Action: 'sts:AssumeRole',
          Condition: { StringEquals: { 'sts:ExternalId': { Ref: 'ExternalId' } }, ArnEquals: { 'aws:PrincipalArn': { Ref: 'WorkerRoleArn' } } },
        },
      ],
    });
  });
});

describe('deploy/aws/fleetops-events.yaml, deployed into moto', () => {
  let sqs: SQSClient;
  let out: EventsKitOutputs;

  // Declared before useEmulator: afterAll hooks run in the order declared, and the client goes before the emulator stops.
  afterAll(() => {
    sqs?.destroy();
  });
  const emu = useEmulator(() => startEmulator(), { resetEach: false });

  beforeAll(async () => {
    sqs = new SQSClient({ region: emu.region, endpoint: emu.endpoint });
    const cfn = new CloudFormationClient({ region: emu.region, endpoint: emu.endpoint });
    try {
      out = await deployEventsKit(cfn, { stackName: 'fleetops-kit-test' });
    } finally {
      cfn.destroy();
    }
  });

  const EXAMPLES = join(ROOT, 'router', 'events', 'examples');
  const examples = readdirSync(EXAMPLES)
    .filter((f) => f.endsWith('.json'))
    .map((f) => ({ kind: f.replace(/\.json$/, ''), event: JSON.parse(readFileSync(join(EXAMPLES, f), 'utf8')) as Json & { detail: Json; resources: string[] } }));

  const nearMisses: { why: string; source: string; detailType: string; detail: Json; bus?: string }[] = [
    { why: 'another EC2 detail-type', source: 'aws.ec2', detailType: 'EC2 Spot Instance Request Fulfillment', detail: { 'instance-id': 'i-1234567890abcdef0' } },
    { why: 'an instance pending', source: 'aws.ec2', detailType: 'EC2 Instance State-change Notification', detail: { 'instance-id': 'i-1234567890abcdef0', state: 'pending' } },
    { why: 'a Health event of another service', source: 'aws.health', detailType: 'AWS Health Event', detail: { service: 'RDS', eventTypeCategory: 'scheduledChange', eventTypeCode: 'AWS_RDS_MAINTENANCE_SCHEDULED' } },
    { why: 'an EC2 Health issue, not a scheduled change', source: 'aws.health', detailType: 'AWS Health Event', detail: { service: 'EC2', eventTypeCategory: 'issue', eventTypeCode: 'AWS_EC2_OPERATIONAL_ISSUE' } },
    { why: 'an ASG launch that succeeded', source: 'aws.autoscaling', detailType: 'EC2 Instance Launch Successful', detail: { AutoScalingGroupName: 'my-asg' } },
    { why: 'an alarm changing its configuration', source: 'aws.cloudwatch', detailType: 'CloudWatch Alarm Configuration Change', detail: { alarmName: 'x' } },
    { why: 'an ECS task state change', source: 'aws.ecs', detailType: 'ECS Task State Change', detail: { lastStatus: 'RUNNING' } },
    { why: 'an application copying a spot warning', source: 'my.app', detailType: 'EC2 Spot Instance Interruption Warning', detail: { 'instance-id': 'i-1234567890abcdef0', 'instance-action': 'terminate' } },
    { why: 'a fleetops detail-type the router does not know', source: 'fleetops', detailType: 'Deploy Finished', detail: { cluster: 'demo' } },
    { why: 'a Deploy Requested on the default bus (commands go to the command bus)', source: 'fleetops', detailType: 'Deploy Requested', detail: { cluster: 'demo', service: 'web', image: 'x:1' }, bus: 'default' },
  ];

  /** As the simulator publishes AWS's events (the default bus) and an operator fleetops' own (the command bus). */
  const publish = (source: string, detailType: string, detail: Json, resources: string[] = [], bus?: string) =>
    emu.sim
      .request<{ event: PublishedEvent }>('POST', 'events', { source, detailType, detail, resources, eventBusName: bus ?? (source === 'fleetops' ? out.CommandBusName : 'default') })
      .then((r) => r.event);

  it('every example event arrives on the queue as its kind; no near miss does; nothing reaches the dead-letter queue', async () => {
    const missed = await Promise.all(nearMisses.map((n) => publish(n.source, n.detailType, n.detail, [], n.bus)));
    expect(missed.every((e) => e.delivered)).toBe(true);
    const sent = [];
    for (const { kind, event } of examples) sent.push({ kind, published: await publish(event.source as string, event['detail-type'] as string, event.detail, event.resources) });

    const bodies: Json[] = [];
    for (let i = 0; i < 50 && bodies.length < sent.length; i++) {
      const res = await sqs.send(new ReceiveMessageCommand({ QueueUrl: out.EventsQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      bodies.push(...(res.Messages ?? []).map((m) => JSON.parse(m.Body!) as Json));
    }
    // Delivered in the order published (moto delivers within PutEvents): had a near miss matched a rule,
    // it would be on the queue before the examples.
    expect(bodies.map((b) => b.id)).toEqual(sent.map((s) => s.published.id));
    for (const [i, body] of bodies.entries()) {
      const parsed = parseEvent(body);
      expect({ kind: sent[i]!.kind, parsed: parsed.ok ? parsed.event.kind : parsed.error }).toEqual({ kind: sent[i]!.kind, parsed: sent[i]!.kind });
    }
    const dlq = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: out.DeadLetterQueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
    expect(dlq.Attributes?.ApproximateNumberOfMessages).toBe('0');
  });

  it('creates the CloudWatch alarm on the dead-letter queue: visible messages above 0, named in the outputs', async () => {
    const cw = new CloudWatchClient({ region: emu.region, endpoint: emu.endpoint });
    try {
      const name = out.DeadLetterQueueAlarmName;
      expect(name).toBe('fleetops-kit-test-events-dlq-not-empty');
      const [alarm] = (await cw.send(new DescribeAlarmsCommand({ AlarmNames: [name] }))).MetricAlarms ?? [];
      expect(alarm).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: 'fleetops-kit-test-events-dlq' }],
        Statistic: 'Maximum',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
      });
      expect(alarm!.AlarmActions ?? []).toEqual([]);
      expect(out.DeadLetterQueueUrl.endsWith('/fleetops-kit-test-events-dlq')).toBe(true);
    } finally {
      cw.destroy();
    }
  });

  it('creates the queues with SSE and the redrive policy the router reads', async () => {
    const attrs = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: out.EventsQueueUrl, AttributeNames: ['All'] }))).Attributes!;
    expect(attrs).toMatchObject({ SqsManagedSseEnabled: 'true', VisibilityTimeout: '30', MessageRetentionPeriod: '86400' });
    expect(JSON.parse(attrs.RedrivePolicy!)).toEqual({ deadLetterTargetArn: out.EventsQueueArn.replace(/events$/, 'events-dlq'), maxReceiveCount: 5 });
    expect(out.WorkerRoleArn).toMatch(/^arn:aws:iam::123456789012:role\/fleetops-kit-test-worker$/);
    const lifecycle = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: out.LifecycleQueueUrl, AttributeNames: ['All'] }))).Attributes!;
    expect(lifecycle).toMatchObject({ SqsManagedSseEnabled: 'true', QueueArn: out.LifecycleQueueArn });
    expect(JSON.parse(lifecycle.RedrivePolicy!)).toEqual({ deadLetterTargetArn: out.EventsQueueArn.replace(/events$/, 'events-dlq'), maxReceiveCount: 5 });
    expect(out.CommandBusName).toBe('fleetops-kit-test-commands');
  });
});
