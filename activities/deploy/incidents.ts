import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../common/failures';
import type { IncidentPhase } from '../../common/incident/model';
import { AUTOMATION_INCIDENT_SEVERITY, FREEZING_SEVERITIES } from '../../common/incident/severity';
import { automationIncidentWorkflowId } from '../../contracts/incident/start';
import type { ActivityDeps } from '../deps';
import { openAutomationIncident } from '../incident/open-from-automation';
import type { BlockingIncident, DeployIncidentRequest } from './types';

/** Incident phases after which deploys may go again. */
const RESOLVED_INCIDENT_PHASES: readonly IncidentPhase[] = ['postmortem', 'postmortem-overdue', 'closed', 'aborted'];

function quote(v: string): string {
  return `'${v.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/** Visibility query for incidents that freeze deploys to a cluster; an unknown phase counts as open. */
export function blockingIncidentsQuery(cluster: string): string {
  return [
    `FleetopsKind = 'incident'`,
    `FleetopsCluster = ${quote(cluster)}`,
    `FleetopsSeverity IN (${FREEZING_SEVERITIES.map(quote).join(', ')})`,
    // An incident that has not run its first workflow task has no phase yet, and is open.
    `(FleetopsPhase IS NULL OR FleetopsPhase NOT IN (${RESOLVED_INCIDENT_PHASES.map(quote).join(', ')}))`,
    `ExecutionStatus = 'Running'`,
  ].join(' AND ');
}

function temporalOf(deps: Pick<ActivityDeps, 'temporal'>) {
  if (!deps.temporal) {
    throw ApplicationFailure.nonRetryable('this worker has no Temporal client for deploy activities (ActivityDeps.temporal)', FailureType.InvalidRequest);
  }
  return deps.temporal;
}

export function createDeployIncidentActivities(deps: Pick<ActivityDeps, 'temporal'>) {
  return {
    /** Open sev1/sev2 incidents for the cluster (visibility query); any one freezes deploys. */
    async findBlockingIncidents(input: { cluster: string }): Promise<BlockingIncident[]> {
      const { client } = temporalOf(deps);
      const found: BlockingIncident[] = [];
      for await (const wf of client.workflow.list({ query: blockingIncidentsQuery(input.cluster), pageSize: 50 })) {
        const attr = (key: string): string => {
          const v = wf.searchAttributes[key];
          return Array.isArray(v) && v.length > 0 ? String(v[0]) : '';
        };
        found.push({ workflowId: wf.workflowId, severity: attr('FleetopsSeverity'), phase: attr('FleetopsPhase') });
        if (found.length >= 20) break;
      }
      return found;
    },

    /**
     * A rollback that could not finish: signal-with-start an incident with the facts, keyed by the
     * deploy run so a retried request joins the incident the first attempt opened.
     */
    async requestDeployIncident(req: DeployIncidentRequest): Promise<{ workflowId: string }> {
      const { client } = temporalOf(deps);
      const key = `${req.deployWorkflowId}/${req.deployRunId}/rollback-failed`;
      const time = new Date().toISOString();
      return openAutomationIncident(client.workflow, {
        // The id is derived from the whole title; the start input carries at most 200 characters of it.
        workflowId: automationIncidentWorkflowId(req.title, key),
        title: req.title.slice(0, 200),
        severity: AUTOMATION_INCIDENT_SEVERITY.deploy,
        summary: req.summary.slice(0, 4000),
        origin: { workflowId: req.deployWorkflowId, workflowKind: 'deploy' },
        key,
        entries: Object.entries(req.facts).map(([k, v]) => ({
          time,
          author: req.deployWorkflowId.slice(0, 255),
          kind: 'automation' as const,
          text: `${k}: ${v}`.slice(0, 4000),
        })).slice(0, 50),
        scope: { cluster: req.cluster, service: req.service },
      });
    },
  };
}
