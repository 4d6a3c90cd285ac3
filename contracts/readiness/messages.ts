import { defineUpdate } from '@temporalio/workflow';
import type { WorkflowStatus } from '../controls';
import type { ReadinessCancel, ReadinessChange, ReadinessInput, ReadinessLevelInput } from './input';

/**
 * The readiness workflow's messages: `status` (the query every workflow answers, contracts/controls.ts),
 * `change` (new times or level) and `cancel`, both updates so the caller learns at once whether the
 * window took them. Clients (CLI, tests) import from here; start options are in start.ts.
 */

/**
 * Phases, also its FleetopsPhase: `waiting` (before start minus lead), `raising` (the floor asked for,
 * not ACTIVE yet), `ready` (the floor ACTIVE), `holding` or `holding-frozen` (inside the window;
 * frozen: deploys to the cluster are refused), `released` (after the end), `cancelled`.
 */
export type ReadinessPhase = 'waiting' | 'raising' | 'ready' | 'holding' | 'holding-frozen' | 'released' | 'cancelled';

/** The FleetopsPhase that freezes deploys (activities/deploy/readiness-freeze.ts queries it). */
export const FREEZING_READINESS_PHASE: ReadinessPhase = 'holding-frozen';

export interface ReadinessEvent {
  at: string;
  what: string;
}

export interface ReadinessStatus extends WorkflowStatus {
  phase: ReadinessPhase;
  cluster: string;
  id: string;
  start: string;
  end: string;
  timeZone?: string;
  reason: string;
  level: ReadinessLevelInput;
  /** When the floor is (or was) raised, and the notification and incident times if it is not ACTIVE. */
  raiseAt: string;
  /** Units the floor asks for (a factor resolved when raised); unset before it is raised. */
  floorUnits?: number;
  onDemandUnits?: number;
  /** ACTIVE units at the last check, and when the floor was first seen ACTIVE. */
  activeUnits?: number;
  reachedAt?: string;
  escalated?: { notifiedAt?: string; incident?: string };
  events: ReadinessEvent[];
}

export const changeUpdate = defineUpdate<ReadinessStatus, [ReadinessChange]>('change');
export const cancelUpdate = defineUpdate<ReadinessStatus, [ReadinessCancel]>('cancel');

/** The workflow as clients start it, for typed handles without importing workflow code. */
export type ReadinessWorkflow = (input: ReadinessInput) => Promise<ReadinessStatus>;
