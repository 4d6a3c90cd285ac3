import { defineSignal } from '@temporalio/workflow';
import type { Market } from '../../common/capacity';
import type { PoolKind } from '../../config/schema';
import type { WorkflowStatus } from '../controls';
import type { CapacityInput, CapacityRequest, ReadinessFloor } from './input';

/**
 * The capacity workflow's messages and what its clients read. Besides `capacityRequest` it answers
 * the operator messages every workflow answers (`status`, `pause`, `resume`, `abort`: contracts/controls.ts);
 * `status` and the workflow result are a CapacityStatus. Clients (router, drain activity, CLI, tests)
 * import from here; start options are in start.ts.
 */

/** Ask for units of capacity out or in; requests that arrive together coalesce into one plan. */
export const capacityRequestSignal = defineSignal<[CapacityRequest], 'capacityRequest'>('capacityRequest');

/** Hold or release a readiness window's capacity floor (scale-ins and returns to spot stay above it). */
export const readinessFloorSignal = defineSignal<[ReadinessFloor], 'readinessFloor'>('readinessFloor');

export interface CapacityDecision {
  at: string;
  action:
    | 'scale-out'
    | 'scale-in'
    | 'pool-skipped'
    | 'pool-failed'
    | 'pool-delivered'
    | 'return-to-spot'
    | 'deferred'
    | 'ignored'
    | 'drain'
    | 'registered'
    | 'removed'
    | 'withdrawn'
    | 'aws-error'
    | 'recovered'
    | 'floor';
  units?: number;
  pool?: string;
  reason: string;
}

export interface PoolStatus {
  name: string;
  kind: PoolKind;
  market: Market;
  targetUnits: number;
  actualUnits: number;
  activeUnits: number;
  /** What the pool runs, by instance type and zone (absent in runs recorded before it). */
  offerings?: OfferingStatus[];
}

/** A pool's live (pending or running) instances of one instance type in one zone. */
export interface OfferingStatus {
  instanceType: string;
  availabilityZone?: string;
  instances: number;
  units: number;
  /** Of them, ACTIVE container instances of the cluster. */
  activeInstances: number;
  activeUnits: number;
  /** USD an hour per instance in a spot pool: the spot price (DescribeSpotPriceHistory) when the pools were read. */
  spotPrice?: number;
}

/**
 * On-demand units running above what a readiness floor keeps on demand: the units a return to spot
 * moves back (return-to-spot.ts), there since `since`.
 */
export interface FallbackStatus {
  onDemandUnits: number;
  /** Of the on-demand units, those the readiness floor keeps on demand. */
  floorUnits: number;
  /** The units a return to spot would move: onDemandUnits - floorUnits. */
  movableUnits: number;
  since: string;
}

/**
 * Capacity skipped until `until` (ISO): with `market` and `instanceType`, an offering (type, zone)
 * every pool of that market skips, found by `pool`; otherwise the pool `pool` as a whole.
 */
export interface UnavailableStatus {
  pool: string;
  market?: Market;
  instanceType?: string;
  availabilityZone?: string;
  until: string;
  reason: string;
}

/** AWS steps failing now: the workflow keeps every request and retries at `retryAt`. */
export interface CapacityErrorStatus {
  step: string;
  message: string;
  since: string;
  attempts: number;
  retryAt: string;
  notified: boolean;
  incident?: string;
}

export interface CapacityStatus extends WorkflowStatus {
  cluster: string;
  error?: CapacityErrorStatus;
  /** Steps still owed by earlier plans (drained instances to take out of their pools, raises to withdraw). */
  cleanups: number;
  /** Instances launched by earlier plans, not ACTIVE container instances yet. */
  booting: { units: number; instances: number };
  pools: PoolStatus[];
  /** When the pools were last read (after every plan, and at least every returnToSpotEverySeconds); absent before the first read. */
  poolsAt?: string;
  unavailable: UnavailableStatus[];
  /** `unmetSince`: when units no pool could deliver were first kept, while some still are. */
  pending: { out: number; in: number; unmet: number; requests: number; unmetSince?: string };
  /** Set while on-demand units run that a return to spot would move (the cluster fell back from spot). */
  fallback?: FallbackStatus;
  cooldownUntil?: string;
  nextReturnToSpotAt?: string;
  /** The readiness floor in force (the highest window's), when one holds. */
  floor?: { units: number; onDemandUnits: number; windows: string[] };
  decisions: CapacityDecision[];
  signalsReceived: number;
  duplicates: number;
  plans: number;
  continuedRuns: number;
}

/**
 * The workflow as clients start it, for typed handles without importing workflow code:
 * `client.workflow.signalWithStart<CapacityWorkflow, [CapacityRequest]>(CAPACITY_WORKFLOW_TYPE, …)`.
 * (Its continue-as-new carries more than a client passes; clients never pass that part.)
 */
export type CapacityWorkflow = (input: CapacityInput) => Promise<CapacityStatus>;
