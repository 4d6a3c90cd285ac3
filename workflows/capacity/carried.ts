import type { CapacitySettings } from '../../activities/capacity/types';
import type { DryRunCall } from '../../contracts/controls';
import type { CapacityInput } from '../../contracts/capacity/input';
import type { CapacityDecision, PoolStatus } from '../../contracts/capacity/messages';
import type { HeldFloor } from '../../common/readiness-floor';
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
  /** Epoch ms: when a shortfall was first kept, until a plan leaves none (absent in runs recorded before it). */
  unmetSince?: number;
  marks: UnavailableMark[];
  lastScaleAt: number | undefined;
  nextReturnToSpotAt: number | undefined;
  settings: CapacitySettings | undefined;
  pools: PoolStatus[];
  /** Epoch ms of the last read of the pools (observed.ts); absent in runs recorded before it. */
  poolsAt?: number;
  /** Epoch ms since which on-demand units run above the readiness floor's (observed.ts). */
  fallbackSince?: number;
  decisions: CapacityDecision[];
  dryRunCalls: DryRunCall[];
  recentEventIds: string[];
  signalsReceived: number;
  duplicates: number;
  plans: number;
  /** Scale-out steps over the whole chain of runs: CreateFleet client tokens (rules.ts fleetClientToken). Absent in runs recorded before it. */
  planSteps?: number;
  continuedRuns: number;
  /** AWS steps failing now (none when the last attempt went through); absent in runs recorded before it. */
  failure?: CapacityFailure;
  /** Instances launched by earlier plans, not ACTIVE container instances yet (booting.ts watches them). */
  booting?: Booting[];
  /** Steps that must still happen to finish an earlier plan (a drained victim to take out of its pool, a raise to withdraw). */
  cleanups?: Cleanup[];
  /** Readiness windows' floors (floor.ts); absent in runs recorded before them. */
  floors?: HeldFloor[];
  /** Epoch ms: the next check that the floor is there; unset while no floor holds. */
  floorCheckAt?: number;
}

/** An episode of failing AWS steps: the workflow keeps its requests and retries on its own timer. */
export interface CapacityFailure {
  /** Epoch ms of the first failure of the episode, and of the latest. */
  since: number;
  lastAt: number;
  attempts: number;
  step: string;
  message: string;
  /** Epoch ms: nothing is retried before. */
  retryAt: number;
  notified: boolean;
  /** The incident opened for the episode. */
  incident?: string;
}

export interface Booting {
  instanceId: string;
  pool: string;
  weight: number;
  /** Epoch ms: given up as not ACTIVE after this (registrationTimeoutSeconds from launch). */
  deadline: number;
}

export type Cleanup =
  | { kind: 'remove'; pool: string; instanceId: string; weight: number }
  | { kind: 'withdraw'; pool: string; targetUnits: number; keepInstanceIds: string[] };

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
    cleanups: [],
    booting: [],
  };
}

