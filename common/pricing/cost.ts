import type { Market } from '../capacity';

/**
 * The savings estimate: what the fleet's instances cost an hour as they run (spot instances at their
 * spot price, on-demand ones on demand) against the same instances all on demand. Pure arithmetic.
 *
 * An instance is priced only when both figures are known for it (its on-demand price, and for a spot
 * instance its spot price): one without would make the two totals compare different fleets. The
 * ones left out are counted, so a report can say the estimate is partial.
 */

/** Instances of one type (in one zone, for spot prices) in one market. */
export interface CostGroup {
  market: Market;
  instanceType: string;
  instances: number;
  /** USD an hour per instance, for spot groups. */
  spotPrice?: number;
}

export interface HourlyCost {
  /** USD an hour as the instances run. */
  actual: number;
  /** USD an hour were every priced instance on demand. */
  onDemand: number;
  /** 1 - actual / onDemand; undefined when nothing is priced. */
  savingsRatio: number | undefined;
  pricedInstances: number;
  unpricedInstances: number;
  /** Instance types with instances left out, sorted. */
  unpricedTypes: string[];
}

export function hourlyCost(groups: readonly CostGroup[], onDemandPrice: (instanceType: string) => number | undefined): HourlyCost {
  let actual = 0;
  let onDemand = 0;
  let priced = 0;
  let unpriced = 0;
  const unpricedTypes = new Set<string>();
  for (const g of groups) {
    if (g.instances <= 0) continue;
    const od = onDemandPrice(g.instanceType);
    const runs = g.market === 'spot' ? g.spotPrice : od;
    if (od === undefined || runs === undefined) {
      unpriced += g.instances;
      unpricedTypes.add(g.instanceType);
      continue;
    }
    priced += g.instances;
    actual += g.instances * runs;
    onDemand += g.instances * od;
  }
  return {
    actual: round(actual),
    onDemand: round(onDemand),
    savingsRatio: onDemand > 0 ? round(1 - actual / onDemand) : undefined,
    pricedInstances: priced,
    unpricedInstances: unpriced,
    unpricedTypes: [...unpricedTypes].sort(),
  };
}

/** Six decimals: a hundredth of a cent an hour is below anything a price list states. */
const round = (n: number): number => Math.round(n * 1e6) / 1e6;
