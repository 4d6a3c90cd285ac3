import { WorkflowClient, type Client } from '@temporalio/client';
import type { MetricGauge, MetricMeter, MetricTags } from '@temporalio/common';
import type { Logger } from '../common/logger';
import { METRICS } from '../common/metric-names';
import type { OnDemandPrices } from '../common/pricing/on-demand';
import type { HourlyCost } from '../common/pricing/cost';
import { capacityWorkflowId } from '../common/workflow-ids';
import type { FleetopsConfig } from '../config/schema';
import { fleetCost, fleetInstanceTypes, fleetView, type FleetView } from '../contracts/capacity/fleet';
import type { CapacityStatus } from '../contracts/capacity/messages';
import { statusQuery } from '../contracts/controls';

/**
 * The fleet gauges (common/metric-names.ts: fleetops_fleet_*, fleetops_capacity_unmet_*, the
 * on-demand fallback counter): every `metrics.fleetEverySeconds` the worker asks each configured
 * cluster's capacity workflow for its `status` (what it last read of its pools: no AWS call of the
 * capacity workflow's own is added) and prices what runs (common/pricing/: spot prices came with the
 * pools, on-demand ones from the Price List API, cached, or the config table). Clusters are asked
 * one after another, each query under a deadline.
 *
 * A closed or absent capacity workflow is not asked (queries on closed runs are rejected): its
 * gauges keep their last values while fleetops_fleet_data_age_seconds grows, which is what to alert
 * on. Every worker replica exports the same gauges: aggregate with max by cluster.
 */

const QUERY_DEADLINE_MS = 10_000;

export interface FleetSample {
  cluster: string;
  view?: FleetView;
  cost?: HourlyCost;
  error?: string;
}

export interface FleetMetrics {
  /** Samples every cluster once now (also called by the timer). */
  refresh(): Promise<FleetSample[]>;
  stop(): void;
}

export interface FleetMetricsOptions {
  client: Client;
  meter: MetricMeter;
  config: FleetopsConfig;
  prices: OnDemandPrices;
  everyMs?: number;
  log?: Logger;
  now?: () => number;
}

/** A gauge whose label sets not set in a round go to 0, so a pool or offering that is gone stops counting. */
class RoundGauge {
  private last = new Map<string, MetricTags>();
  private current = new Map<string, MetricTags>();
  constructor(private readonly gauge: MetricGauge) {}
  set(value: number, tags: MetricTags): void {
    this.gauge.set(value, tags);
    this.current.set(JSON.stringify(tags), tags);
  }
  /** Ends one cluster's round: what it set last round and not now is 0. */
  endRound(cluster: string): void {
    for (const [key, tags] of this.last) if (tags.cluster === cluster && !this.current.has(key)) this.gauge.set(0, tags);
    for (const [key, tags] of this.last) if (tags.cluster === cluster) this.last.delete(key);
    for (const [key, tags] of this.current) this.last.set(key, tags);
    this.current.clear();
  }
}

export function startFleetMetrics(opts: FleetMetricsOptions): FleetMetrics {
  const now = opts.now ?? Date.now;
  const everyMs = opts.everyMs ?? opts.config.metrics.fleetEverySeconds * 1000;
  const m = opts.meter;
  const gauge = (spec: { name: string; help: string }, type: 'int' | 'float') => m.createGauge(spec.name, type, '1', spec.help);
  const units = new RoundGauge(gauge(METRICS.fleetUnits, 'int'));
  const instances = new RoundGauge(gauge(METRICS.fleetInstances, 'int'));
  const spotShare = gauge(METRICS.fleetSpotShare, 'float');
  const unmetUnits = gauge(METRICS.unmetUnits, 'int');
  const unmetAge = gauge(METRICS.unmetAge, 'float');
  const cost = gauge(METRICS.hourlyCost, 'float');
  const savings = gauge(METRICS.savingsRatio, 'float');
  const unpriced = gauge(METRICS.unpricedInstances, 'int');
  const dataAge = gauge(METRICS.fleetDataAge, 'float');
  const fallbackSeconds = m.createCounter(METRICS.onDemandFallbackSeconds.name, 's', METRICS.onDemandFallbackSeconds.help);
  // Queries of closed runs are refused: a closed capacity workflow's last status is no fleet.
  const workflows = new WorkflowClient({ connection: opts.client.connection, namespace: opts.client.options.namespace, queryRejectCondition: 'NOT_OPEN' });
  /** Per cluster: the last sample's time, the fallback seconds not yet counted (the counter takes whole ones), the last pools read. */
  const seen = new Map<string, { at: number; fallbackCarry: number; poolsAt?: number }>();

  function exportSample(cluster: string, view: FleetView, c: HourlyCost, at: number): void {
    const tags = { cluster };
    for (const p of view.pools) {
      units.set(p.wantedUnits, { cluster, pool: p.name, market: p.market, state: 'wanted' });
      units.set(p.activeUnits, { cluster, pool: p.name, market: p.market, state: 'active' });
    }
    for (const o of view.offerings) {
      if (o.activeInstances > 0) instances.set(o.activeInstances, { cluster, pool: o.pool, market: o.market, instance_type: o.instanceType, zone: o.zone });
    }
    units.endRound(cluster);
    instances.endRound(cluster);
    spotShare.set(view.spotShare ?? 0, tags);
    unmetUnits.set(view.unmet.units, tags);
    unmetAge.set(view.unmet.units > 0 && view.unmet.since ? Math.max(0, (at - Date.parse(view.unmet.since)) / 1000) : 0, tags);
    cost.set(c.actual, { cluster, basis: 'actual' });
    cost.set(c.onDemand, { cluster, basis: 'on_demand' });
    savings.set(c.savingsRatio ?? 0, tags);
    unpriced.set(c.unpricedInstances, tags);
    // Time on fallback is counted between two samples that both saw it, at most two intervals at once
    // (a worker that was stopped does not count the time it was away).
    const prev = seen.get(cluster);
    let carry = prev?.fallbackCarry ?? 0;
    if (view.fallback && prev) carry += Math.min(at - prev.at, 2 * everyMs) / 1000;
    const whole = Math.floor(carry);
    if (whole > 0) fallbackSeconds.add(whole, tags);
    seen.set(cluster, { at, fallbackCarry: view.fallback ? carry - whole : 0, ...(view.poolsAt ? { poolsAt: Date.parse(view.poolsAt) } : {}) });
  }

  async function sampleCluster(cluster: string): Promise<FleetSample> {
    const handle = workflows.getHandle(capacityWorkflowId(cluster));
    const status = (await opts.client.connection.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query(statusQuery))) as CapacityStatus;
    const view = fleetView(status);
    const region = opts.config.clusters[cluster]?.region ?? opts.config.aws.region;
    const priced = await opts.prices.lookup(region, fleetInstanceTypes(view));
    if (priced.apiError && opts.config.pricing.priceListApi) opts.log?.debug({ cluster, err: priced.apiError }, 'fleet metrics: Price List API not used');
    const c = fleetCost(view, (t) => priced.prices.get(t));
    exportSample(cluster, view, c, now());
    return { cluster, view, cost: c };
  }

  async function sampleAll(): Promise<FleetSample[]> {
    const out: FleetSample[] = [];
    for (const cluster of Object.keys(opts.config.clusters)) {
      try {
        out.push(await sampleCluster(cluster));
      } catch (err) {
        out.push({ cluster, error: err instanceof Error ? err.message : String(err) });
        opts.log?.debug({ cluster, err }, 'fleet metrics: no status from the capacity workflow');
      }
      const poolsAt = seen.get(cluster)?.poolsAt;
      if (poolsAt !== undefined) dataAge.set(Math.max(0, (now() - poolsAt) / 1000), { cluster });
    }
    return out;
  }

  let running: Promise<FleetSample[]> | undefined;
  const refresh = (): Promise<FleetSample[]> => {
    running ??= sampleAll().finally(() => (running = undefined));
    return running;
  };
  const tick = () => void refresh().catch((err: unknown) => opts.log?.warn({ err }, 'fleet metrics: sampling failed'));
  const timer = setInterval(tick, everyMs);
  timer.unref();
  tick();
  return { refresh, stop: () => clearInterval(timer) };
}
