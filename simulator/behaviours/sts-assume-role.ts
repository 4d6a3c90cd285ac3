import type { IncomingHttpHeaders } from 'node:http';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { Behaviour, BehaviourFactory } from '../behaviour';
import { awsErrorResponse } from '../protocol';
import { callerPolicies, iamDocument, motoQuery, xmlField } from './support/iam-documents';

/**
 * STS AssumeRole as AWS decides it; moto lets anyone assume any ARN ("the role does not need to
 * exist"). Follows "AssumeRole" (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html):
 * the role must exist, else AccessDenied (HTTP 403) "User: <caller> is not authorized to perform:
 * sts:AssumeRole on resource: <role>"; and the IAM User Guide's "Policy evaluation logic"
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html) with
 * "Cross-account policy evaluation logic"
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html):
 *  - the role's trust policy (its resource policy) must allow the caller, with every condition it
 *    states: `sts:ExternalId` ("Access to AWS accounts owned by third parties"), `aws:PrincipalArn`
 *    (for a role session, the role's ARN: "AWS global condition context keys"), `aws:PrincipalAccount`;
 *    an explicit Deny wins;
 *  - across accounts, the caller's own identity policies must allow sts:AssumeRole on the role too
 *    (a role session: the role's inline and attached policies, read from moto's IAM). In the same
 *    account a trust policy naming the session's role is enough.
 * Decided by a real IAM policy evaluator (@cloud-copilot/iam-simulate), not by matching here. The
 * emulator's default credentials (an IAM user moto makes, `user/moto`) stand for the account's
 * administrator: its identity policy allows everything, so only the trust decides for it.
 * Allowed requests go on to moto, whose credentials then act in the role's account.
 */

const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]+)$/;
const SESSION_ARN = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\//;
const ADMINISTRATOR = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };

export const stsAssumeRole: BehaviourFactory = () => {
  const behaviour: Behaviour = {
    name: 'sts-assume-role',
    allAccounts: true,
    async intercept(req, ctx) {
      if (req.service !== 'sts' || req.action !== 'AssumeRole') return undefined;
      const roleArn = String(req.params.RoleArn ?? '');
      const externalId = req.params.ExternalId === undefined ? undefined : String(req.params.ExternalId);
      const callerRes = await motoQuery(ctx.motoUrl, 'sts', { Action: 'GetCallerIdentity', Version: '2011-06-15' }, authOf(req.headers));
      const caller = { account: xmlField(callerRes.text, 'Account') ?? '', arn: xmlField(callerRes.text, 'Arn') ?? '' };
      const denied = () =>
        awsErrorResponse(req, { status: 403, code: 'AccessDenied', message: `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}` });
      const m = ROLE_ARN.exec(roleArn);
      if (!m) return undefined; // moto answers a malformed ARN with its own validation error
      const role = await motoQuery(ctx.motoUrl, 'iam', { Action: 'GetRole', Version: '2010-05-08', RoleName: m[2]! }, { 'x-moto-account-id': m[1]! });
      if (role.status !== 200) return denied();
      let trust: unknown;
      try {
        trust = iamDocument(xmlField(role.text, 'AssumeRolePolicyDocument'));
      } catch {
        return denied();
      }
      const session = SESSION_ARN.exec(caller.arn);
      // aws:PrincipalArn is the role's ARN for a role session, the caller's own ARN otherwise.
      const principalArn = session ? `arn:${session[1]}:iam::${session[2]}:role/${session[3]}` : caller.arn;
      const identity = session ? await callerPolicies(ctx.motoUrl, session[2]!, session[3]!) : [ADMINISTRATOR];
      const result = await runSimulation(
        {
          identityPolicies: identity.map((policy, i) => ({ name: `caller-${i}`, policy: policy as never })),
          resourcePolicy: trust as never,
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          request: {
            action: 'sts:AssumeRole',
            principal: caller.arn,
            resource: { accountId: m[1]!, resource: roleArn },
            contextVariables: {
              'aws:PrincipalArn': principalArn,
              'aws:PrincipalAccount': caller.account,
              ...(externalId === undefined ? {} : { 'sts:ExternalId': externalId }),
            },
          },
        } as never,
        {},
      );
      if (result.resultType === 'error') ctx.log.warn({ errors: result.errors, roleArn }, 'sts-assume-role: the trust or caller policy could not be evaluated');
      return result.resultType !== 'error' && result.overallResult === 'Allowed' ? undefined : denied();
    },
    reset() {},
  };
  return behaviour;
};

function authOf(headers: IncomingHttpHeaders): Record<string, string> {
  const a = headers.authorization;
  return typeof a === 'string' ? { authorization: a } : {};
}
