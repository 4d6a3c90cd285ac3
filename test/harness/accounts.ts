/**
 * Several AWS accounts in one moto: IAM roles are made in a member account with moto's
 * `x-moto-account-id` header (straight to moto, as an administrator of that account would), and
 * credentials from AssumeRole on them act in that account (moto maps the session's access key to the
 * role's account).
 */
export const HOME_ACCOUNT = '123456789012';
export const MEMBER_ACCOUNT = '222222222222';
export const OTHER_ACCOUNT = '333333333333';

export const roleArnIn = (account: string, name: string) => `arn:aws:iam::${account}:role/${name}`;

/**
 * A trust policy admitting `principal` (an account, a role, a user) to sts:AssumeRole, with the
 * external id when given; the member kit's (deploy/aws/fleetops-member.yaml) names the worker's role.
 */
export function trustPolicy(opts: { principal: string; externalId?: string }): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: opts.principal },
        Action: 'sts:AssumeRole',
        ...(opts.externalId ? { Condition: { StringEquals: { 'sts:ExternalId': opts.externalId } } } : {}),
      },
    ],
  });
}

/**
 * The central kit's worker role in the home account (deploy/aws/fleetops-events.yaml, stack `fleetops`),
 * trusted by the ECS tasks service as the kit makes it; a session of it comes from
 * stack/worker-role.ts (the harness playing ECS).
 */
export async function createWorkerRole(motoUrl: string): Promise<string> {
  const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
  const arn = await createRole(motoUrl, HOME_ACCOUNT, 'fleetops-worker', JSON.stringify(trust));
  // As the kit's AssumeMemberRoles statement: across accounts the worker's own policy must allow it too.
  const assumeMembers = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: 'arn:aws:iam::*:role/fleetops-member' }] };
  await iamCall(motoUrl, HOME_ACCOUNT, { Action: 'PutRolePolicy', RoleName: 'fleetops-worker', PolicyName: 'fleetops-worker', PolicyDocument: JSON.stringify(assumeMembers) });
  return arn;
}

/** An IAM call straight to moto in `account`, as the account's administrator (test setup). */
async function iamCall(motoUrl: string, account: string, form: Record<string, string>): Promise<void> {
  const res = await fetch(motoUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: 'AWS4-HMAC-SHA256 Credential=admin/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0',
      'x-moto-account-id': account,
    },
    body: new URLSearchParams({ Version: '2010-05-08', ...form }).toString(),
  });
  if (!res.ok) throw new Error(`${form.Action} in ${account}: HTTP ${res.status}: ${await res.text()}`);
}

/** Puts an inline policy of one statement on a role (test setup, as the account's administrator). */
export async function putRolePolicy(motoUrl: string, account: string, role: string, statement: Record<string, unknown>): Promise<void> {
  await iamCall(motoUrl, account, { Action: 'PutRolePolicy', RoleName: role, PolicyName: `${role}-policy`, PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [statement] }) });
}

export async function createRole(motoUrl: string, account: string, name: string, trust: string): Promise<string> {
  await iamCall(motoUrl, account, { Action: 'CreateRole', RoleName: name, AssumeRolePolicyDocument: trust });
  return roleArnIn(account, name);
}

/**
 * Makes an SDK client act in `account` in moto (its `x-moto-account-id` header), as an administrator
 * of that account would deploy the kit there. Returns the client.
 */
export function actingIn<C extends { middlewareStack: { add: (...args: any[]) => void } }>(client: C, account: string): C {
  client.middlewareStack.add(
    (next: (args: any) => Promise<unknown>) => async (args: { request: { headers: Record<string, string> } }) => {
      args.request.headers['x-moto-account-id'] = account;
      return next(args);
    },
    { step: 'build', name: 'fleetopsMotoAccount' },
  );
  return client;
}
