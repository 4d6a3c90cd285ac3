import type { SearchAttributePair } from '@temporalio/common';
import { FleetopsCluster, FleetopsKind, FleetopsService, FleetopsSeverity } from './search-attributes';
import { TASK_QUEUE_DEFAULT } from './task-queues';
import { declaredIncidentWorkflowId } from './workflow-ids';
import type { IncidentInput } from './workflow-inputs';

/**
 * What an incident is about, as search attributes. A sev1/sev2 incident with a cluster freezes deploys
 * to it (activities/deploy/incidents.ts finds them by FleetopsCluster), whoever opened it.
 */
export interface IncidentScope {
  cluster?: string;
  service?: string;
}

/**
 * Start options every starter of the `incident` workflow uses (router, CLI, the automation activity),
 * so task queue, search attributes and static summary are the same whoever opens an incident.
 * Spread into `client.workflow.start('incident', ...)` or `signalWithStart`.
 */
export function incidentStartOptions(workflowId: string, input: IncidentInput, scope: IncidentScope = {}) {
  const typedSearchAttributes: SearchAttributePair[] = [
    { key: FleetopsKind, value: 'incident' },
    { key: FleetopsSeverity, value: input.severity },
    ...(scope.cluster ? [{ key: FleetopsCluster, value: scope.cluster }] : []),
    ...(scope.service ? [{ key: FleetopsService, value: scope.service }] : []),
  ];
  return {
    taskQueue: TASK_QUEUE_DEFAULT,
    workflowId,
    args: [input] as [IncidentInput],
    typedSearchAttributes,
    staticSummary: `${input.severity} incident: ${input.title}`.slice(0, 200),
  };
}

/** 8 hex chars of FNV-1a: a short id that is the same every time for the same key. */
export function stableShortId(key: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/**
 * Id of an incident an automation opens: derived from the automation's key (e.g. `<drain id>/<run id>/
 * deadline-missed`), so a retried report joins the incident the first attempt opened.
 */
export function automationIncidentWorkflowId(title: string, key: string): string {
  return declaredIncidentWorkflowId(title, stableShortId(key));
}
