/**
 * Incident severities, defined once: the config's `incidents.severities`, alarm routes, the
 * `Incident Declared` event, workflow inputs, the CLI and the worker's gauges all build on this list.
 * No value imports, so the workflow bundle can take it as a value.
 */
import type { AutomationKind } from '../workflow-kinds';

export const INCIDENT_SEVERITIES = ['sev1', 'sev2', 'sev3', 'sev4'] as const;
export type IncidentSeverity = (typeof INCIDENT_SEVERITIES)[number];

/** Severities whose open incidents freeze deploys to their cluster (FleetopsCluster). */
export const FREEZING_SEVERITIES = ['sev1', 'sev2'] as const satisfies readonly IncidentSeverity[];

/**
 * The severity each automation opens its own incidents at (common/workflow-kinds.ts): a capacity that
 * cannot make progress, a deploy whose rollback failed or a readiness floor not reached before its window is sev2, so it freezes the cluster's deploys;
 * a drain that missed its deadline or could not rerun tasks is sev3 (the instance is going either way).
 */
export const AUTOMATION_INCIDENT_SEVERITY = { drain: 'sev3', capacity: 'sev2', deploy: 'sev2', readiness: 'sev2' } as const satisfies Record<AutomationKind, IncidentSeverity>;

export function isIncidentSeverity(value: unknown): value is IncidentSeverity {
  return (INCIDENT_SEVERITIES as readonly unknown[]).includes(value);
}
