import { metricMeter } from '@temporalio/workflow';

/**
 * fleetops domain metrics, emitted from workflow code through the SDK's workflow `metricMeter`: the
 * worker exports them on its Prometheus endpoint (FLEETOPS_WORKER_METRICS_PORT) beside the SDK's own,
 * tagged by the worker with namespace, taskQueue and workflowType. The SDK drops them while a
 * workflow replays, so a worker restart or cache eviction never counts an event twice.
 *
 * One call per event, at the point the workflow decides it:
 *   recordDrainFinished('drained', secondsLeft, cluster)      spot-drain, when it returns its result
 *   recordPoolFallback(cluster, pool, 'capacity-error')      capacity, when a pool fails and the next is tried
 *   recordDeployFinished('rolled-back', cluster)             canary-deploy, in its finish
 *   recordIncidentOpened('sev2') / recordIncidentClosed('sev2')   incident, at open and at close/abort
 * Incidents open right now, by severity, is a gauge the worker computes from visibility
 * (workers/domain-gauges.ts), so it survives restarts, continue-as-new and severity changes.
 */
export const METRIC_NAMES = {
  drainsFinished: 'fleetops_drains_finished_total',
  drainSecondsLeft: 'fleetops_drain_seconds_left',
  poolFallbacks: 'fleetops_capacity_pool_fallbacks_total',
  deploysFinished: 'fleetops_deploys_finished_total',
  incidentsOpened: 'fleetops_incidents_opened_total',
  incidentsClosed: 'fleetops_incidents_closed_total',
} as const;

/** Drains by outcome (drained, not-in-cluster, deadline-missed, aborted), with the time left when it ended. */
export function recordDrainFinished(outcome: string, secondsLeft: number | undefined, cluster?: string): void {
  const tags = { outcome, cluster: cluster ?? 'none' };
  metricMeter.createCounter(METRIC_NAMES.drainsFinished, '1', 'Spot drains finished, by outcome').add(1, tags);
  if (secondsLeft !== undefined && Number.isFinite(secondsLeft)) {
    // A missed deadline has no time left; histograms take no negative values.
    metricMeter
      .createHistogram(METRIC_NAMES.drainSecondsLeft, 'float', 's', 'Seconds left before the deadline when a drain ended')
      .record(Math.max(0, secondsLeft), tags);
  }
}

/** A capacity pool that could not deliver (capacity error, fulfilment timeout) and was skipped for the next one. */
export function recordPoolFallback(cluster: string, pool: string, reason: 'capacity-error' | 'timeout' | 'error'): void {
  metricMeter
    .createCounter(METRIC_NAMES.poolFallbacks, '1', 'Scale-outs that fell back from a pool to the next one, by the pool that failed')
    .add(1, { cluster, pool, reason });
}

/** Deploys by outcome (promoted, rolled-back, rollback-failed, refused, dry-run-complete, aborted). */
export function recordDeployFinished(outcome: string, cluster: string): void {
  metricMeter.createCounter(METRIC_NAMES.deploysFinished, '1', 'Canary deploys finished, by outcome').add(1, { outcome, cluster });
}

/** Call once per incident (not again after continue-as-new). */
export function recordIncidentOpened(severity: string): void {
  metricMeter.createCounter(METRIC_NAMES.incidentsOpened, '1', 'Incidents opened, by severity').add(1, { severity });
}

export function recordIncidentClosed(severity: string, how: 'closed' | 'aborted' = 'closed'): void {
  metricMeter.createCounter(METRIC_NAMES.incidentsClosed, '1', 'Incidents closed, by severity').add(1, { severity, how });
}
