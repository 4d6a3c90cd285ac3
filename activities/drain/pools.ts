import type { FleetopsConfig, PoolKind } from '../../config/schema';
import type { AwsClients } from '../aws/clients';
import { driverFor } from '../capacity/pools';
import { SharedSnapshot } from '../../common/batching';

/**
 * Which of its cluster's pools an instance belongs to, from the pool drivers' own view of their
 * instances (activities/capacity/pools/): one shared sweep of a cluster's pools serves every drain of
 * the worker, refreshed at most every `minIntervalMs`. A drain asks this before it asks for
 * replacement capacity (not on the way to DRAINING), so a sweep never delays a warning's DRAINING.
 * A cluster's pools are read with that cluster's clients (its account and region): a member account's
 * groups are not the worker's, even when they have the same names.
 */

export type InstancePool =
  | { found: false }
  | {
      found: true;
      pool: string;
      kind: PoolKind;
      /** The pool replaces an instance terminated under it (a spot reclaim) by itself. */
      replacesOwnInstances: boolean;
      /** The pool replaces an instance on its rebalance recommendation by itself (Capacity Rebalancing); absent in older histories. */
      replacesOnRebalance?: boolean;
    };

/** How old a sweep a pool lookup may use. */
export const POOL_SWEEP_MAX_AGE_MS = 30_000;

export class PoolIndex {
  private readonly snapshots = new Map<string, SharedSnapshot<Map<string, InstancePool>>>();

  constructor(
    private readonly clientsOf: (cluster: string) => AwsClients,
    private readonly config: FleetopsConfig,
    private readonly minIntervalMs: number,
  ) {}

  private snapshot(cluster: string): SharedSnapshot<Map<string, InstancePool>> {
    let s = this.snapshots.get(cluster);
    if (!s) {
      s = new SharedSnapshot(() => this.sweep(cluster), this.minIntervalMs);
      this.snapshots.set(cluster, s);
    }
    return s;
  }

  private async sweep(cluster: string): Promise<Map<string, InstancePool>> {
    const clusterConfig = this.config.clusters[cluster];
    const out = new Map<string, InstancePool>();
    if (!clusterConfig) return out;
    const ctx = { aws: this.clientsOf(cluster), cluster, clusterConfig };
    const states = await Promise.all(clusterConfig.pools.map(async (pool) => ({ pool, state: await driverFor(pool).describe(ctx, pool) })));
    for (const { pool, state } of states) {
      const entry: InstancePool = {
        found: true,
        pool: pool.name,
        kind: pool.kind,
        replacesOwnInstances: state.replaces.interrupted,
        ...(state.replaces.onRebalance ? { replacesOnRebalance: true } : {}),
      };
      for (const i of state.instances) if (!out.has(i.instanceId)) out.set(i.instanceId, entry);
    }
    return out;
  }

  /**
   * The instance's pool, from a sweep at most POOL_SWEEP_MAX_AGE_MS old and started after `notBefore`
   * (the event the drain acts on): what a pool replaces by itself is its settings, which change
   * (CapacityRebalance turned on), and a rebalance recommendation must meet the settings of its time,
   * not those of a sweep before it. The drains of one storm share one such sweep. A miss is checked
   * against a sweep started after `askedAt`.
   */
  async poolOf(cluster: string, instanceId: string, askedAt: number, notBefore?: number): Promise<InstancePool> {
    const s = this.snapshot(cluster);
    const hit = (await s.takenAfter(Math.max(askedAt - POOL_SWEEP_MAX_AGE_MS, notBefore ?? -Infinity))).get(instanceId);
    if (hit) return hit;
    return (await s.takenAfter(askedAt)).get(instanceId) ?? { found: false };
  }
}
