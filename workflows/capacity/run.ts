import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import type { CapacitySnapshot } from '../../activities/capacity/types';
import type { AwsPlacement } from '../../contracts/shared';
import { FailureType } from '../../common/failures';
import type { OperatorControls } from '../lib/operator-controls';
import { aws } from './activity-options';
import type { BootWatch } from './booting';
import type { CapacityState } from './state';

/** What every phase of one capacity run works with. */
export interface CapacityRun {
  readonly cluster: string;
  readonly dryRun: boolean;
  /** The cluster's account and region (many-account configs): its scale-in drains carry it. */
  readonly placement?: AwsPlacement;
  readonly state: CapacityState;
  readonly controls: OperatorControls;
  /** New instances' registration, watched beside the loop. */
  readonly boot: BootWatch;
}

/** Describes the cluster's pools and takes the snapshot into the state (status shows it). */
export async function refresh(run: CapacityRun): Promise<CapacitySnapshot> {
  const snapshot = await aws.describeCapacity({ cluster: run.cluster });
  run.state.applySnapshot(snapshot);
  return snapshot;
}

const TRANSIENT: string[] = [FailureType.AwsThrottled, FailureType.AwsUnavailable, FailureType.AwsNetwork];

/**
 * Whether a failed step says "not now" (throttled, 5xx, network, an activity timeout: retries ran
 * out) rather than something about the pool itself (access denied, validation): the plan stops and
 * is retried whole instead of the pool being skipped.
 */
export function isTransientFailure(err: unknown): boolean {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return cause.type !== undefined && cause.type !== null && TRANSIENT.includes(cause.type);
  return true;
}

/** The capacity error an activity failed with (a pool out of capacity), or undefined for any other failure. */
export function capacityFailureCode(err: unknown): string | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure && cause.type === FailureType.AwsCapacityUnavailable) return cause.message;
  return undefined;
}

