/**
 * Incident severities, defined once: the config's `incidents.severities`, alarm routes, the
 * `Incident Declared` event, workflow inputs, the CLI and the worker's gauges all build on this list.
 * No imports, so the workflow bundle can take it as a value.
 */
export const INCIDENT_SEVERITIES = ['sev1', 'sev2', 'sev3', 'sev4'] as const;
export type IncidentSeverity = (typeof INCIDENT_SEVERITIES)[number];

/** Severities whose open incidents freeze deploys to their cluster (FleetopsCluster). */
export const FREEZING_SEVERITIES = ['sev1', 'sev2'] as const satisfies readonly IncidentSeverity[];

export function isIncidentSeverity(value: unknown): value is IncidentSeverity {
  return (INCIDENT_SEVERITIES as readonly unknown[]).includes(value);
}
