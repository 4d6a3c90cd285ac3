import type { Client } from '@temporalio/client';
import type { MetricMeter } from '@temporalio/common';
import type { Logger } from '../common/logger';
import { METRICS } from '../common/metric-names';
import { INCIDENT_SEVERITIES } from '../common/incident/severity';
import type { IncidentPhase } from '../common/incident/model';

/**
 * Domain gauges the worker computes from Temporal visibility rather than from counters in workflow
 * code: "incidents open, by severity" must stay right across worker restarts, continue-as-new and an
 * incident's severity changing, which in-process counters cannot do. Every `everyMs` the worker counts
 * running incident workflows by FleetopsSeverity and FleetopsPhase and sets the gauge.
 */
export const OPEN_INCIDENTS_GAUGE = METRICS.incidentsOpen.name;
/** Phases in which an incident is still being handled (resolved ones wait for their postmortem). */
export const OPEN_INCIDENT_PHASES = ['opening', 'open', 'mitigated'] as const satisfies readonly IncidentPhase[];

export function openIncidentsQuery(severity: string): string {
  const phases = OPEN_INCIDENT_PHASES.map((p) => `"${p}"`).join(', ');
  return `FleetopsKind = "incident" AND ExecutionStatus = "Running" AND FleetopsSeverity = "${severity}" AND FleetopsPhase IN (${phases})`;
}

export interface DomainGauges {
  /** Counts once now (also called by the timer). */
  refresh(): Promise<Record<string, number>>;
  stop(): void;
}

export function startDomainGauges(opts: { client: Client; meter: MetricMeter; everyMs?: number; log?: Logger }): DomainGauges {
  const gauge = opts.meter.createGauge(OPEN_INCIDENTS_GAUGE, 'int', '1', METRICS.incidentsOpen.help);
  let running: Promise<Record<string, number>> | undefined;

  async function countAll(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const severity of INCIDENT_SEVERITIES) {
      const { count } = await opts.client.workflow.count(openIncidentsQuery(severity));
      counts[severity] = count;
      gauge.set(count, { severity });
    }
    return counts;
  }

  const refresh = (): Promise<Record<string, number>> => {
    running ??= countAll().finally(() => (running = undefined));
    return running;
  };

  const timer = setInterval(() => {
    refresh().catch((err: unknown) => opts.log?.warn({ err }, 'open incidents gauge: visibility count failed'));
  }, opts.everyMs ?? 30_000);
  timer.unref();
  void refresh().catch((err: unknown) => opts.log?.warn({ err }, 'open incidents gauge: visibility count failed'));

  return { refresh, stop: () => clearInterval(timer) };
}
