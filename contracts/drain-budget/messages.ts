import { defineSignal, defineUpdate } from '@temporalio/workflow';
import type { WorkflowStatus } from '../controls';
import type { DrainBudgetInput, DrainSlotHolder, DrainSlotRelease, DrainSlotRequest, DrainSlotWaiter } from './input';

/**
 * Every message of the drain budget (`drainBudget`, `drain-budget-<cluster>`) and the types its
 * clients read. Its operator messages are the shared `status` and `abort` (contracts/controls.ts; it
 * does not pause: a paused budget would hold every voluntary drain); `status` answers a DrainBudgetStatus.
 */

/**
 * A voluntary drain asks for a slot before it sets DRAINING; the answer grants it or says wait (ask
 * again later). Asking again while holding is answered granted. Sent with update-with-start by the
 * drain's `setDrainingWithSlot` activity, so the first drain of a cluster starts the budget.
 */
export const acquireDrainSlotUpdate = defineUpdate<DrainSlotAnswer, [DrainSlotRequest]>('acquireDrainSlot');

/** The drain ended, however it ended: its slot is free, and it no longer waits for one. */
export const releaseDrainSlotSignal = defineSignal<[DrainSlotRelease]>('releaseDrainSlot');

export interface DrainSlotAnswer {
  granted: boolean;
  /** Slots held, this one included when granted. */
  holders: number;
  /** DRAINING container instances no holder has (counted against the budget too). */
  others: number;
  budget: number;
  /** When told to wait: how many drains are ahead of this one. */
  ahead?: number;
}

export type DrainBudgetCount = 'granted' | 'refused' | 'released' | 'reclaimed' | 'checks';

export interface DrainBudgetStatus extends WorkflowStatus {
  cluster: string;
  budget?: number;
  holders: DrainSlotHolder[];
  waiters: DrainSlotWaiter[];
  counts: Partial<Record<DrainBudgetCount, number>>;
}

/** The workflow's signature, for typed handles without importing workflow code. */
export type DrainBudgetWorkflow = (input: DrainBudgetInput) => Promise<void>;
