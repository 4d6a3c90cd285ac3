import { Context } from '@temporalio/activity';
import { capacityStartOptions } from '../contracts/capacity/start';
import type { ReadinessFloor } from '../contracts/capacity/input';
import { readinessFloorSignal } from '../contracts/capacity/messages';
import { clusterWorkflowPlacement } from '../config/placement';
import type { ActivityDeps } from './deps';

/**
 * What a readiness window (workflows/readiness/) asks of the cluster's capacity workflow: hold or
 * release its floor, by signal-with-start so a cluster whose capacity workflow is not running yet
 * gets one. Reading the cluster's units is the capacity activities' describeCapacity.
 */
export interface ReadinessFloorRequest {
  cluster: string;
  floor: ReadinessFloor;
}

export function createReadinessActivities(deps: Pick<ActivityDeps, 'config'>) {
  return {
    async sendReadinessFloor(input: ReadinessFloorRequest): Promise<{ workflowId: string }> {
      const placement = clusterWorkflowPlacement(deps.config, input.cluster);
      const { workflowType, ...start } = capacityStartOptions(input.cluster, placement ? { placement } : {});
      await Context.current().client.workflow.signalWithStart(workflowType, {
        ...start,
        signal: readinessFloorSignal,
        signalArgs: [input.floor],
      });
      return { workflowId: start.workflowId };
    },
  };
}

export type ReadinessActivities = ReturnType<typeof createReadinessActivities>;
