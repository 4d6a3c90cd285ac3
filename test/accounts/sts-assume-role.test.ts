import { CreateClusterCommand, ECSClient, ListClustersCommand } from '@aws-sdk/client-ecs';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { startEmulator } from '../../testkit/emulator';
import { useEmulator } from '../harness/emulator';
import { createRole, HOME_ACCOUNT, MEMBER_ACCOUNT, OTHER_ACCOUNT, putRolePolicy, roleArnIn, trustPolicy } from '../harness/accounts';

/**
 * The simulator's AssumeRole (simulator/behaviours/sts-assume-role.ts) as AWS documents it: moto alone
 * hands out credentials for any ARN, existing or not, whoever asks.
 */

const emu = useEmulator(() => startEmulator({ autoTick: false }));

const assume = (roleArn: string, externalId?: string) =>
  fromTemporaryCredentials({
    params: { RoleArn: roleArn, RoleSessionName: 'test', ...(externalId ? { ExternalId: externalId } : {}) },
    clientConfig: { region: 'us-east-1', endpoint: emu.endpoint, maxAttempts: 1 },
  })();

async function refusal(p: Promise<unknown>): Promise<{ name: string; status?: number; message: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  throw new Error('AssumeRole succeeded');
}

it('refuses a role that does not exist with AccessDenied naming the role', async () => {
  const arn = roleArnIn(MEMBER_ACCOUNT, 'no-such-role');
  const r = await refusal(assume(arn));
  expect(r).toMatchObject({ name: 'AccessDenied', status: 403 });
  expect(r.message).toContain(`sts:AssumeRole on resource: ${arn}`);
});

it('admits only the principals and the external id the trust policy names', async () => {
  const arn = await createRole(emu.motoUrl, MEMBER_ACCOUNT, 'fleetops-member', trustPolicy({ principal: `arn:aws:iam::${HOME_ACCOUNT}:root`, externalId: 'ext-1' }));
  const other = await createRole(emu.motoUrl, MEMBER_ACCOUNT, 'someone-else', trustPolicy({ principal: OTHER_ACCOUNT }));
  expect((await refusal(assume(arn))).name).toBe('AccessDenied');
  expect((await refusal(assume(arn, 'ext-2'))).name).toBe('AccessDenied');
  expect((await refusal(assume(other))).name).toBe('AccessDenied');
  const creds = await assume(arn, 'ext-1');
  expect(creds.accessKeyId).toBeTruthy();
  expect(creds.expiration!.getTime()).toBeGreaterThan(Date.now());
});

it('credentials from an assumed role act in the role account', async () => {
  const arn = await createRole(emu.motoUrl, MEMBER_ACCOUNT, 'fleetops-member', trustPolicy({ principal: HOME_ACCOUNT }));
  const member = new ECSClient({ region: 'us-east-1', endpoint: emu.endpoint, credentials: await assume(arn) });
  try {
    const made = await member.send(new CreateClusterCommand({ clusterName: 'client-a' }));
    expect(made.cluster?.clusterArn).toBe(`arn:aws:ecs:us-east-1:${MEMBER_ACCOUNT}:cluster/client-a`);
    expect((await member.send(new ListClustersCommand({}))).clusterArns).toEqual([made.cluster?.clusterArn]);
    expect((await emu.aws.ecs.send(new ListClustersCommand({}))).clusterArns).toEqual([]);
  } finally {
    member.destroy();
  }
});

it('decides a role session by the trust\'s conditions and, across accounts, by the session role\'s own policy too', async () => {
  // Two roles in the home account the default (administrator) credentials may take.
  const home = (name: string) => createRole(emu.motoUrl, HOME_ACCOUNT, name, trustPolicy({ principal: `arn:aws:iam::${HOME_ACCOUNT}:root` }));
  const worker = await home('worker-like');
  const bystander = await home('bystander');
  await putRolePolicy(emu.motoUrl, HOME_ACCOUNT, 'worker-like', { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: `arn:aws:iam::${MEMBER_ACCOUNT}:role/*` });
  // The member role trusts the home account, but only the worker-like role's sessions (aws:PrincipalArn).
  const trust = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${HOME_ACCOUNT}:root` }, Action: 'sts:AssumeRole', Condition: { ArnEquals: { 'aws:PrincipalArn': worker } } }],
  });
  const member = await createRole(emu.motoUrl, MEMBER_ACCOUNT, 'member-only-worker', trust);
  const as = async (roleArn: string) => fromTemporaryCredentials({ masterCredentials: await assume(roleArn), params: { RoleArn: member, RoleSessionName: 'test' }, clientConfig: { region: 'us-east-1', endpoint: emu.endpoint, maxAttempts: 1 } })();
  expect((await as(worker)).accessKeyId).toBeTruthy();
  // The bystander's session: the trust's aws:PrincipalArn condition refuses it.
  expect((await refusal(as(bystander))).name).toBe('AccessDenied');
  // Across accounts the caller's own policy must allow it too: a role the trust would admit, with no
  // policy of its own allowing sts:AssumeRole, is refused.
  const open = await createRole(emu.motoUrl, MEMBER_ACCOUNT, 'open-to-home', trustPolicy({ principal: `arn:aws:iam::${HOME_ACCOUNT}:root` }));
  const from = async (roleArn: string) => fromTemporaryCredentials({ masterCredentials: await assume(roleArn), params: { RoleArn: open, RoleSessionName: 'test' }, clientConfig: { region: 'us-east-1', endpoint: emu.endpoint, maxAttempts: 1 } })();
  expect((await refusal(from(bystander))).name).toBe('AccessDenied');
  expect((await from(worker)).accessKeyId).toBeTruthy();
});
