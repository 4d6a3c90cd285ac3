import { defineSignal } from '@temporalio/workflow';
import type { WorkflowStatus } from '../controls';
import type { DrainCoordinatorInput, InterruptionNotice } from './input';

/**
 * Every message of the drain coordinator (`drainCoordinator`, `drain-coordinator[-<account>-<region>]`)
 * and the types its clients read. Its operator messages are the shared `status`, `pause`, `resume`
 * and `abort` (contracts/controls.ts); `status` answers a DrainCoordinatorStatus.
 */

/**
 * The instances of one event batch that must be DRAINING now (two-minute warnings, instances stopping
 * or shutting down). The router sends one per batch, with signal-with-start, before the drains' own
 * signal-with-starts; an instance already handled before its deadline is counted and ignored.
 */
export const interruptionNoticesSignal = defineSignal<[InterruptionNotice[]]>('interruptionNotices');

/** What the coordinator's call did for the instances it took, counted since the first run. */
export type CoordinatorCount =
  | 'received'
  | 'duplicates'
  | 'expired'
  | 'draining'
  | 'already-draining'
  | 'not-in-cluster'
  | 'not-active'
  | 'failed'
  | 'batches';

export interface DrainCoordinatorStatus extends WorkflowStatus {
  /** Notices waiting for a batch (held while paused). */
  pending: number;
  /** Batches whose call is running. */
  inFlight: number;
  counts: Partial<Record<CoordinatorCount, number>>;
  /** The last batches, newest first: when, how many, what became of them. */
  recentBatches: { at: string; instances: number; draining: number; failed: number; error?: string }[];
}

/** The workflow's signature, for typed handles without importing workflow code. */
export type DrainCoordinatorWorkflow = (input: DrainCoordinatorInput) => Promise<void>;
