import { Context } from '@temporalio/activity';
import { WithStartWorkflowOperation } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import { FailureType } from '../../common/failures';
import { acquireDrainSlotUpdate } from '../../contracts/drain-budget/messages';
import { drainBudgetStartOptions } from '../../contracts/drain-budget/start';
import type { SlotDrainingInput, SlotDrainingResult } from './types';

/**
 * The voluntary-drain budget held by a workflow (workflows/drain-budget/): a drain's slot taken with
 * update-with-start (the first drain of a cluster starts the budget), then DRAINING set; and the
 * budget's own look-up of the runs that hold slots. The grant is atomic across workers because the
 * budget workflow decides it; the sweep here only tells it which other instances are DRAINING.
 */

/** What the slot calls need of a cluster's shared calls (shared-calls.ts; tests pass a fake cluster). */
export interface SlotCalls {
  /** The cluster's DRAINING container instances, from a sweep started now or later. */
  drainingIn(cluster: string): Promise<string[]>;
  setDraining(cluster: string, containerInstanceArn: string): Promise<unknown>;
}

export interface SlotOptions {
  /** The budget workflows' task queue (default: contracts/registry.ts); tests run theirs on their own. */
  budgetTaskQueue?: string;
}

export function createSlotActivities(callsFor: (cluster: string) => SlotCalls, opts: SlotOptions = {}) {
  return {
    /**
     * DRAINING for a voluntary drain once its cluster's budget grants it a slot; `granted: false`
     * means wait and ask again. The slot belongs to the calling drain's run (the activity's own
     * workflow execution), so a retried attempt asks for the slot it may already hold and is granted.
     */
    async setDrainingWithSlot(input: SlotDrainingInput): Promise<SlotDrainingResult> {
      const params = { cluster: input.cluster, containerInstances: [input.containerInstanceArn], status: 'DRAINING' };
      // A dry run changes nothing, so it takes no slot (as before the budget was a workflow).
      if (input.dryRun) return { granted: true, holders: 0, others: 0, budget: input.budget, dryRunCalls: [{ action: 'ecs:UpdateContainerInstancesState', params }] };
      const calls = callsFor(input.cluster);
      const execution = Context.current().info.workflowExecution;
      // Only a workflow's activity can hold a slot: the slot is its run's.
      if (!execution) throw ApplicationFailure.nonRetryable('setDrainingWithSlot runs for a drain workflow only', FailureType.InvalidRequest);
      const { workflowId, runId } = execution;
      const draining = await calls.drainingIn(input.cluster);
      const { workflowType, args, ...start } = drainBudgetStartOptions(input.cluster);
      const startWorkflowOperation = new WithStartWorkflowOperation(workflowType, { ...start, args, taskQueue: opts.budgetTaskQueue ?? start.taskQueue });
      const answer = await Context.current().client.workflow.executeUpdateWithStart(acquireDrainSlotUpdate, {
        args: [{ workflowId, runId, instanceId: input.instanceId, containerInstanceArn: input.containerInstanceArn, budget: input.budget, draining }],
        startWorkflowOperation,
      });
      if (answer.granted) await calls.setDraining(input.cluster, input.containerInstanceArn);
      return { ...answer, dryRunCalls: [] };
    },

    /** The workflow ids of the holders whose run is closed (or gone): their slots are free. */
    async drainSlotHoldersClosed({ holders }: { holders: { workflowId: string; runId: string }[] }): Promise<string[]> {
      const client = Context.current().client;
      const closed = await Promise.all(
        holders.map(async (h) => {
          try {
            const d = await client.workflow.getHandle(h.workflowId, h.runId).describe();
            return d.status.name === 'RUNNING' ? undefined : h.workflowId;
          } catch (err) {
            if (err instanceof WorkflowNotFoundError) return h.workflowId;
            throw err;
          }
        }),
      );
      return closed.filter((id): id is string => id !== undefined);
    },
  };
}
