import type { Market } from '../../common/capacity';
import type { PoolKind } from '../../config/schema';
import type { DryRunCall } from '../../contracts/controls';

export type { Market, PoolKind };

/**
 * Data the capacity activities and the capacity workflow exchange. Plain JSON: it lands in the
 * workflow history. Capacity is always in weight units (an instance type's weight), so pools of
 * different instance types compare.
 */

/** Tags fleetops puts on instances it launches through CreateFleet, and finds them by. */
export const POOL_TAG_CLUSTER = 'fleetops:cluster';
export const POOL_TAG_POOL = 'fleetops:pool';

export interface OverrideRef {
  instanceType: string;
  availabilityZone?: string;
}

export interface PoolOverrideView extends OverrideRef {
  subnetId?: string;
  weight: number;
}

/** A pool as the workflow plans with it (config, resolved). */
export interface PoolSettings {
  name: string;
  kind: PoolKind;
  market: Market;
  fulfilmentTimeoutSeconds: number;
  maxUnits?: number;
  /** The instance-type/zone overrides a request may use (ec2-fleet); empty for kinds without overrides. */
  overrides: PoolOverrideView[];
  /** asg: scale-in may lower the group's MinSize (config lowerMinSizeOnScaleIn). */
  lowerMinSizeOnScaleIn?: boolean;
}

export interface CapacitySettings {
  minUnits: number;
  maxUnits: number;
  stepUnits: number;
  cooldownSeconds: number;
  unavailableTtlSeconds: number;
  returnToSpotEverySeconds: number;
  registrationTimeoutSeconds: number;
  /** Absent in histories recorded before them; the workflow then uses the schema's defaults. */
  errorNotifyAfterSeconds?: number;
  errorIncidentAfterSeconds?: number;
}

export interface PoolInstance {
  instanceId: string;
  pool: string;
  instanceType: string;
  availabilityZone?: string;
  market: Market;
  weight: number;
  /** EC2 state: pending, running. */
  state: string;
  /** ECS container instance status (ACTIVE, DRAINING, REGISTERING...) when registered. */
  containerStatus?: string;
  /** Tasks whose group is not `service:...` (batch jobs); scale-in spares these instances unless forced. */
  standaloneTasks: number;
  /** USD per hour per instance, where known (spot price history, on-demand assumed above any spot). */
  hourlyPrice?: number;
}

export interface PoolSnapshot {
  name: string;
  kind: PoolKind;
  market: Market;
  /** What the pool is asked to hold (Spot Fleet TargetCapacity, ASG DesiredCapacity; for ec2-fleet the launched units). */
  targetUnits: number;
  /** Units of pending or running instances. */
  actualUnits: number;
  /** The least the pool keeps (ASG MinSize); scale-in does not choose victims below it. */
  minUnits?: number;
  /** The most the pool takes (ASG MaxSize): a raise above it is refused, so scale-out asks no more of it. */
  maxUnits?: number;
  /** Units of instances that are ACTIVE container instances in the cluster. */
  activeUnits: number;
  instances: PoolInstance[];
}

export interface CapacitySnapshot {
  cluster: string;
  settings: CapacitySettings;
  pools: PoolSettings[];
  state: PoolSnapshot[];
}

export interface LaunchedInstance {
  instanceId: string;
  instanceType: string;
  availabilityZone?: string;
  weight: number;
}

export interface OverrideCapacityError extends OverrideRef {
  code: string;
  message: string;
}

export interface RequestPoolCapacityInput {
  cluster: string;
  pool: string;
  units: number;
  /** Absolute target for spot-fleet and asg pools (so a retried activity does not add twice). */
  newTargetUnits: number;
  /** ec2-fleet: overrides marked unavailable, left out of the request. */
  excludeOverrides: OverrideRef[];
  /** ec2-fleet CreateFleet ClientToken: the same plan step never launches twice. */
  clientToken: string;
  dryRun?: boolean;
}

export type RequestPoolCapacityResult =
  | {
      /** CreateFleet `instant` answered with what it launched and per-override errors. */
      kind: 'instant';
      launched: LaunchedInstance[];
      launchedUnits: number;
      errors: OverrideCapacityError[];
      dryRunCall?: DryRunCall;
    }
  | {
      /** The pool's target was raised; fulfilment is watched by awaitPoolFulfilment. */
      kind: 'target';
      newTargetUnits: number;
      dryRunCall?: DryRunCall;
    };

export interface AwaitPoolFulfilmentInput {
  cluster: string;
  pool: string;
  /** Instances the pool had before the request; anything else is new. */
  knownInstanceIds: string[];
  units: number;
  timeoutSeconds: number;
  /** When the pool was asked (ISO); failures the pool reports from then on count. Default: the wait's start. */
  requestedAt?: string;
  pollSeconds?: number;
}

export interface AwaitPoolFulfilmentResult {
  deliveredUnits: number;
  instances: LaunchedInstance[];
  /** Set when the pool reported it cannot deliver (Spot Fleet history error, failed ASG activity), with the types/zones it named. */
  capacityError?: { code: string; message: string; offerings?: OverrideRef[] };
  timedOut: boolean;
}

export interface SetPoolTargetInput {
  cluster: string;
  pool: string;
  targetUnits: number;
  /** Instances that stay (the pool's before the raise, and what it delivered); anything else may be named to go. */
  keepInstanceIds?: string[];
  dryRun?: boolean;
}

export interface AwaitContainerInstancesInput {
  cluster: string;
  instanceIds: string[];
  timeoutSeconds: number;
  pollSeconds?: number;
}

export interface AwaitContainerInstancesResult {
  active: string[];
  missing: string[];
}

export interface RemovePoolInstanceInput {
  cluster: string;
  pool: string;
  instanceId: string;
  weight: number;
  /** The pool already launched the instance's replacement (Capacity Rebalancing): its target stays. */
  keepTarget?: boolean;
  dryRun?: boolean;
}

export interface MutationOutcome {
  dryRunCalls: DryRunCall[];
}

export interface WithdrawOutcome extends MutationOutcome {
  /**
   * Units the pool still holds over the withdrawn target: a raise it filled, and whose instances
   * serve, before the withdrawal went through. They stay (the pool must not choose victims), and are
   * over what the plan counted as delivered; the workflow scales them in by draining.
   */
  surplusUnits?: number;
}
