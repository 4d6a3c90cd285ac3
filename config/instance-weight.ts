import type { ClusterConfig, PoolConfig } from './schema';

/**
 * Capacity units one instance provides, the one rule both the capacity activities and the drain use:
 * the pool's own override for the instance type (in the instance's zone if it names one, else any
 * zone), then the cluster's `instanceWeights` (documented in config/schema/clusters.ts as "for pools whose
 * overrides do not say"), then 1. When the pool is not known (a drain knows only the instance type),
 * every pool's overrides are searched in ladder order.
 */
export function instanceWeight(
  cluster: ClusterConfig,
  instanceType: string | undefined,
  where: { pool?: PoolConfig; availabilityZone?: string } = {},
): number {
  if (!instanceType) return 1;
  const overrides = where.pool ? poolOverrides(where.pool) : cluster.pools.flatMap(poolOverrides);
  const az = where.availabilityZone;
  const o =
    overrides.find((x) => x.instanceType === instanceType && (!az || !x.availabilityZone || x.availabilityZone === az)) ??
    overrides.find((x) => x.instanceType === instanceType);
  if (o) return o.weight;
  return cluster.instanceWeights[instanceType] ?? 1;
}

/** The instance-type overrides a pool declares (ec2-fleet today); none for kinds without them. */
export function poolOverrides(pool: PoolConfig): Extract<PoolConfig, { overrides: unknown }>['overrides'] {
  return 'overrides' in pool ? pool.overrides : [];
}
