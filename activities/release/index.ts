import { WorkflowNotFoundError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../common/failures';
import type { DeployResult } from '../../contracts/canary-deploy/messages';
import { readinessFreezeReason } from '../../contracts/readiness/freeze';
import type { ActivityDeps } from '../deps';
import { createDeployIncidentActivities } from '../deploy/incidents';
import { createReadinessFreezeActivities } from '../deploy/readiness-freeze';

/** Where one deploy is, as a release that cannot await it as its child reads it. */
export type DeployRun =
  | { workflowId: string; state: 'running'; runId: string }
  | { workflowId: string; state: 'completed'; runId: string; result: DeployResult }
  /** Failed, cancelled, terminated or timed out: `status` says which, `message` why when Temporal tells. */
  | { workflowId: string; state: 'ended'; runId: string; status: string; message?: string }
  | { workflowId: string; state: 'not-found' };

/** A cluster deploys to which are frozen now, and why (the deploy's own wording). */
export interface FrozenCluster {
  cluster: string;
  reason: string;
}

/**
 * What a release (workflows/release/) asks of Temporal beside its children: whether the clusters of its
 * next deploys are frozen, and how deploys it cannot await as children are doing (a deploy of the
 * service running outside the release, and deploys an earlier run of the release started before it
 * continued as new).
 */
export function createReleaseActivities(deps: Pick<ActivityDeps, 'temporal'>) {
  const incidents = createDeployIncidentActivities(deps);
  const readiness = createReadinessFreezeActivities(deps);

  return {
    /** The clusters frozen now by an open sev1/sev2 incident or a readiness window that freezes deploys, each with its reason. */
    async findFrozenClusters(input: { clusters: string[] }): Promise<FrozenCluster[]> {
      const frozen: FrozenCluster[] = [];
      for (const cluster of input.clusters) {
        const open = await incidents.findBlockingIncidents({ cluster });
        if (open.length > 0) {
          const list = open.map((i) => `${i.workflowId} (${i.severity}${i.phase ? `, ${i.phase}` : ''})`).join(', ');
          frozen.push({ cluster, reason: `deploys to ${cluster} are frozen while incidents are open: ${list}` });
          continue;
        }
        const windows = await readiness.findFreezingWindows({ cluster });
        if (windows.length > 0) frozen.push({ cluster, reason: readinessFreezeReason(cluster, windows) });
      }
      return frozen;
    },

    /** Each deploy's state: a run by id, or (no runId) the latest run under the id, which may be none. */
    async deployRuns(input: { deploys: { workflowId: string; runId?: string }[] }): Promise<DeployRun[]> {
      if (!deps.temporal) {
        throw ApplicationFailure.nonRetryable('this worker has no Temporal client for release activities (ActivityDeps.temporal)', FailureType.InvalidRequest);
      }
      const { client } = deps.temporal;
      const out: DeployRun[] = [];
      for (const d of input.deploys) {
        const handle = client.workflow.getHandle(d.workflowId, d.runId);
        let desc;
        try {
          desc = await handle.describe();
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) {
            out.push({ workflowId: d.workflowId, state: 'not-found' });
            continue;
          }
          throw err;
        }
        const { runId } = desc;
        if (desc.status.name === 'RUNNING') out.push({ workflowId: d.workflowId, state: 'running', runId });
        else if (desc.status.name === 'COMPLETED') out.push({ workflowId: d.workflowId, state: 'completed', runId, result: (await handle.result()) as DeployResult });
        else {
          const message = await handle.result().then(
            () => undefined,
            (err: unknown) => (err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)),
          );
          out.push({ workflowId: d.workflowId, state: 'ended', runId, status: desc.status.name, ...(message ? { message } : {}) });
        }
      }
      return out;
    },
  };
}

export type ReleaseActivities = ReturnType<typeof createReleaseActivities>;
