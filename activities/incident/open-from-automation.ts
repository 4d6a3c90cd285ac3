import type { WorkflowClient } from '@temporalio/client';
import type { IncidentSeverity } from '../../common/incident/severity';
import { automationIncidentWorkflowId, incidentStartOptions, type IncidentScope } from '../../contracts/incident/start';
import type { IncidentInput, IncidentSource, IncidentTimelineEntry } from '../../contracts/incident/input';
import { incidentFactsSignal } from '../../contracts/incident/messages';

/**
 * "Open an incident from an automation", written once: a drain that missed its deadline
 * (activities/drain), a deploy whose rollback failed (activities/deploy/incidents.ts), and the generic
 * `openIncidentFromAutomation` activity (activities/incident) all call this.
 *
 * Signal-with-start of the `incident` workflow with the automation's facts as `incidentFacts`: the
 * incident starts if it is not running, and the facts reach it either way, so the report cannot be
 * lost between a start and a signal. A retry lands on the same workflow id, and the facts' `key`
 * makes the incident record them once.
 */
export interface AutomationIncident {
  title: string;
  severity: IncidentSeverity;
  /** Omitted from the start input when undefined. */
  summary?: string;
  /** The workflow reporting the problem (the incident's `source`). */
  origin: { workflowId: string; workflowKind: Extract<IncidentSource, { kind: 'workflow' }>['workflowKind'] };
  /** Same key, same facts recorded once: e.g. `<deploy workflow id>/<run id>/rollback-failed`. */
  key: string;
  entries: IncidentTimelineEntry[];
  /** `automationIncidentWorkflowId(title, key)` unless the automation has an id of its own (`incident-drain-<instance-id>`). */
  workflowId?: string;
  /** Search attributes beyond kind and severity; a sev1/sev2 incident with a cluster freezes its deploys. */
  scope?: IncidentScope;
  /** The Web UI's list text; incidentStartOptions' default when unset. */
  staticSummary?: string;
}

export async function openAutomationIncident(workflows: Pick<WorkflowClient, 'signalWithStart'>, req: AutomationIncident): Promise<{ workflowId: string }> {
  const workflowId = req.workflowId ?? automationIncidentWorkflowId(req.title, req.key);
  const input: IncidentInput = {
    title: req.title,
    severity: req.severity,
    ...(req.summary !== undefined ? { summary: req.summary } : {}),
    source: { kind: 'workflow', workflowId: req.origin.workflowId, workflowKind: req.origin.workflowKind },
  };
  const { workflowType, ...options } = incidentStartOptions(workflowId, input, {
    ...req.scope,
    ...(req.staticSummary !== undefined ? { staticSummary: req.staticSummary } : {}),
  });
  await workflows.signalWithStart(workflowType, {
    ...options,
    signal: incidentFactsSignal,
    signalArgs: [{ key: req.key, entries: req.entries }],
  });
  return { workflowId };
}
