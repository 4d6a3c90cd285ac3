/**
 * Every Prometheus metric fleetops exports, by the name it has on the wire: the one table the worker,
 * the router and the dashboards and alert rules read, so a name changes in one place. Pure data: the
 * workflow bundle imports it too.
 *
 * How the names come out (checked by test/metrics/domain-metrics.test.ts on a real worker endpoint):
 *  - the worker's metrics go through the Temporal SDK's Prometheus exporter (Runtime.install in
 *    workers/main.ts), which adds no prefix to metrics made with a `metricMeter` (its own are
 *    `temporal_…`), adds no `_total` (countersTotalSuffix is off, so a counter is named with its
 *    `_total` here, once) and no unit suffix (unitSuffix is off: `fleetops_drain_seconds_left` stays
 *    that, its unit `s` only in the HELP line). A histogram is `<name>_bucket{le=…}`, `<name>_sum`,
 *    `<name>_count`, with the buckets below (histogramBucketOverrides; the SDK's default of
 *    50..10000 is for milliseconds);
 *  - metrics from workflow code carry the labels the SDK adds: `namespace`, `taskQueue`,
 *    `workflowType` (SDK_WORKFLOW_LABELS); the worker's own gauges carry only theirs;
 *  - the router's go through prom-client (router/metrics.ts) as named, plus its default process
 *    metrics under `fleetops_router_`.
 * No label holds an instance id, task id or anything else unbounded.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricSpec {
  readonly name: string;
  readonly type: MetricType;
  readonly labels: readonly string[];
  readonly help: string;
  /** Where it is made: workflow code (SDK metricMeter), the worker process, or the router. */
  readonly source: 'workflow' | 'worker' | 'router';
  readonly buckets?: readonly number[];
}

/** Labels the Temporal SDK adds to every metric made in workflow code. */
export const SDK_WORKFLOW_LABELS = ['namespace', 'taskQueue', 'workflowType'] as const;

const spec = <const L extends readonly string[]>(s: { name: string; type: MetricType; labels: L; help: string; source: MetricSpec['source']; buckets?: readonly number[] }) => s;

export const METRICS = {
  // ---- from workflow code (workflows/lib/metrics.ts): one count per decision, never again on replay ----
  drainsFinished: spec({ name: 'fleetops_drains_finished_total', type: 'counter', labels: ['outcome', 'cluster'], source: 'workflow', help: 'Spot drains finished, by outcome' }),
  drainSecondsLeft: spec({
    name: 'fleetops_drain_seconds_left',
    type: 'histogram',
    labels: ['outcome', 'cluster'],
    source: 'workflow',
    help: 'Seconds left before the deadline when a drain ended (0: missed)',
    // A warning gives 120 s; rebalance, lifecycle and scale-in deadlines run to 600-900 s.
    buckets: [0, 10, 30, 60, 90, 120, 300, 600, 900],
  }),
  interruptions: spec({
    name: 'fleetops_interruptions_total',
    type: 'counter',
    labels: ['cluster', 'pool', 'instance_type', 'zone', 'kind'],
    source: 'workflow',
    help: 'Instances AWS took or warned about, counted when their drain ends, by kind (interruption, rebalance, stopping, lifecycle, scheduled-change)',
  }),
  poolFallbacks: spec({ name: 'fleetops_capacity_pool_fallbacks_total', type: 'counter', labels: ['cluster', 'pool', 'reason'], source: 'workflow', help: 'Scale-outs that fell back from a pool to the next one, by the pool that failed' }),
  deploysFinished: spec({ name: 'fleetops_deploys_finished_total', type: 'counter', labels: ['outcome', 'cluster'], source: 'workflow', help: 'Canary deploys finished, by outcome' }),
  incidentsOpened: spec({ name: 'fleetops_incidents_opened_total', type: 'counter', labels: ['severity'], source: 'workflow', help: 'Incidents opened, by severity' }),
  incidentsClosed: spec({ name: 'fleetops_incidents_closed_total', type: 'counter', labels: ['severity', 'how'], source: 'workflow', help: 'Incidents closed, by severity' }),

  // ---- computed by the worker (workers/domain-gauges.ts, workers/fleet-metrics.ts) ----
  incidentsOpen: spec({ name: 'fleetops_incidents_open', type: 'gauge', labels: ['severity'], source: 'worker', help: 'Incidents open (not yet resolved), by severity' }),
  fleetUnits: spec({
    name: 'fleetops_fleet_units',
    type: 'gauge',
    labels: ['cluster', 'pool', 'market', 'state'],
    source: 'worker',
    help: 'Capacity units per pool: state=wanted (the pool target) or active (ACTIVE container instances)',
  }),
  fleetInstances: spec({
    name: 'fleetops_fleet_instances',
    type: 'gauge',
    labels: ['cluster', 'pool', 'market', 'instance_type', 'zone'],
    source: 'worker',
    help: 'ACTIVE container instances, by pool, instance type and zone',
  }),
  fleetSpotShare: spec({ name: 'fleetops_fleet_spot_share', type: 'gauge', labels: ['cluster'], source: 'worker', help: 'ACTIVE spot units / ACTIVE units (0..1)' }),
  onDemandFallbackSeconds: spec({
    name: 'fleetops_capacity_on_demand_fallback_seconds_total',
    type: 'counter',
    labels: ['cluster'],
    source: 'worker',
    help: 'Seconds the cluster ran on-demand units that a return to spot would move (fallen back from spot)',
  }),
  unmetUnits: spec({ name: 'fleetops_capacity_unmet_units', type: 'gauge', labels: ['cluster'], source: 'worker', help: 'Units no pool could deliver, kept for a retry' }),
  unmetAge: spec({ name: 'fleetops_capacity_unmet_age_seconds', type: 'gauge', labels: ['cluster'], source: 'worker', help: 'How long units have been unmet (0 when none are)' }),
  hourlyCost: spec({
    name: 'fleetops_fleet_hourly_cost_dollars',
    type: 'gauge',
    labels: ['cluster', 'basis'],
    source: 'worker',
    help: 'USD an hour of the priced instances: basis=actual (spot and on-demand prices) or on_demand (all of them on demand)',
  }),
  savingsRatio: spec({ name: 'fleetops_fleet_savings_ratio', type: 'gauge', labels: ['cluster'], source: 'worker', help: '1 - actual / on_demand hourly cost (below 0 only if spot cost more)' }),
  unpricedInstances: spec({ name: 'fleetops_fleet_unpriced_instances', type: 'gauge', labels: ['cluster'], source: 'worker', help: 'Instances left out of the hourly cost: no price known for their type (or zone)' }),
  fleetDataAge: spec({
    name: 'fleetops_fleet_data_age_seconds',
    type: 'gauge',
    labels: ['cluster'],
    source: 'worker',
    help: "Age of the capacity workflow's last read of its pools, which the fleet gauges show",
  }),

  // ---- the router (router/metrics.ts) ----
  routerEventsReceived: spec({ name: 'fleetops_router_events_received_total', type: 'counter', labels: ['kind', 'transport'], source: 'router', help: 'Valid events received, by event kind (unknown kinds as "unknown") and transport.' }),
  routerEventsRouted: spec({ name: 'fleetops_router_events_routed_total', type: 'counter', labels: ['action', 'kind', 'transport'], source: 'router', help: 'Events carried out, by result action (started, signaled, duplicate, ignored) and event kind.' }),
  routerDrainHeadStart: spec({ name: 'fleetops_router_drain_head_start_total', type: 'counter', labels: ['outcome', 'transport'], source: 'router', help: 'Instances sent to a drain coordinator ahead of their drains (router/head-start.ts), by outcome (sent, duplicate, failed).' }),
  routerEventsIgnored: spec({ name: 'fleetops_router_events_ignored_total', type: 'counter', labels: ['kind', 'transport'], source: 'router', help: 'Events no route matched or whose target workflow was not running, by event kind.' }),
  routerEventsInvalid: spec({ name: 'fleetops_router_events_invalid_total', type: 'counter', labels: ['reason', 'transport'], source: 'router', help: 'Requests or messages rejected before routing, by reason (json, validation, auth, too_large, content_type, ...).' }),
  routerEventsFailed: spec({ name: 'fleetops_router_events_failed_total', type: 'counter', labels: ['reason', 'transport'], source: 'router', help: 'Events not carried out because a Temporal call failed (sender retries), by reason.' }),
  routerTemporalCall: spec({
    name: 'fleetops_router_temporal_call_seconds',
    type: 'histogram',
    labels: ['operation', 'outcome'],
    source: 'router',
    help: 'Latency of the Temporal start / signal-with-start / signal call per event, by operation and outcome.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  }),
  routerSqsMessages: spec({ name: 'fleetops_router_sqs_messages_total', type: 'counter', labels: ['outcome'], source: 'router', help: 'SQS messages by what became of them (received, deleted, poison, retry).' }),
  routerSqsVisibilityExtensions: spec({ name: 'fleetops_router_sqs_visibility_extensions_total', type: 'counter', labels: [], source: 'router', help: 'Visibility timeout extensions for messages whose start took long (or that wait for Temporal).' }),
  routerEventAge: spec({
    name: 'fleetops_router_event_age_seconds',
    type: 'histogram',
    labels: ['kind', 'transport'],
    source: 'router',
    help: "Event time (the envelope's `time`) to the event's workflow start or signal accepted by Temporal, by event kind and transport.",
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600],
  }),
  routerSqsMessageSeconds: spec({
    name: 'fleetops_router_sqs_message_seconds',
    type: 'histogram',
    labels: [],
    source: 'router',
    help: "SQS message SentTimestamp to the message deleted after its events were carried out: the queue's part of an event's age.",
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300],
  }),
  routerSqsCall: spec({
    name: 'fleetops_router_sqs_call_seconds',
    type: 'histogram',
    labels: ['operation', 'outcome'],
    source: 'router',
    help: 'SQS API call latency by operation (ReceiveMessage includes its long-poll wait) and outcome.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20],
  }),
  routerSqsReceivingPaused: spec({
    name: 'fleetops_router_sqs_receiving_paused',
    type: 'gauge',
    labels: [],
    source: 'router',
    help: '1 while the SQS consumer has stopped receiving because Temporal does not answer or refuses the router (credentials, namespace, cluster setup); events wait on the queue. Else 0.',
  }),
  routerSqsReceivingPauses: spec({
    name: 'fleetops_router_sqs_receiving_pauses_total',
    type: 'counter',
    labels: ['code'],
    source: 'router',
    help: 'Times the SQS consumer stopped receiving, by the gRPC status that made it (UNAVAILABLE, DEADLINE_EXCEEDED, UNAUTHENTICATED, PERMISSION_DENIED, NOT_FOUND, INVALID_ARGUMENT, ...).',
  }),
  routerDlqMessages: spec({ name: 'fleetops_router_dlq_messages', type: 'gauge', labels: [], source: 'router', help: "Messages in the events queue's dead-letter queue (visible and in flight), as SQS approximates them." }),
  routerHttpResponses: spec({
    name: 'fleetops_router_http_responses_total',
    type: 'counter',
    labels: ['route', 'code'],
    source: 'router',
    help: 'HTTP responses of both listeners, by route (the matched route pattern, "unmatched" for a 404 with none) and status code: 503s on /events are senders told to retry.',
  }),
  routerDlqOldestAge: spec({
    name: 'fleetops_router_dlq_oldest_message_age_seconds',
    type: 'gauge',
    labels: [],
    source: 'router',
    help: 'Age (from SentTimestamp) of the oldest message seen in the dead-letter queue; 0 when it is empty. Sampled: SQS returns a subset per receive.',
  }),
} as const satisfies Record<string, MetricSpec>;

export type MetricKey = keyof typeof METRICS;

/** Bucket boundaries of the worker's histograms, for the SDK's Prometheus exporter (histogramBucketOverrides). */
export function workerHistogramBuckets(): Record<string, number[]> {
  return Object.fromEntries(
    Object.values(METRICS as Record<string, MetricSpec>)
      .filter((m) => m.source !== 'router' && m.type === 'histogram' && m.buckets)
      .map((m) => [m.name, [...m.buckets!]]),
  );
}
