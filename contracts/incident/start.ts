import type { SearchAttributePair, WorkflowIdReusePolicy } from '@temporalio/common';
import { FleetopsCluster, FleetopsInstanceId, FleetopsKind, FleetopsService, FleetopsSeverity, placementAttributes } from '../../common/search-attributes';
import { declaredIncidentWorkflowId } from '../../common/workflow-ids';
import type { IncidentInput } from './input';
import { WORKFLOWS } from '../registry';

/** The workflow type as registered (contracts/registry.ts). */
export const INCIDENT_WORKFLOW_TYPE = WORKFLOWS.incident.type;

/**
 * What an incident is about, as search attributes. A sev1/sev2 incident with a cluster freezes deploys
 * to it (activities/deploy/incidents.ts finds them by FleetopsCluster), whoever opened it.
 */
export interface IncidentScope {
  cluster?: string;
  service?: string;
  /** The instance a drain incident is about (FleetopsInstanceId). */
  instanceId?: string;
  /** The account and region the incident is about (FleetopsAccount, FleetopsRegion). */
  placement?: { account: string; region: string };
}

export interface IncidentStartExtras extends IncidentScope {
  /** The Web UI's list text; `<severity> incident: <title>` when unset. */
  staticSummary?: string;
  /** What a closed incident with the same id means for this start; the server's default when unset. */
  workflowIdReusePolicy?: WorkflowIdReusePolicy;
}

export interface IncidentStartOptions {
  workflowType: typeof INCIDENT_WORKFLOW_TYPE;
  workflowId: string;
  taskQueue: string;
  args: [IncidentInput];
  typedSearchAttributes: SearchAttributePair[];
  staticSummary: string;
  workflowIdReusePolicy?: WorkflowIdReusePolicy;
}

/**
 * Start options every starter of the `incident` workflow uses (router, CLI, the automation activities),
 * so task queue, search attributes and static summary are built one way whoever opens an incident.
 * Spread into `client.workflow.start(INCIDENT_WORKFLOW_TYPE, ...)` or `signalWithStart`; the router
 * builds its raw-gRPC target from the same fields.
 */
export function incidentStartOptions(workflowId: string, input: IncidentInput, extras: IncidentStartExtras = {}): IncidentStartOptions {
  const typedSearchAttributes: SearchAttributePair[] = [
    { key: FleetopsKind, value: WORKFLOWS.incident.kind },
    { key: FleetopsSeverity, value: input.severity },
    ...(extras.cluster ? [{ key: FleetopsCluster, value: extras.cluster }] : []),
    ...(extras.service ? [{ key: FleetopsService, value: extras.service }] : []),
    ...(extras.instanceId ? [{ key: FleetopsInstanceId, value: extras.instanceId }] : []),
    ...placementAttributes(extras.placement),
  ];
  return {
    workflowType: INCIDENT_WORKFLOW_TYPE,
    workflowId,
    taskQueue: WORKFLOWS.incident.taskQueue,
    args: [input],
    typedSearchAttributes,
    staticSummary: extras.staticSummary ?? `${input.severity} incident: ${input.title}`.slice(0, 200),
    ...(extras.workflowIdReusePolicy ? { workflowIdReusePolicy: extras.workflowIdReusePolicy } : {}),
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
 * Id of an incident an automation opens: derived from the automation's key (e.g. `<deploy id>/<run id>/
 * rollback-failed`), so a retried report joins the incident the first attempt opened.
 */
export function automationIncidentWorkflowId(title: string, key: string): string {
  return declaredIncidentWorkflowId(title, stableShortId(key));
}
