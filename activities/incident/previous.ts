import type { Client } from '@temporalio/client';
import type { PostmortemLocations, PreviousIncident } from '../../common/incident/model';

/**
 * The closed incident an incident recurs: an alarm's incidents (`incident-alarm-<name>`) and a drain's
 * (`incident-drain-<instance>`) reuse their workflow id, so an earlier run of the same id that is no
 * longer running is the previous occurrence. Found through visibility (the latest to close wins; runs
 * that continued as new are links of a chain, not occurrences), its postmortem locations read from its
 * result. Visibility is eventually consistent: a run closed a second ago may not be listed yet.
 */

const MAX_RUNS_READ = 200;

function quote(v: string): string {
  return `'${v.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

export function previousRunsQuery(workflowId: string): string {
  return `WorkflowId = ${quote(workflowId)} AND ExecutionStatus != 'Running' AND ExecutionStatus != 'ContinuedAsNew'`;
}

interface IncidentResultLike {
  postmortemPath?: string;
  postmortemPullRequest?: string;
}

export async function findPreviousIncident(client: Client, req: { workflowId: string; runId: string }): Promise<PreviousIncident | null> {
  let latest: { runId: string; status: string; closeTime?: Date; startTime: Date } | undefined;
  let read = 0;
  for await (const wf of client.workflow.list({ query: previousRunsQuery(req.workflowId), pageSize: 100 })) {
    if (wf.runId !== req.runId) {
      const at = (wf.closeTime ?? wf.startTime).getTime();
      const best = latest ? (latest.closeTime ?? latest.startTime).getTime() : -Infinity;
      if (at > best) latest = { runId: wf.runId, status: wf.status.name, closeTime: wf.closeTime, startTime: wf.startTime };
    }
    if (++read >= MAX_RUNS_READ) break;
  }
  if (!latest) return null;
  let postmortem: PostmortemLocations | undefined;
  if (latest.status === 'COMPLETED') {
    const result = (await client.workflow.getHandle(req.workflowId, latest.runId, { followRuns: false }).result()) as IncidentResultLike | undefined;
    if (result?.postmortemPath || result?.postmortemPullRequest) {
      postmortem = {
        ...(result.postmortemPath ? { stored: result.postmortemPath } : {}),
        ...(result.postmortemPullRequest ? { pullRequest: result.postmortemPullRequest } : {}),
      };
    }
  }
  return {
    workflowId: req.workflowId,
    runId: latest.runId,
    status: latest.status,
    ...(latest.closeTime ? { closedAt: latest.closeTime.toISOString() } : {}),
    ...(postmortem ? { postmortem } : {}),
  };
}
