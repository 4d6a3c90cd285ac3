import { createHash } from 'node:crypto';
import type { SearchAttributePair, WorkflowIdReusePolicy } from '@temporalio/common';
import type { CapacityInput, CapacityRequest } from '../../contracts/capacity/input';
import type { DeployEcsEvent, DeployInput } from '../../contracts/canary-deploy/input';
import type { DrainCoordinatorInput, InterruptionNotice } from '../../contracts/drain-coordinator/input';
import type { DrainEvent, SpotDrainInput } from '../../contracts/spot-drain/input';
import type { IncidentAlarmEvent, IncidentInput } from '../../contracts/incident/input';
import type { LaunchInput } from '../../contracts/launch/input';
import type { ReleaseInput } from '../../contracts/release/input';

/**
 * What a route decides (docs/contract.md, Events): the decision types every kind's route returns
 * (router/events/<kind>.ts) and router/dispatch.ts carries out, and the small helpers routes share.
 * Pure — no I/O — so every rule is testable without a server.
 */

/** The options a `contracts/<workflow>/start.ts` function returns, as far as the router dispatches them. */
export interface StartOptions {
  workflowType: string;
  workflowId: string;
  taskQueue: string;
  args: WorkflowTarget['args'];
  typedSearchAttributes: SearchAttributePair[];
  staticSummary: string;
  /** Temporal's default (ALLOW_DUPLICATE) when unset. */
  workflowIdReusePolicy?: WorkflowIdReusePolicy;
  /** See WorkflowTarget.handledEventsMemo. */
  handledEventsMemo?: string;
  /** See WorkflowTarget.priority. */
  priority?: { priorityKey: number };
}

export interface WorkflowTarget {
  /** A start-options function's `workflowType` (contracts/registry.ts names them). */
  workflowType: string;
  taskQueue: string;
  workflowId: string;
  args: [SpotDrainInput] | [CapacityInput] | [DeployInput] | [IncidentInput] | [LaunchInput] | [DrainCoordinatorInput] | [ReleaseInput];
  searchAttributes: SearchAttributePair[];
  staticSummary: string;
  /** What happens when a closed workflow with this id exists. */
  reusePolicy: WorkflowIdReusePolicy;
  /**
   * Set when a run that ended must not stop the next event: when the reuse policy refuses the start
   * because a completed run holds the id, the event starts a new run anyway unless the completed run's
   * memo lists it under this key (the run handled it: a redelivery, `duplicate`). Signal-with-start only.
   */
  handledEventsMemo?: string;
  /** Task priority of the run's workflow tasks and activities (1 highest, 5 lowest; unset is the default, 3). */
  priority?: { priorityKey: number };
}

export interface SignalPayload {
  /** A message definition's `name` (e.g. drainEventSignal.name). */
  name: string;
  arg: DrainEvent | CapacityRequest | IncidentAlarmEvent | DeployEcsEvent | InterruptionNotice[];
}

export type RouteDecision =
  | { action: 'ignore'; reason: string; workflowId: string | null }
  /** Start; a workflow with this id already running makes the result `duplicate`. */
  | ({ action: 'start' } & WorkflowTarget)
  /** Start if not running, and deliver the signal either way. */
  | ({ action: 'signalWithStart'; signal: SignalPayload } & WorkflowTarget)
  /** Deliver the signal only to a running workflow; `ignored` when there is none. */
  | { action: 'signal'; workflowId: string; signal: SignalPayload };

/**
 * What one event becomes: one decision, or one per workflow it concerns (an AWS Health event naming
 * several instances starts a drain for each; each gets its own result under the event's id).
 */
export type RouteResult = RouteDecision | { action: 'each'; decisions: RouteDecision[] };

/** The decisions of a route result, in order. */
export const decisionsOf = (r: RouteResult): RouteDecision[] => (r.action === 'each' ? r.decisions : [r]);

export interface RouteOptions {
  /** Start every workflow with `dryRun: true` (the local demo, drills). */
  dryRun?: boolean;
  /**
   * Who requests a deploy, over the event's `requestedBy`: the HTTP edge sets its token's identity
   * (`token:<name>`), so a token cannot request in someone else's name. Unset on the events queue.
   */
  requestedBy?: string;
}

/** A detail that is well-formed but refers to something the config does not know; answered with 400. */
export class RouteValidationError extends Error {
  override readonly name = 'RouteValidationError';
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
  }
}

/** A short id derived from the event id, so a redelivered Incident Declared maps to the same workflow. */
export function shortIdOf(eventId: string): string {
  return createHash('sha256').update(eventId).digest('hex').slice(0, 8);
}

export const dryRunOf = (opts: RouteOptions, fromEvent?: boolean): { dryRun?: true } =>
  opts.dryRun || fromEvent ? { dryRun: true } : {};

/** An ignore decision for a reason that concerns no workflow. */
export const ignore = (reason: string): RouteDecision => ({ action: 'ignore', reason, workflowId: null });

/** The dispatcher's target, from the start options the SDK starters (CLI, activities) use too. */
export function targetOf(start: StartOptions): WorkflowTarget {
  return {
    workflowType: start.workflowType,
    taskQueue: start.taskQueue,
    workflowId: start.workflowId,
    args: start.args,
    searchAttributes: start.typedSearchAttributes,
    staticSummary: start.staticSummary,
    // Unset means the server's default, which is ALLOW_DUPLICATE.
    reusePolicy: start.workflowIdReusePolicy ?? 'ALLOW_DUPLICATE',
    ...(start.handledEventsMemo ? { handledEventsMemo: start.handledEventsMemo } : {}),
    ...(start.priority ? { priority: start.priority } : {}),
  };
}
