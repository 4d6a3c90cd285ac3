import { Context } from '@temporalio/activity';
import { AUTOMATION_INCIDENT_SEVERITY } from '../../common/incident/severity';
import { drainIncidentWorkflowId, memberAccountOf } from '../../common/workflow-ids';
import { clusterWorkflowPlacement } from '../../config/placement';
import { openAutomationIncident } from '../incident/open-from-automation';
import { taskId, type DrainContext } from './context';
import type { DrainIncidentFacts, DrainIncidentResult } from './types';

/** The incident a drain asks for when it missed its deadline or could not rerun standalone tasks. */

export function createDrainIncidentActivities({ deps }: DrainContext) {
  return {
    async requestDrainIncident(facts: DrainIncidentFacts): Promise<DrainIncidentResult> {
      const severity = AUTOMATION_INCIDENT_SEVERITY.drain;
      const now = new Date().toISOString();
      const what = facts.what ?? 'deadline-missed';
      const title = what === 'rerun-failed' ? `Drain of ${facts.instanceId}: standalone task(s) not rerun` : `Drain of ${facts.instanceId} missed its deadline`;
      const lines = [
        what === 'rerun-failed'
          ? `${facts.kind} drain of ${facts.instanceId}${facts.cluster ? ` in ${facts.cluster}` : ''} stopped standalone task(s) it could not run again elsewhere`
          : `${facts.kind} drain of ${facts.instanceId}${facts.cluster ? ` in ${facts.cluster}` : ''} missed its deadline ${facts.deadline}`,
        `tasks left: ${facts.tasksLeft}`,
        `done: ${facts.done.join(', ') || 'nothing'}`,
        `not done: ${facts.notDone.join(', ') || 'nothing'}`,
        ...(facts.rerunFailed ?? []).map((f) => `not rerun: ${taskId(f.from)}: ${f.reason}`),
        ...(facts.failure ? [`failure: ${facts.failure}`] : []),
      ];
      const placement = facts.cluster && deps.config.clusters[facts.cluster] ? clusterWorkflowPlacement(deps.config, facts.cluster) : undefined;
      // The worker's own client (SDK 1.24 activity context).
      const { workflowId } = await openAutomationIncident(Context.current().client.workflow, {
        workflowId: drainIncidentWorkflowId(facts.instanceId, memberAccountOf(placement)),
        title,
        severity,
        summary: lines.join('\n'),
        origin: { workflowId: facts.workflowId, workflowKind: 'drain' },
        key: `${facts.workflowId}/${what}`,
        entries: lines.map((text) => ({ time: now, author: facts.workflowId, kind: 'automation' as const, text })),
        scope: { cluster: facts.cluster, instanceId: facts.instanceId, ...(placement ? { placement } : {}) },
        staticSummary: title,
      });
      return { requested: true, workflowId, detail: `incident ${workflowId} (${severity}) asked for` };
    },
  };
}
