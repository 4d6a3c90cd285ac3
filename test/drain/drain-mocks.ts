import { moveWorkOffFrom, type DrainActivities } from '../../activities/drain';

/**
 * Mocked drain activities for workflow tests of `spotDrain` (and of the drain coordinator, whose
 * `setDrainingAtOnce` is among them): an instance of cluster `demo` with three tasks that drains at
 * once. Shared by test/drain/spot-drain.test.ts and test/first-task/.
 */

export const CLUSTER = 'demo';
export const ARN = 'arn:aws:ecs:us-east-1:123456789012:container-instance/demo/0123456789abcdef';
export const DRAIN_DEFAULTS = {
  rerunStandaloneTasks: true,
  rebalanceDeadlineSeconds: 600,
  lifecycleDeadlineSeconds: 900,
  maxDeregistrationDelaySeconds: 30,
  lifecycleHeartbeatSeconds: 60,
};

export type Calls = Record<string, unknown[][]>;

/**
 * Mocked drain activities: each records its arguments; `over` replaces single activities.
 * `moveWorkOff` is made of the (mocked, recorded) parts, as the worker's is of the real ones.
 */
export function mockActivities(over: Partial<DrainActivities> = {}): { activities: DrainActivities; calls: Calls } {
  const calls: Calls = {};
  const base: Omit<DrainActivities, 'moveWorkOff'> = {
    async setDrainingAtOnce({ instanceIds }) {
      return { instances: instanceIds.map((instanceId) => ({ instanceId, outcome: 'draining' as const })) };
    },
    async resolveDrainTarget() {
      return {
        found: true,
        cluster: CLUSTER,
        containerInstanceArn: ARN,
        status: 'ACTIVE',
        instanceType: 'm5.large',
        runningTasks: 3,
        pendingTasks: 0,
        capacityUnits: 1,
        drain: DRAIN_DEFAULTS,
      };
    },
    async setContainerInstanceDraining() {
      return { alreadyDraining: false, dryRunCalls: [] };
    },
    async deregisterInstanceTargets() {
      return { targetGroups: [{ targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/1', targets: 1, deregistrationDelaySeconds: 300 }], dryRunCalls: [] };
    },
    async moveStandaloneTasks() {
      return { stopped: ['t-batch'], rerun: [{ from: 't-batch', to: ['t-batch-2'] }], rerunFailed: [], orchestrated: [], serviceTasks: 2, dryRunCalls: [] };
    },
    async waitForInstanceTasks() {
      return { tasksLeft: 0, running: 0, pending: 0 };
    },
    async requestReplacementCapacity(input) {
      return { workflowId: `capacity-${input.cluster}`, dryRunCalls: [] };
    },
    async recordLifecycleHeartbeat() {
      return { active: true, dryRunCalls: [] };
    },
    async completeLifecycleAction() {
      return { alreadyCompleted: false, dryRunCalls: [] };
    },
    async findInstancePool() {
      return { found: true, pool: 'spot-instant', kind: 'ec2-fleet', replacesOwnInstances: false };
    },
    async waitForReplacement() {
      return { arrived: true, containerInstanceArn: `${ARN}-replacement`, instanceId: 'i-0fedcba9876543210' };
    },
    async terminateDrainedInstance() {
      return { dryRunCalls: [] };
    },
    async setContainerInstanceActive() {
      return { dryRunCalls: [] };
    },
    async setDrainingWithinBudget() {
      return { granted: true, draining: 0, dryRunCalls: [] };
    },
    async setDrainingWithSlot(input) {
      // No budget workflow behind the mock: granted at once.
      return { granted: true, holders: 1, others: 0, budget: input.budget, dryRunCalls: [] };
    },
    async drainSlotHoldersClosed() {
      return [];
    },
    async describeLifecycleHook() {
      return { found: true, heartbeatTimeoutSeconds: 3600, globalTimeoutSeconds: 172_800, defaultResult: 'CONTINUE' };
    },
    async requestDrainIncident(facts) {
      return { requested: true, workflowId: `incident-drain-${facts.instanceId}`, detail: 'asked' };
    },
  };
  const record = <F>(name: string, fn: F): F =>
    ((...args: unknown[]) => {
      (calls[name] ??= []).push(args);
      return (fn as (...a: unknown[]) => Promise<unknown>)(...args);
    }) as F;
  const merged: Omit<DrainActivities, 'moveWorkOff'> & Partial<DrainActivities> = { ...base, ...over };
  const recorded = Object.fromEntries(Object.entries(merged).map(([name, fn]) => [name, record(name, fn)])) as typeof merged;
  return { activities: { ...recorded, moveWorkOff: recorded.moveWorkOff ?? record('moveWorkOff', moveWorkOffFrom(recorded)) }, calls };
}
