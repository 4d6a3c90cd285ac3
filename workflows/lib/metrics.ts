import { metricMeter } from '@temporalio/workflow';
import { METRICS } from '../../common/metric-names';

/**
 * fleetops domain metrics, emitted from workflow code through the SDK's workflow `metricMeter`: the
 * worker exports them on its Prometheus endpoint (FLEETOPS_WORKER_METRICS_PORT) beside the SDK's own,
 * tagged by the worker with namespace, taskQueue and workflowType. The SDK drops them while a
 * workflow replays, so a worker restart or cache eviction never counts an event twice.
 *
 * One call per event, at the point the workflow decides it:
 *   recordDrainFinished('drained', secondsLeft, cluster)      spot-drain, when it returns its result
 *   recordInterruption({ cluster, pool, ... kind })          spot-drain, when a drain of an AWS interruption ends
 *   recordPoolFallback(cluster, pool, 'capacity-error')      capacity, when a pool fails and the next is tried
 *   recordDeployFinished('rolled-back', cluster)             canary-deploy, in its finish
 *   recordIncidentOpened('sev2') / recordIncidentClosed('sev2')   incident, at open and at close/abort
 * Incidents open right now, by severity, is a gauge the worker computes from visibility
 * (workers/domain-gauges.ts), so it survives restarts, continue-as-new and severity changes; so are
 * the fleet gauges (workers/fleet-metrics.ts). Names, labels and buckets: common/metric-names.ts.
 */

/** Drains by outcome (drained, not-in-cluster, deadline-missed, aborted), with the time left when it ended. */
export function recordDrainFinished(outcome: string, secondsLeft: number | undefined, cluster?: string): void {
  const tags = { outcome, cluster: cluster ?? 'none' };
  metricMeter.createCounter(METRICS.drainsFinished.name, '1', METRICS.drainsFinished.help).add(1, tags);
  if (secondsLeft !== undefined && Number.isFinite(secondsLeft)) {
    // A missed deadline has no time left; histograms take no negative values.
    metricMeter
      .createHistogram(METRICS.drainSecondsLeft.name, 'float', 's', METRICS.drainSecondsLeft.help)
      .record(Math.max(0, secondsLeft), tags);
  }
}

/** What kind of interruption a drain handled, as the metric labels it. */
export type InterruptionKind = 'interruption' | 'rebalance' | 'stopping' | 'lifecycle' | 'scheduled-change';

/**
 * One instance AWS took or warned about (not a scale-in fleetops chose), with where it ran; what the
 * drain could not learn (its pool, when it never looked it up) is `unknown`.
 */
export function recordInterruption(i: { cluster: string; pool?: string; instanceType?: string; zone?: string; kind: InterruptionKind }): void {
  metricMeter.createCounter(METRICS.interruptions.name, '1', METRICS.interruptions.help).add(1, {
    cluster: i.cluster,
    pool: i.pool ?? 'unknown',
    instance_type: i.instanceType ?? 'unknown',
    zone: i.zone ?? 'unknown',
    kind: i.kind,
  });
}

/** A capacity pool that could not deliver (capacity error, fulfilment timeout) and was skipped for the next one. */
export function recordPoolFallback(cluster: string, pool: string, reason: 'capacity-error' | 'timeout' | 'error'): void {
  metricMeter
    .createCounter(METRICS.poolFallbacks.name, '1', METRICS.poolFallbacks.help)
    .add(1, { cluster, pool, reason });
}

/** Deploys by outcome (promoted, rolled-back, rollback-failed, refused, dry-run-complete, aborted). */
export function recordDeployFinished(outcome: string, cluster: string): void {
  metricMeter.createCounter(METRICS.deploysFinished.name, '1', METRICS.deploysFinished.help).add(1, { outcome, cluster });
}

/** Call once per incident (not again after continue-as-new). */
export function recordIncidentOpened(severity: string): void {
  metricMeter.createCounter(METRICS.incidentsOpened.name, '1', METRICS.incidentsOpened.help).add(1, { severity });
}

export function recordIncidentClosed(severity: string, how: 'closed' | 'aborted' = 'closed'): void {
  metricMeter.createCounter(METRICS.incidentsClosed.name, '1', METRICS.incidentsClosed.help).add(1, { severity, how });
}
