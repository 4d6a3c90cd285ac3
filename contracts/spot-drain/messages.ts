import { defineSignal } from '@temporalio/workflow';
import type { DryRunCall, WorkflowStatus } from '../controls';
import type { DrainEvent, DrainEventKind, SpotDrainInput } from './input';

/**
 * Every message of the spot drain (`spotDrain`, `drain-<instance-id>`) and the types its clients read.
 * The router, tests and the capacity workflow import them from here. The operator messages (`status`,
 * `abort`) are the shared ones in contracts/controls.ts; `status` answers a DrainStatus.
 */

/**
 * An interruption warning, rebalance recommendation, lifecycle action or scale-in for this instance.
 * The router sends it with signal-with-start; a repeated event id is counted and ignored.
 */
export const drainEventSignal = defineSignal<[DrainEvent]>('drainEvent');

export type DrainOutcome = 'drained' | 'not-in-cluster' | 'deadline-missed' | 'aborted';

export type DrainStepName =
  | 'resolve'
  | 'request-capacity'
  | 'wait-for-replacement'
  | 'wait-for-budget'
  | 'set-draining'
  | 'deregister-targets'
  | 'move-standalone-tasks'
  | 'wait-for-tasks'
  | 'complete-lifecycle-action'
  | 'terminate-instance'
  | 'reactivate'
  | 'request-incident';

export interface DrainStep {
  name: DrainStepName;
  status: 'running' | 'done' | 'failed' | 'skipped';
  startedAt: string;
  endedAt?: string;
  detail?: string;
}

/** One event the drain accepted, as status shows it. */
export interface DrainEventRecord {
  kind: DrainEventKind;
  eventId: string;
  eventTime: string;
  receivedAt: string;
}

/** What the `status` query answers for a drain. */
export interface DrainStatus extends WorkflowStatus {
  instanceId: string;
  /** The event kind that governs the drain: a warning outranks a lifecycle action outranks a rebalance. */
  mode?: DrainEventKind;
  cluster?: string;
  containerInstanceArn?: string;
  deadline?: string;
  secondsToDeadline?: number;
  tasksLeft?: number;
  steps: DrainStep[];
  events: DrainEventRecord[];
  duplicateEvents: number;
  /** Events naming another instance (a routing bug upstream), counted and ignored. */
  foreignEvents: number;
  capacityRequested: boolean;
  lifecycleHeartbeats: number;
  /** Standalone tasks stopped but not run again elsewhere (why, per task). */
  rerunFailed: { from: string; reason: string }[];
  outcome?: DrainOutcome;
}

/**
 * The workflow's signature, for typed handles without importing workflow code:
 * `client.workflow.signalWithStart<SpotDrainWorkflow, [DrainEvent]>(drainStartOptions(…).workflowType, …)`.
 */
export type SpotDrainWorkflow = (input: SpotDrainInput) => Promise<SpotDrainResult>;

/** The workflow's result. */
export interface SpotDrainResult {
  outcome: DrainOutcome;
  instanceId: string;
  cluster?: string;
  deadline?: string;
  tasksLeft?: number;
  steps: DrainStep[];
  /** Steps that did not complete, for deadline-missed and aborted. */
  notDone: DrainStepName[];
  dryRunCalls: DryRunCall[];
  abortReason?: string;
  failure?: string;
}

/**
 * Memo key under which a drain run that ended lists the ids of the events it handled. A closed run
 * refuses the router's first signal-with-start (ALLOW_DUPLICATE_FAILED_ONLY); the router then reads
 * this list: an event on it is a redelivery (`duplicate`), any other event starts a new run
 * (router/dispatch.ts).
 */
export const DRAIN_HANDLED_EVENTS_MEMO = 'fleetopsHandledEventIds';

/**
 * Memo key set (true) by a drain run that ended with its instance terminating: a termination warning,
 * `shutting-down`/`terminated`, a terminate lifecycle action, or the drain's own termination. EC2
 * never reuses a terminated instance's id, so any later event for it (the `shutting-down` and
 * `terminated` that follow a drain's termination) is answered `duplicate`, not with a new run.
 */
export const DRAIN_INSTANCE_ENDED_MEMO = 'fleetopsInstanceEnded';

/** At most this many ids are kept (the latest): a drain handles a handful of events. */
export const MAX_HANDLED_EVENT_IDS = 100;

/** The handled event ids in a decoded memo (the SDK's `describe().memo`); none when absent or malformed. */
export function drainHandledEventIds(memo: Record<string, unknown>): string[] {
  const ids = memo[DRAIN_HANDLED_EVENTS_MEMO];
  return Array.isArray(ids) ? ids.filter((x): x is string => typeof x === 'string') : [];
}
