import type { TrafficMode } from '../../common/deploy';

/**
 * How many canary tasks a traffic weight needs. With a weighted listener rule the canary target group
 * gets `weight`% of requests, so the canary needs that share of the stable capacity. Sharing the
 * stable target group, the load balancer spreads evenly over all targets, so the canary's share is
 * canary / (stable + canary) and the count is solved from that. Any weight above zero gets at least
 * one task: a canary with no tasks tests nothing.
 */
export function canaryTaskCount(stableDesired: number, weight: number, mode: TrafficMode): number {
  if (weight <= 0) return 0;
  if (mode === 'listener-rule') return Math.max(1, Math.ceil((stableDesired * weight) / 100));
  if (weight >= 100) return Math.max(1, stableDesired);
  return Math.max(1, Math.round((stableDesired * weight) / (100 - weight)));
}
