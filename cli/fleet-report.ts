import { WorkflowClient, type Client } from '@temporalio/client';
import { AWS_APP_IDS } from '../common/aws-app-ids';
import { createOnDemandPrices, type PriceSource } from '../common/pricing/on-demand';
import type { HourlyCost } from '../common/pricing/cost';
import { FleetopsCluster } from '../common/search-attributes';
import { capacityWorkflowId } from '../common/workflow-ids';
import type { FleetopsConfig } from '../config/schema';
import { fleetCost, fleetInstanceTypes, fleetView, type FleetView } from '../contracts/capacity/fleet';
import type { CapacityStatus } from '../contracts/capacity/messages';
import { statusQuery } from '../contracts/controls';
import type { ReadinessStatus } from '../contracts/readiness/messages';
import type { CommandContext } from './context';

/**
 * What `fleetops fleet` reports per cluster, gathered from Temporal (the capacity workflow's status,
 * visibility for drains and readiness windows) and priced as the worker's fleet gauges are
 * (contracts/capacity/fleet.ts, common/pricing/): on-demand prices from the Price List API with the
 * caller's AWS credentials (pricing:GetProducts), else the config's `pricing.onDemandHourly`.
 */

export const INTERRUPTION_WINDOW_HOURS = 24;
const MAX_DRAINS_LISTED = 5_000;

export interface ClusterReport {
  cluster: string;
  /** The capacity workflow: running (with its view) or not (nothing is known of the pools). */
  capacity: 'running' | 'not running';
  view?: FleetView;
  interruptions: { hours: number; count: number; capped: boolean };
  readinessWindows: { workflowId: string; level: number; phase: string; start: string; end: string; floorUnits?: number }[];
  cost?: HourlyCost;
  prices?: { onDemand: Record<string, { usd: number; source: PriceSource }>; apiError?: string };
}

export interface FleetReportDeps {
  client: Client;
  config: FleetopsConfig | undefined;
  readinessWindows: (cluster: string) => Promise<ReadinessStatus[]>;
}

/** Clusters to report: the one asked for, else every running capacity workflow's and every configured one. */
export async function clustersToReport(client: Client, config: FleetopsConfig | undefined, asked?: string): Promise<string[]> {
  if (asked) return [asked];
  const found = new Set(Object.keys(config?.clusters ?? {}));
  for await (const wf of client.workflow.list({ query: `FleetopsKind = "capacity" AND ExecutionStatus = "Running"`, pageSize: 100 })) {
    found.add(wf.typedSearchAttributes.get(FleetopsCluster) ?? wf.workflowId.replace(/^capacity-/, ''));
  }
  return [...found].sort();
}

/** Drains started in the window; one the capacity workflow started (a scale-in, its child) is no interruption. */
async function interruptions(client: Client, cluster: string, now: number): Promise<ClusterReport['interruptions']> {
  const since = new Date(now - INTERRUPTION_WINDOW_HOURS * 3600_000).toISOString();
  const query = `FleetopsKind = "drain" AND FleetopsCluster = "${cluster}" AND StartTime > "${since}"`;
  let count = 0;
  let seen = 0;
  for await (const wf of client.workflow.list({ query, pageSize: 1000 })) {
    if (++seen > MAX_DRAINS_LISTED) return { hours: INTERRUPTION_WINDOW_HOURS, count, capped: true };
    if (!wf.parentExecution) count += 1;
  }
  return { hours: INTERRUPTION_WINDOW_HOURS, count, capped: false };
}

export async function clusterReport(ctx: CommandContext, deps: FleetReportDeps, cluster: string, now = Date.now()): Promise<ClusterReport> {
  const { client, config } = deps;
  // A closed capacity workflow's last status is no fleet: queries of closed runs are refused.
  const open = new WorkflowClient({ connection: client.connection, namespace: client.options.namespace, queryRejectCondition: 'NOT_OPEN' });
  const status = (await ctx.withDeadline(() => open.getHandle(capacityWorkflowId(cluster)).query(statusQuery)).catch(() => undefined)) as CapacityStatus | undefined;
  // Windows only: a readiness Schedule's runs (trigger, feed) share the kind but hold no window.
  const windows = (await deps.readinessWindows(cluster)).filter((w) => typeof w.id === 'string' && w.level !== undefined).map((w) => ({
    workflowId: `readiness-${w.cluster}-${w.id}`,
    level: w.level.level,
    phase: w.phase,
    start: w.start,
    end: w.end,
    ...(w.floorUnits !== undefined ? { floorUnits: w.floorUnits } : {}),
  }));
  const base = { cluster, interruptions: await interruptions(client, cluster, now), readinessWindows: windows };
  if (!status) return { ...base, capacity: 'not running' };
  const view = fleetView(status);
  const pricing = config?.pricing;
  const prices = createOnDemandPrices({
    api: pricing?.priceListApi ?? true,
    ...(pricing?.priceListApiRegion ? { apiRegion: pricing.priceListApiRegion } : {}),
    table: pricing?.onDemandHourly ?? {},
    ...(config?.aws.endpoint ? { endpoint: config.aws.endpoint } : {}),
    appId: AWS_APP_IDS.cli,
  });
  try {
    const region = config?.clusters[cluster]?.region ?? config?.aws.region ?? ctx.io.env.AWS_REGION ?? 'us-east-1';
    const found = await prices.lookup(region, fleetInstanceTypes(view));
    const onDemand = Object.fromEntries([...found.prices].map(([type, usd]) => [type, { usd, source: found.source.get(type)! }]));
    return { ...base, capacity: 'running', view, cost: fleetCost(view, (t) => found.prices.get(t)), prices: { onDemand, ...(found.apiError ? { apiError: found.apiError } : {}) } };
  } finally {
    prices.destroy();
  }
}
