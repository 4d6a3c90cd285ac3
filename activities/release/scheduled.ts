import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../common/failures';
import { releaseWorkflowId } from '../../common/workflow-ids';
import { ReleaseRequestRefused, releaseStartFor } from '../../contracts/release/request';
import type { ReleaseTriggerInput, ReleaseTriggerResult } from '../../contracts/release-trigger/input';
import { releaseRunId } from '../../contracts/release-trigger/start';
import type { ActivityDeps } from '../deps';
import { SCHEDULED_BY_MEMO } from '../deploy/scheduled';

/**
 * The scheduled release's start (workflows/release-trigger/): the same start as `fleetops release
 * start`'s, at the time the Schedule fires, under the run's own release id. No freeze check here: a
 * release holds a wave whose clusters are frozen itself, so a run inside a freeze starts and waits.
 */
export function createScheduledReleaseActivities(deps: Pick<ActivityDeps, 'config' | 'temporal'>) {
  return {
    /**
     * Starts `release-<id>-<yyyymmdd-hhmm>` (the minute of `at`, the trigger's start) through
     * releaseStartFor: every service configured, every image allowed, approvers from today's config. A
     * refusal is returned, not thrown. Idempotent: a retry after a start whose answer was lost finds its
     * release by the memo and reports it started.
     */
    async startScheduledRelease(args: { trigger: ReleaseTriggerInput; triggerRun: string; at: string }): Promise<ReleaseTriggerResult> {
      if (!deps.temporal) {
        throw ApplicationFailure.nonRetryable('this worker has no Temporal client to start scheduled releases (ActivityDeps.temporal)', FailureType.InvalidRequest);
      }
      const { client } = deps.temporal;
      const id = releaseRunId(args.trigger.request.id, Date.parse(args.at));
      const workflowId = releaseWorkflowId(id);
      let options: ReturnType<typeof releaseStartFor>;
      try {
        options = releaseStartFor(deps.config, { ...args.trigger.request, id });
      } catch (err) {
        if (err instanceof ReleaseRequestRefused) return { refused: { field: err.field, reason: err.message }, releaseWorkflowId: workflowId };
        throw err;
      }
      const { workflowType, ...start } = options;
      try {
        const handle = await client.workflow.start(workflowType, { ...start, workflowIdConflictPolicy: 'FAIL', memo: { [SCHEDULED_BY_MEMO]: args.triggerRun } });
        return { started: { workflowId: handle.workflowId, runId: handle.firstExecutionRunId } };
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        const existing = await client.workflow.getHandle(workflowId).describe();
        if (existing.memo?.[SCHEDULED_BY_MEMO] === args.triggerRun) return { started: { workflowId, runId: existing.runId } };
        return { refused: { field: 'exists', reason: `release ${id} exists already (${workflowId}): a release id is used once` }, releaseWorkflowId: workflowId };
      }
    },
  };
}

export type ScheduledReleaseActivities = ReturnType<typeof createScheduledReleaseActivities>;
