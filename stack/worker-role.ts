/**
 * A session of the worker's role, for a local worker that acts as the production one does: with the
 * kit's WorkerRole (deploy/aws/fleetops-events.yaml, named `<stack>-worker`), which the member kit's
 * trust admits (WorkerRoleArn, a role, never an account root).
 *
 * The kit's WorkerRole trusts a service principal (RoleTrustService, ecs-tasks.amazonaws.com): in AWS
 * ECS assumes it and hands the task its credentials; the worker never calls AssumeRole for it. Here
 * the harness plays ECS: it asks moto itself for the session, past the simulator, whose AssumeRole
 * (simulator/behaviours/sts-assume-role.ts) would rightly refuse any caller the trust does not name,
 * as setup that is no product call (like seeding). moto then knows the session's access key as the
 * role's, so GetCallerIdentity answers `arn:aws:sts::<account>:assumed-role/<role>/<session>`, and
 * the simulator's AssumeRole of a member role sees the caller as a session of the worker role.
 */
import { z } from 'zod';

export const WORKER_ROLE_SESSION_NAME = 'fleetops-worker';

/** The central kit's worker role for a stack named `stackName` (`${AWS::StackName}-worker`). */
export const workerRoleArnIn = (account: string, stackName = 'fleetops') => `arn:aws:iam::${account}:role/${stackName}-worker`;

export interface SessionCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

const Credentials = z.object({ AccessKeyId: z.string().min(1), SecretAccessKey: z.string().min(1), SessionToken: z.string().min(1), Expiration: z.string().min(1) });
const field = (xml: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];

/**
 * STS AssumeRole on `roleArn`, sent to moto at `motoUrl` directly (never the simulator's endpoint).
 * The role's maximum (12 h) so a long local session keeps working; moto does not expire sessions anyway.
 */
export async function workerRoleSession(motoUrl: string, roleArn: string): Promise<SessionCredentials> {
  const res = await fetch(motoUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: 'AWS4-HMAC-SHA256 Credential=ecs-tasks/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: new URLSearchParams({ Action: 'AssumeRole', Version: '2011-06-15', RoleArn: roleArn, RoleSessionName: WORKER_ROLE_SESSION_NAME, DurationSeconds: '43200' }).toString(),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`AssumeRole ${roleArn} at moto: HTTP ${res.status}: ${text.slice(0, 500)}`);
  const c = Credentials.parse(Object.fromEntries(Object.keys(Credentials.shape).map((k) => [k, field(text, k)])));
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: new Date(c.Expiration) };
}

/** The session as a worker process's environment (the SDK's default chain reads it first). */
export const sessionEnv = (c: SessionCredentials): Record<string, string> => ({
  AWS_ACCESS_KEY_ID: c.accessKeyId,
  AWS_SECRET_ACCESS_KEY: c.secretAccessKey,
  AWS_SESSION_TOKEN: c.sessionToken,
});
