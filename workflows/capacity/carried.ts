import type { CapacitySettings } from '../../activities/capacity/types';
import type { DryRunCall } from '../../common/controls';
import type { CapacityInput } from '../../common/workflow-inputs';
import type { CapacityDecision, PoolStatus } from './messages';
import { emptyBucket, type PendingBucket, type UnavailableMark } from './rules';

/**
 * Everything one capacity run hands the next through continue-as-new (plain JSON: it lands in
 * history); kept small (sums, not request lists). state.ts owns and changes it.
 */
export interface CapacityCarriedState {
  outNow: PendingBucket;
  outDeferred: PendingBucket;
  inNow: PendingBucket;
  inDeferred: PendingBucket;
  /** Force seen on a pending scale-in: victims may run standalone tasks. */
  forceIn: boolean;
  /** Instances being replaced for drains: not counted as capacity while they drain. */
  replacing: string[];
  /** Instances this workflow chose to scale in: their drains' replacement requests are not acted on. */
  scaleInVictims: string[];
  /** Shortfall no pool could deliver; retried when the first mark expires. */
  unmet: { units: number; notBefore: number } | undefined;
  marks: UnavailableMark[];
  lastScaleAt: number | undefined;
  nextReturnToSpotAt: number | undefined;
  settings: CapacitySettings | undefined;
  pools: PoolStatus[];
  decisions: CapacityDecision[];
  dryRunCalls: DryRunCall[];
  recentEventIds: string[];
  signalsReceived: number;
  duplicates: number;
  plans: number;
  /** Scale-out steps over the whole chain of runs: CreateFleet client tokens (rules.ts fleetClientToken). Absent in runs recorded before it. */
  planSteps?: number;
  continuedRuns: number;
}

export interface CapacityWorkflowInput extends CapacityInput {
  /** Set by continue-as-new only. */
  carried?: CapacityCarriedState;
}

export function freshState(): CapacityCarriedState {
  return {
    outNow: emptyBucket(),
    outDeferred: emptyBucket(),
    inNow: emptyBucket(),
    inDeferred: emptyBucket(),
    forceIn: false,
    replacing: [],
    scaleInVictims: [],
    unmet: undefined,
    marks: [],
    lastScaleAt: undefined,
    nextReturnToSpotAt: undefined,
    settings: undefined,
    pools: [],
    decisions: [],
    dryRunCalls: [],
    recentEventIds: [],
    signalsReceived: 0,
    duplicates: 0,
    plans: 0,
    planSteps: 0,
    continuedRuns: 0,
  };
}

