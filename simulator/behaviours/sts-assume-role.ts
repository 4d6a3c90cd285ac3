import type { IncomingHttpHeaders } from 'node:http';
import type { Behaviour, BehaviourFactory } from '../behaviour';
import { awsErrorResponse } from '../protocol';

/**
 * STS AssumeRole as AWS decides it; moto lets anyone assume any ARN ("the role does not need to
 * exist"). Follows "AssumeRole" (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html):
 * the role must exist and its trust policy must name the caller as a principal allowed
 * `sts:AssumeRole`, else AccessDenied (HTTP 403) "User: <caller> is not authorized to perform:
 * sts:AssumeRole on resource: <role>"; and "Access to AWS accounts owned by third parties"
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_common-scenarios_third-party.html): a
 * trust policy with the condition `StringEquals: {"sts:ExternalId": ...}` admits only a request with
 * that ExternalId. A principal is the account (`<id>` or `arn:aws:iam::<id>:root`), a role (matched
 * by a session of that role) or a user ARN, or `*` ("Policy elements: Principal",
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html).
 * An explicit Deny for the caller wins. Allowed requests go on to moto, whose credentials then act
 * in the role's account.
 *
 * The role is read from moto's IAM in the role's account (`x-moto-account-id`), the caller from
 * moto's GetCallerIdentity with the request's own Authorization header.
 */

interface Statement {
  Effect?: string;
  Action?: string | string[];
  Principal?: string | { AWS?: string | string[] };
  Condition?: Record<string, Record<string, string | string[]>>;
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]+)$/;
const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const xmlField = (xml: string, name: string): string | undefined => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
const unescapeXml = (s: string) => s.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

async function motoQuery(motoUrl: string, service: string, form: Record<string, string>, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const res = await fetch(motoUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `AWS4-HMAC-SHA256 Credential=fleetops/20260101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=0`,
      ...headers,
    },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, text: await res.text() };
}

function principalMatches(principal: string, caller: { account: string; arn: string }): boolean {
  if (principal === '*') return true;
  if (principal === caller.account || principal === `arn:aws:iam::${caller.account}:root`) return true;
  if (principal === caller.arn) return true;
  // A role principal admits the sessions of that role: arn:aws:sts::<acct>:assumed-role/<name>/<session>.
  const role = ROLE_ARN.exec(principal);
  const session = /^arn:aws[a-z-]*:sts::(\d{12}):assumed-role\/([^/]+)\//.exec(caller.arn);
  return Boolean(role && session && role[1] === session[1] && role[2] === session[2]);
}

function conditionsHold(conditions: Statement['Condition'], externalId: string | undefined): boolean {
  for (const [op, keys] of Object.entries(conditions ?? {})) {
    for (const [key, want] of Object.entries(keys)) {
      if (key.toLowerCase() !== 'sts:externalid') continue;
      if (op !== 'StringEquals') return false;
      if (externalId === undefined || !list(want).includes(externalId)) return false;
    }
  }
  return true;
}

const allowsAssume = (s: Statement) => list(s.Action).some((a) => ['sts:AssumeRole', 'sts:*', '*'].includes(a));
const principalsOf = (s: Statement): string[] => (s.Principal === '*' ? ['*'] : list(typeof s.Principal === 'object' ? s.Principal.AWS : undefined));

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
      const raw = unescapeXml(xmlField(role.text, 'AssumeRolePolicyDocument') ?? '');
      let statements: Statement[];
      try {
        const doc = JSON.parse(raw.trimStart().startsWith('{') ? raw : decodeURIComponent(raw)) as { Statement?: Statement | Statement[] };
        statements = list(doc.Statement);
      } catch {
        return denied();
      }
      const applies = (s: Statement) => allowsAssume(s) && principalsOf(s).some((p) => principalMatches(p, caller)) && conditionsHold(s.Condition, externalId);
      if (statements.some((s) => s.Effect === 'Deny' && applies(s))) return denied();
      if (!statements.some((s) => s.Effect === 'Allow' && applies(s))) return denied();
      return undefined;
    },
    reset() {},
  };
  return behaviour;
};

function authOf(headers: IncomingHttpHeaders): Record<string, string> {
  const a = headers.authorization;
  return typeof a === 'string' ? { authorization: a } : {};
}
