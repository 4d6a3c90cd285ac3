import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../common/failures';
import { ecsNameOf, placementOf, type Placement } from '../../config/placement';
import type { FleetopsConfig } from '../../config/schema';
import { createAwsClients, type AwsClientOptions, type AwsClients, type AwsCredentials } from './clients';
import { roleAssumeFailure } from './errors';

/**
 * AWS clients per cluster placement (config/placement.ts): a cluster in the worker's own account and
 * region uses the worker's clients; any other gets clients for its region, with credentials from STS
 * AssumeRole on its roleArn (and externalId) when it names one. Clients are made on first use and
 * kept: one set per distinct (region, role, external id), shared by every cluster placed there.
 *
 * Credentials come from the SDK's `fromTemporaryCredentials` provider (the worker's own clients'
 * credentials are the source: the member role's trust names the worker's role); one assumed session is shared by the clients of a placement and replaced
 * REFRESH_BEFORE_EXPIRY_MS before it expires. Credentials are never logged or put in an error: a
 * failure names the role, and STS's own error code and message.
 */

/** The SDK refreshes identities 5 minutes before expiry (its memoizeIdentityProvider); same here. */
const REFRESH_BEFORE_EXPIRY_MS = 5 * 60_000;
/** AssumeRole's default and the member role's default maximum (1 h). */
const SESSION_SECONDS = 3600;
/** Shows in the member account's CloudTrail as the assumed-role session name. */
const SESSION_NAME = 'fleetops';

export interface ClusterClients {
  /** The clients for a configured cluster; throws a non-retryable InvalidRequest for one the config does not name. */
  clientsFor(cluster: string): AwsClients;
  /** Destroys the clients this made (not the worker's own). */
  destroy(): void;
}

export type ClusterClientOptions = Omit<AwsClientOptions, 'region' | 'credentials'> & {
  /** The clock the refresh window is measured on (tests move it). */
  now?: () => number;
};

interface Identity {
  expiration?: Date;
}

/** One AssumeRole session shared by every client of a placement, refreshed before it expires. */
/** The provider form of AwsCredentials (a function the SDK calls when it needs credentials). */
export type AwsCredentialProvider = Extract<AwsCredentials, (...args: never[]) => unknown>;

export function assumedRoleCredentials(
  placement: Required<Pick<Placement, 'roleArn' | 'region'>> & Pick<Placement, 'externalId'>,
  opts: ClusterClientOptions & { source?: AwsCredentials },
): AwsCredentialProvider {
  const assume = fromTemporaryCredentials({
    // The caller the member role's trust must name; the default chain's when not given.
    ...(opts.source ? { masterCredentials: opts.source } : {}),
    params: {
      RoleArn: placement.roleArn,
      RoleSessionName: SESSION_NAME,
      DurationSeconds: SESSION_SECONDS,
      ...(placement.externalId ? { ExternalId: placement.externalId } : {}),
    },
    // Regional STS in the cluster's region; the same endpoint override as every other client (the emulator).
    clientConfig: {
      region: placement.region,
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      maxAttempts: opts.sdkMaxAttempts ?? 1,
      ...(opts.appId ? { userAgentAppId: opts.appId } : {}),
    },
  });
  let current: Promise<Awaited<ReturnType<typeof assume>>> | undefined;
  const fresh = () => {
    const p = assume().catch((err: unknown) => {
      if (current === p) current = undefined;
      throw roleAssumeFailure(placement.roleArn, err);
    });
    current = p;
    return p;
  };
  return async () => {
    const c = await (current ?? fresh());
    if (isExpiring(c, opts.now?.() ?? Date.now())) return fresh();
    return c;
  };
}

const isExpiring = (c: Identity, now: number): boolean => c.expiration !== undefined && c.expiration.getTime() - now < REFRESH_BEFORE_EXPIRY_MS;

/**
 * Activities name a cluster by its config name; a cluster whose ECS name differs (ecsClusterName) is
 * called by its ECS name: the ECS client of its placement puts it in every request's `cluster`.
 */
function speakEcsNames(clients: AwsClients, renames: Map<string, string>): void {
  if (renames.size === 0) return;
  clients.ecs.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as { cluster?: unknown };
      const ecsName = typeof input.cluster === 'string' ? renames.get(input.cluster) : undefined;
      return next(ecsName ? { ...args, input: { ...input, cluster: ecsName } } : args);
    },
    { step: 'initialize', name: 'fleetopsEcsClusterName' },
  );
}

export function createClusterClients(config: FleetopsConfig, own: AwsClients, opts: ClusterClientOptions): ClusterClients {
  const byPlacement = new Map<string, AwsClients>();
  const keyOf = (p: Placement) => (!p.roleArn && p.region === config.aws.region ? 'own' : `${p.region}|${p.roleArn ?? ''}|${p.externalId ?? ''}`);
  const renamesAt = (key: string) =>
    new Map(
      Object.keys(config.clusters)
        .filter((c) => ecsNameOf(config, c) !== c && keyOf(placementOf(config, c)) === key)
        .map((c) => [c, ecsNameOf(config, c)] as const),
    );
  speakEcsNames(own, renamesAt('own'));
  return {
    clientsFor(cluster) {
      if (!config.clusters[cluster]) {
        throw ApplicationFailure.nonRetryable(`cluster "${cluster}" is not in the config`, FailureType.InvalidRequest);
      }
      const p = placementOf(config, cluster);
      const key = keyOf(p);
      if (key === 'own') return own;
      let clients = byPlacement.get(key);
      if (!clients) {
        // AssumeRole as the worker: with the credentials its own clients sign with.
        const source = own.ecs.config.credentials;
        const credentials = p.roleArn ? assumedRoleCredentials({ roleArn: p.roleArn, region: p.region, externalId: p.externalId }, { ...opts, source }) : undefined;
        const { now: _now, ...clientOpts } = opts;
        clients = createAwsClients({ ...clientOpts, region: p.region, ...(credentials ? { credentials } : {}) });
        speakEcsNames(clients, renamesAt(key));
        byPlacement.set(key, clients);
      }
      return clients;
    },
    destroy() {
      for (const c of byPlacement.values()) c.destroy();
      byPlacement.clear();
    },
  };
}
