import type { DryRunCall } from '../../contracts/controls';
import type { DrainLifecycleAction } from '../../contracts/shared';
import type { ClusterConfig } from '../../config/schema';
import type { InstancePool } from './pools';

/**
 * What the drain activities take and return. Workflow code imports these types only (never the
 * activity implementations), so this file holds no values.
 */

export type DrainSettings = ClusterConfig['drain'];

export type ResolvedDrainTarget =
  | {
      found: true;
      cluster: string;
      containerInstanceArn: string;
      /** ECS status when resolved: ACTIVE, DRAINING, ... */
      status: string;
      /**
       * This worker set it DRAINING after the sweep `status` comes from (the drain coordinator's head
       * start): it is DRAINING, whatever `status` says. Absent in histories recorded before it.
       */
      drainingSet?: true;
      instanceType?: string;
      /** The container instance's `ecs.availability-zone` attribute (absent in histories recorded before it). */
      availabilityZone?: string;
      runningTasks: number;
      pendingTasks: number;
      /** Capacity units this instance provides (cluster instanceWeights / pool overrides; 1 when unknown). */
      capacityUnits: number;
      drain: DrainSettings;
    }
  | { found: false; searchedClusters: string[] };

export interface ContainerInstanceRef {
  cluster: string;
  containerInstanceArn: string;
}

export interface MutationReport {
  /** Mutating calls a dryRun would have made (empty when not dryRun). */
  dryRunCalls: DryRunCall[];
}

export interface SetDrainingInput extends ContainerInstanceRef {
  dryRun?: boolean;
}

export interface SetDrainingResult extends MutationReport {
  /** It was DRAINING before this call (a retried or repeated drain). */
  alreadyDraining: boolean;
}

export interface SetDrainingAtOnceInput extends DrainPlacement {
  instanceIds: string[];
}

/** What the coordinator's call did for one instance. `failed` leaves it to the instance's own drain. */
export interface AtOnceOutcome {
  instanceId: string;
  outcome: 'draining' | 'already-draining' | 'not-in-cluster' | 'not-active' | 'failed';
  cluster?: string;
  detail?: string;
}

export interface SetDrainingAtOnceResult {
  instances: AtOnceOutcome[];
}

/** Where a drain's instance lives (SpotDrainInput's account and region), for calls made before or without a resolved cluster. */
export interface DrainPlacement {
  account?: string;
  region?: string;
}

export interface BudgetedDrainingResult extends MutationReport {
  /** Set DRAINING; false: the budget is spent, ask again later. */
  granted: boolean;
  /** Other container instances of the cluster DRAINING when asked. */
  draining: number;
}

/** A voluntary drain's DRAINING through its cluster's budget workflow (slots.ts). */
export interface SlotDrainingInput {
  cluster: string;
  containerInstanceArn: string;
  instanceId: string;
  /** The cluster's `drain.voluntaryDrainBudget`. */
  budget: number;
  dryRun?: boolean;
}

export interface SlotDrainingResult extends MutationReport {
  /** Holds a slot and set DRAINING; false: wait and ask again. */
  granted: boolean;
  /** Slots held (this one included when granted). */
  holders: number;
  /** DRAINING container instances no slot holder has. */
  others: number;
  budget: number;
  /** Drains ahead of this one in the wait. */
  ahead?: number;
}

export interface DeregisterTargetsInput {
  instanceId: string;
  /** The instance's cluster: its account's target groups are searched (the worker's own when unset). */
  cluster?: string;
  dryRun?: boolean;
}

export interface DeregisterTargetsResult extends MutationReport {
  /** Per group: targets taken out, and the group's deregistration delay (read, never changed). */
  targetGroups: { targetGroupArn: string; targets: number; deregistrationDelaySeconds: number }[];
}

export interface MoveStandaloneTasksInput extends ContainerInstanceRef {
  instanceId: string;
  rerun: boolean;
  reason: string;
  /** Makes RunTask idempotent across activity retries (ECS clientToken). */
  idempotencyKey: string;
  dryRun?: boolean;
}

export interface MoveStandaloneTasksResult extends MutationReport {
  stopped: string[];
  rerun: { from: string; to: string[] }[];
  rerunFailed: { from: string; reason: string }[];
  /** Stopped, not rerun: their orchestrator (Step Functions, EventBridge, Batch...) retries them. */
  orchestrated?: { task: string; by: string }[];
  /**
   * Service tasks still on the instance when this step listed it (desired RUNNING), left for ECS to
   * replace elsewhere. A snapshot, not a promise: once the instance is DRAINING, ECS may already have
   * moved some or all of them (0 is normal on a fast scheduler). The drain's wait step is what tells
   * when the instance is empty.
   */
  serviceTasks: number;
}

export interface WaitForTasksInput extends ContainerInstanceRef {
  /** Wall-clock time (epoch ms) at which to return even if tasks remain. */
  stopAtEpochMs: number;
}

export interface WaitForTasksResult {
  tasksLeft: number;
  running: number;
  pending: number;
}

export interface CapacityReplacementInput {
  cluster: string;
  /** The instance being replaced. */
  instanceId: string;
  units: number;
  reason: string;
  /** The asking workflow id. */
  source: string;
  dryRun?: boolean;
}

export interface CapacityReplacementResult extends MutationReport {
  workflowId: string;
}

export interface LifecycleActionInput extends DrainPlacement {
  lifecycle: DrainLifecycleAction;
  /** The resolved cluster, when there is one; else the placement decides the account and region. */
  cluster?: string;
  instanceId: string;
  dryRun?: boolean;
}

export interface LifecycleHeartbeat extends MutationReport {
  /** False: Auto Scaling has no such action waiting any more (completed or timed out); stop heartbeating. */
  active: boolean;
}

export interface LifecycleCompletion extends MutationReport {
  /** Auto Scaling had no such action waiting: completed before (a repeat after a crash) or timed out. */
  alreadyCompleted: boolean;
}

export type { LifecycleHookSettings } from '../aws/lifecycle-action';

export type { InstancePool } from './pools';

export interface ReplacementWaitInput {
  cluster: string;
  /** The instance being replaced (never its own replacement). */
  instanceId: string;
  /** When the replacement was asked for (epoch ms): only container instances registered since count. */
  sinceEpochMs: number;
  stopAtEpochMs: number;
}

export type ReplacementWaitResult = { arrived: false } | { arrived: true; containerInstanceArn: string; instanceId: string };

export interface TerminateDrainedInput {
  cluster: string;
  pool: string;
  instanceId: string;
  /** Its capacity units (a Spot Fleet's target goes down by this). */
  weight: number;
  /** The pool already launched its replacement (Capacity Rebalancing): the pool's target stays. */
  keepTarget?: boolean;
  dryRun?: boolean;
}

export interface DrainIncidentFacts {
  instanceId: string;
  cluster?: string;
  workflowId: string;
  kind: string;
  deadline: string;
  tasksLeft: number;
  done: string[];
  notDone: string[];
  failure?: string;
  /** Standalone tasks that could not be run again elsewhere (their work is lost unless someone reruns them). */
  rerunFailed?: { from: string; reason: string }[];
  /** Why the incident: the deadline was missed (default), or the drain ended but reruns failed. */
  what?: 'deadline-missed' | 'rerun-failed';
}

export interface DrainIncidentResult {
  requested: boolean;
  workflowId?: string;
  detail: string;
}

/** One part of moveWorkOff: its result, or why it failed after its retries (the other parts go on). */
export type PartOutcome<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * The work of a drain on the two-minute deadline after DRAINING, in one activity (move-off.ts): its
 * targets out, its standalone tasks moved, a replacement asked for unless the pool replaces the
 * instance itself, then the wait for its tasks to leave until `waitUntilEpochMs`.
 */
export interface MoveWorkOffInput extends ContainerInstanceRef {
  instanceId: string;
  /** Take the targets out ahead of ECS (DeregisterTargetsInput). */
  deregister: boolean;
  standalone: Pick<MoveStandaloneTasksInput, 'rerun' | 'reason' | 'idempotencyKey'>;
  /** Ask for a replacement (after finding the instance's pool); absent: none is wanted whatever the pool. */
  capacity?: Pick<CapacityReplacementInput, 'units' | 'reason' | 'source'> & { notBefore?: string };
  /** After moving, wait until the instance runs no task or this time (absent: no wait, e.g. a dry run). */
  waitUntilEpochMs?: number;
  /** Each part is retried (short backoff) until this time: the drain's deadline. */
  deadlineEpochMs: number;
  dryRun: boolean;
}

export interface MoveWorkOffResult {
  deregister?: PartOutcome<DeregisterTargetsResult>;
  standalone: PartOutcome<MoveStandaloneTasksResult>;
  /** The pool found (`found: false` when unknown), and the request unless that pool replaces the instance itself. */
  capacity?: { pool: InstancePool; request?: PartOutcome<CapacityReplacementResult> };
  tasks?: PartOutcome<WaitForTasksResult>;
}
