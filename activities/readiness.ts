import { Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, type WorkflowClient } from '@temporalio/client';
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

type CapacityStart = Omit<ReturnType<typeof capacityStartOptions>, 'workflowType' | 'taskQueue'> & { taskQueue: string };

/**
 * Signal-with-start of `capacity-<cluster>` with the capacity's own start options (as the router and
 * the drains start it: reuse policy ALLOW_DUPLICATE, no conflict policy, so a running workflow is
 * signalled). Two windows raising at the same moment race to start it; a server that does not make
 * the pair atomic (the time-skipping test server does not) answers the loser "already started". The
 * workflow runs by then, so one more signal-with-start delivers the floor instead of failing the
 * attempt and waiting out the activity's retry backoff.
 */
export async function signalFloor(client: Pick<WorkflowClient, 'signalWithStart'>, workflowType: string, start: CapacityStart, floor: ReadinessFloor): Promise<void> {
  const send = () => client.signalWithStart(workflowType, { ...start, signal: readinessFloorSignal, signalArgs: [floor] });
  try {
    await send();
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    await send();
  }
}

export function createReadinessActivities(deps: Pick<ActivityDeps, 'config'>) {
  return {
    async sendReadinessFloor(input: ReadinessFloorRequest): Promise<{ workflowId: string }> {
      const placement = clusterWorkflowPlacement(deps.config, input.cluster);
      const { workflowType, ...start } = capacityStartOptions(input.cluster, placement ? { placement } : {});
      await signalFloor(Context.current().client.workflow, workflowType, start, input.floor);
      return { workflowId: start.workflowId };
    },
  };
}

export type ReadinessActivities = ReturnType<typeof createReadinessActivities>;
