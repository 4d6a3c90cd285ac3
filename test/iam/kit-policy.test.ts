import type { Authorisation } from '../../simulator/iam/authorisations';
import { evaluate } from '../../scripts/iam/evaluate';
import { kitPolicies, memberTrustPolicy, PROOF_CONTEXT, type PolicyDocument } from '../../scripts/iam/kit-policies';

/** The worker role's policies, with the real evaluator: what the kit allows and refuses. */
const policies = kitPolicies(PROOF_CONTEXT).worker;
const account = PROOF_CONTEXT.central.account;
const cluster = `arn:aws:ecs:us-east-1:${account}:cluster/demo`;
const result = async (a: Authorisation, p: PolicyDocument[] = policies) => (await evaluate('worker', account, p, a)).result;
const without = (sid: string): PolicyDocument[] => policies.map((d) => ({ ...d, Statement: d.Statement.filter((s) => s.Sid !== sid) }));

const terminate = (tags: Record<string, string>): Authorisation => ({
  action: 'ec2:TerminateInstances',
  resource: `arn:aws:ec2:us-east-1:${account}:instance/i-0123456789abcdef0`,
  context: Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:ResourceTag/${k}`, v])),
});
const deleteService = (name: string, tags: Record<string, string>): Authorisation => ({
  action: 'ecs:DeleteService',
  resource: `arn:aws:ecs:us-east-1:${account}:service/demo/${name}`,
  context: { 'ecs:cluster': cluster, ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:ResourceTag/${k}`, v])) },
});
const tagOnCreate: Authorisation = {
  action: 'ecs:TagResource',
  resource: `arn:aws:ecs:us-east-1:${account}:service/demo/web-canary`,
  context: { 'ecs:CreateAction': 'CreateService', 'aws:RequestTag/fleetops:canary-of': 'web', 'aws:TagKeys': ['fleetops:canary-of'] },
};
const passTaskRole: Authorisation = { action: 'iam:PassRole', resource: `arn:aws:iam::${account}:role/web-task`, context: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } };

test('the worker terminates a pool instance, and not an instance without the pool tag', async () => {
  expect(await result(terminate({ 'fleetops:pool': 'demo-spot', 'fleetops:cluster': 'demo' }))).toBe('Allowed');
  expect(await result(terminate({ Name: 'database' }))).toBe('ImplicitlyDenied');
});

test('the worker deletes a canary service, and not a service that is not a canary', async () => {
  expect(await result(deleteService('web-canary', { 'fleetops:canary-of': 'web' }))).toBe('Allowed');
  expect(await result(deleteService('web', {}))).toBe('ImplicitlyDenied');
  // Named like a canary but not made by fleetops (no canary-of tag): refused too.
  expect(await result(deleteService('billing-canary', {}))).toBe('ImplicitlyDenied');
});

test('the worker modifies only the services\' listener rules (tagged fleetops:service)', async () => {
  const modify = (tags: Record<string, string>): Authorisation => ({
    action: 'elasticloadbalancing:ModifyRule',
    resource: `arn:aws:elasticloadbalancing:us-east-1:${account}:listener-rule/app/web/1/2/3`,
    context: Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:ResourceTag/${k}`, v])),
  });
  expect(await result(modify({ 'fleetops:service': 'web' }))).toBe('Allowed');
  expect(await result(modify({}))).toBe('ImplicitlyDenied');
});

test('the worker changes only the pools\' Auto Scaling groups and launches only from the pools\' launch templates (tagged fleetops:pool)', async () => {
  const asg = (tags: Record<string, string>): Authorisation => ({
    action: 'autoscaling:SetDesiredCapacity',
    resource: `arn:aws:autoscaling:us-east-1:${account}:autoScalingGroup:*:autoScalingGroupName/demo-on-demand`,
    context: Object.fromEntries(Object.entries(tags).map(([k, v]) => [`autoscaling:ResourceTag/${k}`, v])),
  });
  expect(await result(asg({ 'fleetops:pool': 'on-demand' }))).toBe('Allowed');
  expect(await result(asg({ team: 'db' }))).toBe('ImplicitlyDenied');
  const lt = `arn:aws:ec2:us-east-1:${account}:launch-template/lt-0123456789abcdef0`;
  const launch = (tags: Record<string, string>): Authorisation => ({
    action: 'ec2:RunInstances',
    resource: lt,
    context: { 'ec2:LaunchTemplate': lt, 'ec2:IsLaunchTemplateResource': 'true', ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:ResourceTag/${k}`, v])) },
  });
  expect(await result(launch({ 'fleetops:pool': 'spot-instant' }))).toBe('Allowed');
  expect(await result(launch({}))).toBe('ImplicitlyDenied');
  expect(await result({ action: 'ec2:CreateFleet', resource: lt, context: {} })).toBe('ImplicitlyDenied');
});

test('tags on create and the listed task roles are allowed, and the evaluator finds them missing without their statements', async () => {
  const withTaskRoles = kitPolicies({ ...PROOF_CONTEXT, central: { ...PROOF_CONTEXT.central, parameters: { ...PROOF_CONTEXT.central.parameters, TaskRoleArns: `arn:aws:iam::${account}:role/web-task` } } }).worker;
  expect(await result(tagOnCreate)).toBe('Allowed');
  expect(await result(passTaskRole, withTaskRoles)).toBe('Allowed');
  expect(await result({ ...passTaskRole, resource: `arn:aws:iam::${account}:role/admin` }, withTaskRoles)).toBe('ImplicitlyDenied');
  expect(await result(tagOnCreate, without('FleetopsTagOnCreate'))).toBe('ImplicitlyDenied');
  // No TaskRoleArns (the default): no role passes.
  expect(await result(passTaskRole)).toBe('ImplicitlyDenied');
  // TagResource outside a create (retagging an existing service) stays refused.
  expect(await result({ ...tagOnCreate, context: { 'aws:TagKeys': ['fleetops:canary-of'] } })).toBe('ImplicitlyDenied');
});

test('the worker assumes a member role only as the role trust policy allows: with the external id, from the worker role', async () => {
  const member = '222222222222';
  const roleArn = `arn:aws:iam::${member}:role/fleetops-member`;
  const trust = (externalId: string) => memberTrustPolicy({ ...PROOF_CONTEXT.member, account: member, parameters: { ...PROOF_CONTEXT.member.parameters, ExternalId: externalId } });
  const assume = (context: Record<string, string>): Authorisation => ({ action: 'sts:AssumeRole', resource: roleArn, context });
  expect((await evaluate('worker', account, policies, assume({ 'sts:ExternalId': 'ext-1' }), trust('ext-1'))).result).toBe('Allowed');
  expect((await evaluate('worker', account, policies, assume({ 'sts:ExternalId': 'other' }), trust('ext-1'))).result).not.toBe('Allowed');
  expect((await evaluate('worker', account, policies, assume({}), trust('ext-1'))).result).not.toBe('Allowed');
  // Another principal of the central account (the router's role) is not the one the trust names.
  expect((await evaluate('router', account, kitPolicies(PROOF_CONTEXT).router, assume({ 'sts:ExternalId': 'ext-1' }), trust('ext-1'))).result).not.toBe('Allowed');
});
