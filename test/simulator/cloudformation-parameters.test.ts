import { readFileSync } from 'node:fs';
import { CloudFormationClient, CreateStackCommand, DescribeStacksCommand, UpdateStackCommand } from '@aws-sdk/client-cloudformation';
import { MEMBER_KIT_TEMPLATE } from '../../stack/events-kit';
import { actingIn, MEMBER_ACCOUNT } from '../harness/accounts';
import { startEmulator } from '../../testkit/emulator';
import { useEmulator } from '../harness/emulator';

/**
 * The simulator's check of CloudFormation parameter values (simulator/behaviours/cloudformation-parameters.ts),
 * as "CloudFormation template Parameters syntax" in the CloudFormation User Guide describes it: moto
 * alone creates a stack with any value.
 */

let cfn: CloudFormationClient;
// Declared before useEmulator: afterAll hooks run in the order declared, and the client goes before the emulator stops.
afterAll(() => cfn?.destroy());
const emu = useEmulator(() => startEmulator({ autoTick: false }));
beforeEach(() => {
  cfn?.destroy();
  cfn = new CloudFormationClient({ region: emu.region, endpoint: emu.endpoint, maxAttempts: 1 });
});

// Short-form tags in Resources: the check reads them as CloudFormation does, and moto gets the template unchanged.
const TEMPLATE = `
AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  Name:
    Type: String
    AllowedPattern: '[a-z]+'
    MinLength: 3
    MaxLength: 8
  Role:
    Type: String
    AllowedPattern: 'arn:aws:iam::\\d{12}:role/.+'
    ConstraintDescription: must be an IAM role ARN
  Size:
    Type: String
    Default: small
    AllowedValues: [small, large]
  Timeout:
    Type: Number
    Default: 30
    MinValue: 5
    MaxValue: 60
  Accounts:
    Type: CommaDelimitedList
    Default: ''
    AllowedPattern: '\\d{12}'
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub '\${AWS::StackName}-\${Name}'
Outputs:
  QueueArn:
    Value: !GetAtt Queue.Arn
`;

const ROLE = 'arn:aws:iam::123456789012:role/fleetops-worker';
const params = (values: Record<string, string>) => Object.entries(values).map(([ParameterKey, ParameterValue]) => ({ ParameterKey, ParameterValue }));

async function refusal(p: Promise<unknown>): Promise<{ name: string; status?: number; message: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  throw new Error('the call succeeded');
}

const create = (values: Record<string, string>, client = cfn, body = TEMPLATE) =>
  client.send(new CreateStackCommand({ StackName: 'params', TemplateBody: body, Parameters: params(values) }));

const refused = async (values: Record<string, string>) => {
  const r = await refusal(create(values));
  expect(r).toMatchObject({ name: 'ValidationError', status: 400 });
  return r.message;
};

it('creates the stack when every value satisfies its parameter, defaults included', async () => {
  await create({ Name: 'abcd', Role: ROLE, Accounts: '123456789012,222222222222', Timeout: '60' });
  expect((await cfn.send(new DescribeStacksCommand({ StackName: 'params' }))).Stacks?.[0]?.StackName).toBe('params');
});

it('requires a value for each parameter without a default, and knows only the template parameters', async () => {
  expect(await refused({})).toBe('Parameters: [Name, Role] must have values');
  expect(await refused({ Name: 'abcd', Role: ROLE, Colour: 'red' })).toBe('Parameters: [Colour] do not exist in the template');
});

it('holds the whole value to AllowedPattern, or says the ConstraintDescription instead', async () => {
  expect(await refused({ Name: 'abc1', Role: ROLE })).toBe("Parameter 'Name' must match pattern [a-z]+");
  // A pattern matching only part of the value is not enough.
  expect(await refused({ Name: 'abcd', Role: `x${ROLE}` })).toBe("Parameter 'Role' failed to satisfy constraint: must be an IAM role ARN");
  expect(await refused({ Name: 'abcd', Role: 'arn:aws:iam::123456789012:root' })).toBe("Parameter 'Role' failed to satisfy constraint: must be an IAM role ARN");
});

it('holds each item of a CommaDelimitedList to AllowedPattern', async () => {
  expect(await refused({ Name: 'abcd', Role: ROLE, Accounts: '123456789012,2222' })).toBe("Parameter 'Accounts' must match pattern \\d{12}");
});

it('checks AllowedValues, MinLength and MaxLength', async () => {
  expect(await refused({ Name: 'abcd', Role: ROLE, Size: 'medium' })).toBe("Parameter 'Size' must be one of AllowedValues");
  expect(await refused({ Name: 'ab', Role: ROLE })).toBe("Parameter 'Name' must contain at least 3 characters");
  expect(await refused({ Name: 'abcdefghi', Role: ROLE })).toBe("Parameter 'Name' must contain at most 8 characters");
});

it('checks that a Number is a number within MinValue and MaxValue', async () => {
  expect(await refused({ Name: 'abcd', Role: ROLE, Timeout: 'soon' })).toBe("Parameter 'Timeout' must be a number");
  expect(await refused({ Name: 'abcd', Role: ROLE, Timeout: '4' })).toBe("Parameter 'Timeout' must be a number not less than 5");
  expect(await refused({ Name: 'abcd', Role: ROLE, Timeout: '61' })).toBe("Parameter 'Timeout' must be a number not greater than 60");
});

it('checks UpdateStack too, a value kept with UsePreviousValue as given before', async () => {
  await create({ Name: 'abcd', Role: ROLE });
  const update = (Parameters: { ParameterKey: string; ParameterValue?: string; UsePreviousValue?: boolean }[]) =>
    cfn.send(new UpdateStackCommand({ StackName: 'params', TemplateBody: TEMPLATE, Parameters }));
  const r = await refusal(update([{ ParameterKey: 'Name', UsePreviousValue: true }, { ParameterKey: 'Role', ParameterValue: 'arn:aws:iam::123456789012:root' }]));
  expect([r.name, r.message]).toEqual(['ValidationError', "Parameter 'Role' failed to satisfy constraint: must be an IAM role ARN"]);
  await update([{ ParameterKey: 'Name', UsePreviousValue: true }, { ParameterKey: 'Role', UsePreviousValue: true }]);
});

it('refuses an account root as the member kit WorkerRoleArn, in the member account', async () => {
  const member = actingIn(new CloudFormationClient({ region: 'eu-west-1', endpoint: emu.endpoint, maxAttempts: 1 }), MEMBER_ACCOUNT);
  try {
    const values = { CentralEventBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/default', WorkerRoleArn: 'arn:aws:iam::123456789012:root', ExternalId: 'ext-1' };
    const r = await refusal(create(values, member, readFileSync(MEMBER_KIT_TEMPLATE, 'utf8')));
    expect([r.name, r.message]).toEqual(['ValidationError', "Parameter 'WorkerRoleArn' failed to satisfy constraint: must be an IAM role ARN (arn:aws:iam::<account>:role/<name>), not an account root"]);
    const calls = await emu.sim.calls({ service: 'cloudformation', action: 'CreateStack' });
    expect(calls.map((c) => [c.account, c.handledBy, c.status])).toEqual([[MEMBER_ACCOUNT, 'behaviour:cloudformation-parameters', 400]]);
  } finally {
    member.destroy();
  }
});
