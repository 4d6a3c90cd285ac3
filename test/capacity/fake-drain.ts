import type { Client } from '@temporalio/client';
import { capacityWorkflowId } from '../../common/workflow-ids';
import type { CapacityRequest } from '../../contracts/capacity/input';
import { capacityRequestSignal } from '../../contracts/capacity/messages';

/** Drain steps for the child `spotDrain`: the instance drains at once; its replacement request goes to the capacity workflow, as the real activity's signal-with-start would. */
export function fakeDrainActivities(client: Client, cluster: string, replacementRequests: string[] = []) {
  const none = { dryRunCalls: [] };
  return {
    async resolveDrainTarget({ instanceId }: { instanceId: string }) {
      return {
        found: true as const,
        cluster,
        containerInstanceArn: `arn:aws:ecs:us-east-1:123456789012:container-instance/${cluster}/${instanceId}`,
        status: 'ACTIVE',
        runningTasks: 0,
        pendingTasks: 0,
        capacityUnits: 1,
        drain: {
          rerunStandaloneTasks: true,
          rebalanceDeadlineSeconds: 600,
          lifecycleDeadlineSeconds: 900,
          maxDeregistrationDelaySeconds: 30,
          lifecycleHeartbeatSeconds: 60,
        },
      };
    },
    async setContainerInstanceDraining() {
      return { ...none, alreadyDraining: false };
    },
    async setDrainingWithinBudget() {
      return { ...none, granted: true, draining: 0 };
    },
    async setDrainingWithSlot({ budget }: { budget: number }) {
      return { ...none, granted: true, holders: 1, others: 0, budget };
    },
    async deregisterInstanceTargets() {
      return { ...none, targetGroups: [] };
    },
    async moveStandaloneTasks() {
      return { ...none, stopped: [], rerun: [], rerunFailed: [], serviceTasks: 0 };
    },
    async waitForInstanceTasks() {
      return { tasksLeft: 0, running: 0, pending: 0 };
    },
    async requestReplacementCapacity(input: { cluster: string; instanceId: string; units: number; reason: string; source: string }) {
      replacementRequests.push(input.instanceId);
      const req: CapacityRequest = {
        direction: 'out',
        units: input.units,
        reason: input.reason,
        source: { kind: 'drain', instanceId: input.instanceId, eventId: input.source },
      };
      const workflowId = capacityWorkflowId(input.cluster);
      await client.workflow.getHandle(workflowId).signal(capacityRequestSignal, req);
      return { ...none, workflowId };
    },
    async recordLifecycleHeartbeat() {
      return none;
    },
    async completeLifecycleAction() {
      return none;
    },
    async requestDrainIncident() {
      return { requested: false, detail: 'test' };
    },
  };
}
