import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../common/failures';
import { statusQuery } from '../../contracts/controls';
import { FREEZING_READINESS_PHASE, type ReadinessStatus } from '../../contracts/readiness/messages';
import type { FreezingWindow } from '../../contracts/readiness/freeze';
import type { ActivityDeps } from '../deps';

/**
 * Readiness windows that freeze deploys to a cluster: windows (workflows/readiness/) whose level says
 * so are in FleetopsPhase `holding-frozen` from their start to their end. The deploy's preflight and a
 * scheduled deploy's trigger refuse with the window's own reason, beside the incident freeze's.
 */

function quote(v: string): string {
  return `'${v.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/** Visibility query for the cluster's running windows that freeze deploys now. */
export function freezingWindowsQuery(cluster: string): string {
  return [`FleetopsKind = 'readiness'`, `FleetopsCluster = ${quote(cluster)}`, `FleetopsPhase = ${quote(FREEZING_READINESS_PHASE)}`, `ExecutionStatus = 'Running'`].join(' AND ');
}

export function createReadinessFreezeActivities(deps: Pick<ActivityDeps, 'temporal'>) {
  return {
    /** The cluster's readiness windows freezing deploys now (visibility query), with each window's reason. */
    async findFreezingWindows(input: { cluster: string }): Promise<FreezingWindow[]> {
      if (!deps.temporal) {
        throw ApplicationFailure.nonRetryable('this worker has no Temporal client for deploy activities (ActivityDeps.temporal)', FailureType.InvalidRequest);
      }
      const { client } = deps.temporal;
      const found: FreezingWindow[] = [];
      for await (const wf of client.workflow.list({ query: freezingWindowsQuery(input.cluster), pageSize: 20 })) {
        // The reason is the window's own; a window that does not answer still freezes, named by its id.
        const s = (await client.workflow.getHandle(wf.workflowId).query(statusQuery).catch(() => undefined)) as ReadinessStatus | undefined;
        found.push({ workflowId: wf.workflowId, ...(s ? { level: s.level.level, end: s.end, reason: s.reason } : {}) });
        if (found.length >= 10) break;
      }
      return found;
    },
  };
}
