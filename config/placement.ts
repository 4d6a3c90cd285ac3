import { ROLE_ARN, type FleetopsConfig } from './schema';

/**
 * Where a cluster lives: its account and region, and the role the worker assumes to act there.
 * One rule for the router (which cluster an event is about), the activities (which AWS clients a
 * call uses) and the ids and search attributes (which account a workflow is about).
 */
export interface Placement {
  /** The cluster's account: the roleArn's, else aws.account; unknown in a single-account config without aws.account. */
  account?: string;
  region: string;
  /** Unset: the worker's own credentials. */
  roleArn?: string;
  externalId?: string;
  /** True when the cluster is reached through a role in another account (ids then carry the account). */
  member: boolean;
}

export const accountOfRoleArn = (roleArn: string): string | undefined => ROLE_ARN.exec(roleArn)?.[1];

/** True once any cluster names a role: events are then routed by account, and unknown accounts ignored. */
export const isMultiAccount = (config: FleetopsConfig): boolean => Object.values(config.clusters).some((c) => c.roleArn !== undefined);

export function placementOf(config: FleetopsConfig, cluster: string): Placement {
  const c = config.clusters[cluster];
  const region = c?.region ?? config.aws.region;
  if (!c?.roleArn) return { ...(config.aws.account ? { account: config.aws.account } : {}), region, member: false };
  const account = accountOfRoleArn(c.roleArn);
  return {
    ...(account ? { account } : {}),
    region,
    roleArn: c.roleArn,
    ...(c.externalId ? { externalId: c.externalId } : {}),
    member: account !== config.aws.account,
  };
}

/**
 * The configured clusters an event from `account` and `region` can be about. In a single-account
 * config without aws.account, the account is not checked (today's behaviour: one account, one worker).
 */
export function clustersAt(config: FleetopsConfig, where: { account: string; region: string }): string[] {
  const checkAccount = isMultiAccount(config) || config.aws.account !== undefined;
  return Object.keys(config.clusters).filter((name) => {
    const p = placementOf(config, name);
    return p.region === where.region && (!checkAccount || p.account === where.account);
  });
}

/** The ECS cluster's own name of a configured cluster (its config name unless ecsClusterName says otherwise). */
export const ecsNameOf = (config: FleetopsConfig, cluster: string): string => config.clusters[cluster]?.ecsClusterName ?? cluster;

/**
 * The configured cluster an ECS cluster name from an event (a service ARN) is, where it came from:
 * in a config that routes by account, only a cluster placed at that account and region.
 */
export function clusterOfEcsName(config: FleetopsConfig, ecsName: string, where: { account: string; region: string }): string | undefined {
  const candidates = routesByAccount(config) ? clustersAt(config, where) : Object.keys(config.clusters);
  return candidates.find((c) => ecsNameOf(config, c) === ecsName);
}

/** Every account the config names (the worker's own and each member's). */
export function knownAccounts(config: FleetopsConfig): Set<string> {
  const out = new Set<string>();
  if (config.aws.account) out.add(config.aws.account);
  for (const name of Object.keys(config.clusters)) {
    const a = placementOf(config, name).account;
    if (a) out.add(a);
  }
  return out;
}

/**
 * True when events are routed by account: a config that names accounts (aws.account, or a cluster
 * role). Single-account configs without aws.account route as they always did, accounts unchecked.
 */
export const routesByAccount = (config: FleetopsConfig): boolean => config.aws.account !== undefined || isMultiAccount(config);

/** A workflow's placement (contracts/shared.ts AwsPlacement) from an account and region; undefined when accounts are not routed. */
export function workflowPlacement(config: FleetopsConfig, where: { account?: string; region: string }): { account: string; region: string; member?: true } | undefined {
  if (!routesByAccount(config) || !where.account) return undefined;
  return { account: where.account, region: where.region, ...(where.account !== config.aws.account ? { member: true as const } : {}) };
}

/** The placement a workflow about `cluster` carries (capacity, launch, deploy); undefined in a single-account config. */
export const clusterWorkflowPlacement = (config: FleetopsConfig, cluster: string) => workflowPlacement(config, placementOf(config, cluster));
