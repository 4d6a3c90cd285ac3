import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { EVENTS_KIT_TEMPLATE, MEMBER_KIT_TEMPLATE } from '../../stack/events-kit';
import { resolveTemplate } from './cfn-resolve';

/**
 * The kit's resource policies (queue policies, the bus policies, the member role's trust), resolved
 * with the stack's parameters and evaluated by a real IAM policy evaluator (@cloud-copilot/iam-simulate),
 * identity policy and resource policy together, as AWS evaluates a request in one account
 * ("Policy evaluation logic", IAM User Guide): who may send to the queues and buses, and who not.
 */

const ACCOUNT = '123456789012';
const MEMBER = '210987654321';
const REGION = 'us-east-1';
const STACK = 'fleetops';
const OPERATOR = `arn:aws:iam::${ACCOUNT}:role/fleetops-operator`;
const APP = `arn:aws:iam::${ACCOUNT}:role/some-application`;

type Policy = { Version: string; Statement: unknown[] };
const allowAll = (action: string): Policy => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: '*' }] });

/** `Allowed`, `ExplicitlyDenied` or `ImplicitlyDenied`, or the evaluator's complaint about the inputs. */
async function decide(req: {
  principal: string;
  action: string;
  resource: string;
  resourceAccount?: string;
  context?: Record<string, string | string[]>;
  identityPolicy?: Policy;
  resourcePolicy: unknown;
}): Promise<string> {
  const principalArn: Record<string, string> = req.principal.startsWith('arn:') ? { 'aws:PrincipalArn': req.principal } : {};
  const simulation: Simulation = {
    request: {
      principal: req.principal,
      action: req.action,
      resource: { resource: req.resource, accountId: req.resourceAccount ?? ACCOUNT },
      contextVariables: { 'aws:SecureTransport': 'true', ...principalArn, ...req.context },
    },
    identityPolicies: req.identityPolicy ? [{ name: 'identity', policy: req.identityPolicy }] : [],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: req.resourcePolicy,
  };
  const result = await runSimulation(simulation, {});
  return result.resultType === 'error' ? `error: ${JSON.stringify(result.errors)}` : result.overallResult;
}

const kit = (parameters: Record<string, string> = {}) => resolveTemplate(EVENTS_KIT_TEMPLATE, { stackName: STACK, account: ACCOUNT, region: REGION, parameters });
const withoutDenies = (doc: Policy, sid: string): Policy => ({ ...doc, Statement: doc.Statement.filter((s) => (s as { Sid?: string }).Sid !== sid) });

describe('the queues refuse every sender but their own', () => {
  const send = (queueArn: string, resourcePolicy: unknown, who: { principal: string; identityPolicy?: Policy; context?: Record<string, string> }) =>
    decide({ action: 'sqs:SendMessage', resource: queueArn, resourcePolicy, ...who });

  it.each([
    ['EventsQueuePolicy', 'EventsQueue'],
    ['DeadLetterQueuePolicy', 'EventsDeadLetterQueue'],
  ])('%s: the stack\'s rules may send; a principal of the account whose own policy allows sqs:SendMessage may not, nor a rule of another stack', async (policyId, queueId) => {
    const t = kit();
    const queue = t.arn(queueId);
    const policy = t.property(policyId, ['PolicyDocument']) as Policy;
    const rule = t.arn('SpotInterruptionWarningRule');
    const commandRule = t.arn('DeployRequestedRule');
    expect(commandRule).toBe(`arn:aws:events:${REGION}:${ACCOUNT}:rule/${STACK}-commands/${STACK}-DeployRequestedRule`);
    const eventBridge = (sourceArn: string) => ({ principal: 'events.amazonaws.com', context: { 'aws:SourceArn': sourceArn, 'aws:SourceAccount': ACCOUNT } });
    expect(await send(queue, policy, eventBridge(rule))).toBe('Allowed');
    expect(await send(queue, policy, eventBridge(commandRule))).toBe('Allowed');
    expect(await send(queue, policy, eventBridge(`arn:aws:events:${REGION}:${ACCOUNT}:rule/someone-elses-rule`))).toBe('ExplicitlyDenied');
    // The forgery: an application role of the same account, allowed by its own identity policy.
    expect(await send(queue, policy, { principal: APP, identityPolicy: allowAll('sqs:SendMessage') })).toBe('ExplicitlyDenied');
    // ... which the allow alone would let through (same account: identity policy or resource policy).
    expect(await send(queue, withoutDenies(policy, 'NoOtherSender'), { principal: APP, identityPolicy: allowAll('sqs:SendMessage') })).toBe('Allowed');
  });

  it('the operators (OperatorPrincipalArns) may still send to the events queue, for the dead-letter replay; others stay refused', async () => {
    const t = kit({ OperatorPrincipalArns: OPERATOR });
    const policy = t.property('EventsQueuePolicy', ['PolicyDocument']) as Policy;
    expect(await send(t.arn('EventsQueue'), policy, { principal: OPERATOR, identityPolicy: allowAll('sqs:SendMessage') })).toBe('Allowed');
    expect(await send(t.arn('EventsQueue'), policy, { principal: APP, identityPolicy: allowAll('sqs:SendMessage') })).toBe('ExplicitlyDenied');
  });

  it('the lifecycle queue: only Auto Scaling through the notification role (and the operators) may send', async () => {
    for (const parameters of [{}, { OperatorPrincipalArns: OPERATOR }] as Record<string, string>[]) {
      const t = kit(parameters);
      const queue = t.arn('LifecycleQueue');
      const policy = t.property('LifecycleQueuePolicy', ['PolicyDocument']) as Policy;
      const role = t.arn('LifecycleNotificationRole');
      const rolePolicy = (t.property('LifecycleNotificationRole', ['Policies']) as { PolicyDocument: Policy }[])[0]!.PolicyDocument;
      expect(await send(queue, policy, { principal: role, identityPolicy: rolePolicy })).toBe('Allowed');
      expect(await send(queue, policy, { principal: APP, identityPolicy: allowAll('sqs:SendMessage') })).toBe('ExplicitlyDenied');
      expect(await send(queue, policy, { principal: OPERATOR, identityPolicy: allowAll('sqs:SendMessage') })).toBe('OperatorPrincipalArns' in parameters ? 'Allowed' : 'ExplicitlyDenied');
    }
  });
});

describe("fleetops' own events: the command bus", () => {
  const put = (t: ReturnType<typeof kit>, principal: string, identityPolicy?: Policy) =>
    decide({ principal, action: 'events:PutEvents', resource: t.arn('CommandBus'), resourcePolicy: t.property('CommandBus', ['Policy']), identityPolicy, context: { 'events:source': ['fleetops'], 'events:detail-type': ['Deploy Requested'] } });

  it('only the principals the stack names may send; a principal of the account whose own policy allows events:PutEvents may not', async () => {
    const t = kit({ OperatorPrincipalArns: OPERATOR });
    expect(await put(t, OPERATOR, allowAll('events:PutEvents'))).toBe('Allowed');
    expect(await put(t, APP, allowAll('events:PutEvents'))).toBe('ExplicitlyDenied');
    const crossAccountOperator = `arn:aws:iam::${MEMBER}:role/ops`;
    expect(await put(kit({ OperatorPrincipalArns: `${OPERATOR},${crossAccountOperator}` }), crossAccountOperator, allowAll('events:PutEvents'))).toBe('Allowed');
  });

  it('with no operators named, nobody sends commands through EventBridge', async () => {
    expect(await put(kit(), OPERATOR, allowAll('events:PutEvents'))).toBe('ExplicitlyDenied');
  });
});

describe('the central default bus admits member accounts for AWS sources only (events:source is multivalued)', () => {
  const forwarder = `arn:aws:iam::${MEMBER}:role/fleetops-member-forward`;
  const t = kit({ MemberAccountIds: MEMBER });
  const statement = t.property('MemberAccountsBusPolicy', ['Statement']) as Record<string, unknown>;
  const policy = { Version: '2012-10-17', Statement: [statement] };
  const put = (sources: string[] | undefined, resourcePolicy: unknown = policy) =>
    decide({
      principal: forwarder,
      action: 'events:PutEvents',
      resource: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default`,
      resourcePolicy,
      identityPolicy: allowAll('events:PutEvents'),
      context: sources ? { 'events:source': sources } : {},
    });

  it('a call whose entries are all aws.* is allowed; one fleetops entry among them refuses the whole call; no source at all is refused', async () => {
    expect(await put(['aws.ec2'])).toBe('Allowed');
    expect(await put(['aws.ec2', 'aws.autoscaling'])).toBe('Allowed');
    expect(await put(['aws.ec2', 'fleetops'])).toBe('ImplicitlyDenied');
    expect(await put(['fleetops'])).toBe('ImplicitlyDenied');
    expect(await put(undefined)).toBe('ImplicitlyDenied');
  });

  it('the Null guard is what refuses a request without events:source (ForAllValues alone is true for an absent key)', async () => {
    const { Null: _null, ...withoutGuard } = statement.Condition as Record<string, unknown>;
    expect(await put(undefined, { Version: '2012-10-17', Statement: [{ ...statement, Condition: withoutGuard }] })).toBe('Allowed');
  });
});

describe("the member role's trust", () => {
  const worker = `arn:aws:iam::${ACCOUNT}:role/fleetops-worker`;
  const member = (workerRoleArn: string) =>
    resolveTemplate(MEMBER_KIT_TEMPLATE, {
      stackName: 'fleetops-member',
      account: MEMBER,
      region: REGION,
      parameters: { CentralEventBusArn: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default`, WorkerRoleArn: workerRoleArn, ExternalId: 'the-external-id' },
    });
  const assume = (workerRoleArn: string, principal: string) =>
    decide({
      principal,
      action: 'sts:AssumeRole',
      resource: `arn:aws:iam::${MEMBER}:role/fleetops-member`,
      resourceAccount: MEMBER,
      resourcePolicy: member(workerRoleArn).property('MemberRole', ['AssumeRolePolicyDocument']),
      identityPolicy: allowAll('sts:AssumeRole'),
      context: { 'sts:ExternalId': 'the-external-id' },
    });

  it('admits the worker role with the external id, and no other role of the central account', async () => {
    expect(await assume(worker, worker)).toBe('Allowed');
    expect(await assume(worker, `arn:aws:iam::${ACCOUNT}:role/another-role`)).toBe('ImplicitlyDenied');
  });

  it('WorkerRoleArn must be a role ARN: the parameter refuses an account root, and a root given anyway admits nobody but the worker role', async () => {
    const { readFileSync } = await import('node:fs');
    const { parse } = await import('yaml');
    const pattern = new RegExp((parse(readFileSync(MEMBER_KIT_TEMPLATE, 'utf8')) as { Parameters: Record<string, { AllowedPattern: string }> }).Parameters.WorkerRoleArn!.AllowedPattern);
    expect(pattern.test(worker)).toBe(true);
    expect(pattern.test('arn:aws-cn:iam::123456789012:role/path/fleetops-worker')).toBe(true);
    expect(pattern.test(`arn:aws:iam::${ACCOUNT}:root`)).toBe(false);
    expect(pattern.test(`arn:aws:iam::${ACCOUNT}:user/someone`)).toBe(false);
    expect(pattern.test(ACCOUNT)).toBe(false);
    // The trust's aws:PrincipalArn condition: a root in Principal would admit the whole account; the condition still does not.
    expect(await assume(`arn:aws:iam::${ACCOUNT}:root`, `arn:aws:iam::${ACCOUNT}:role/another-role`)).toBe('ImplicitlyDenied');
  });
});
