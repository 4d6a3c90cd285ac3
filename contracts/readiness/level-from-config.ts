import type { FleetopsConfig } from '../../config/schema';
import type { ReadinessLevelInput } from './input';

/** A window the config does not allow: an unknown cluster or level. */
export class ReadinessRefused extends Error {
  override readonly name = 'ReadinessRefused';
}

/**
 * The level a window holds, from the cluster's config (config/schema/readiness.ts): its lead time is
 * the level's, else the cluster's measured boot-to-ACTIVE time. Throws ReadinessRefused.
 */
export function readinessLevelFrom(config: FleetopsConfig, cluster: string, level: number): ReadinessLevelInput {
  const c = config.clusters[cluster];
  if (!c) throw new ReadinessRefused(`no cluster "${cluster}" in the config`);
  const l = c.readiness.levels[String(level)];
  if (!l) {
    const known = Object.keys(c.readiness.levels).sort((a, b) => Number(a) - Number(b));
    throw new ReadinessRefused(`no readiness level ${level} for cluster "${cluster}" (levels: ${known.join(', ') || 'none configured'})`);
  }
  return {
    level,
    ...(l.floor ? { floor: l.floor } : {}),
    onDemandShare: l.onDemandShare,
    leadSeconds: l.leadSeconds ?? c.readiness.bootToActiveSeconds,
    freezeDeploys: l.freezeDeploys,
    notify: l.notify,
  };
}

/**
 * Whether `fleetops readiness add|change|cancel` may act on the clusters: as for `fleetops deploy`,
 * the CLI may deploy to a cluster's services when the config names them, so a window needs every
 * cluster to have at least one configured service. Throws ReadinessRefused.
 */
export function checkReadinessAuthority(config: FleetopsConfig, clusters: readonly string[]): void {
  for (const cluster of clusters) {
    if (!config.clusters[cluster]) throw new ReadinessRefused(`no cluster "${cluster}" in the config`);
    if (!config.services.some((s) => s.cluster === cluster)) {
      throw new ReadinessRefused(`no service of cluster "${cluster}" in the config: a window needs the authority to deploy to the cluster's services`);
    }
  }
}
