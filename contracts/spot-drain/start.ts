import type { SearchAttributePair, WorkflowIdReusePolicy } from '@temporalio/common';
import { FleetopsCluster, FleetopsInstanceId, FleetopsKind, placementAttributes } from '../../common/search-attributes';
import { drainWorkflowId, memberAccountOf } from '../../common/workflow-ids';
import type { SpotDrainInput } from './input';
import { WORKFLOWS } from '../registry';
import { DRAIN_HANDLED_EVENTS_MEMO } from './messages';

/** Why a drain starts, for its static summary; and what else the starter knows about the instance. */
export interface DrainStartContext {
  /** Shown in the static summary: `Drain <instance-id> (<why>)`, e.g. `spot interruption warning, deadline …`. */
  why: string;
  /** The instance's cluster when the starter knows it (a scale-in); otherwise the drain tags it once resolved. */
  cluster?: string;
  /**
   * The event is an ASG terminate lifecycle action: it must be completed even when the instance's
   * drain already finished (the drain's own scale-in or rebalance ends with the very termination that
   * fires the hook), so it may start a new run after a completed one; that run completes it at once.
   */
  lifecycleAction?: boolean;
}

/**
 * Start options of the spot drain, for every starter (router, tests, and whoever else starts one), so
 * id, task queue, search attributes, summary and reuse policy are the same whoever starts it. Spread
 * into `client.workflow.signalWithStart(workflowType, { ...drainStartOptions(...), signal: drainEventSignal, ... })`
 * (the signal is contracts/spot-drain/messages.ts's `drainEventSignal`); router/routing/drain.ts builds its
 * target from it.
 */
export function drainStartOptions(input: SpotDrainInput, ctx: DrainStartContext) {
  const typedSearchAttributes: SearchAttributePair[] = [
    { key: FleetopsKind, value: WORKFLOWS.spotDrain.kind },
    ...(ctx.cluster ? [{ key: FleetopsCluster, value: ctx.cluster }] : []),
    { key: FleetopsInstanceId, value: input.instanceId },
    ...placementAttributes(input.placement),
  ];
  const workflowIdReusePolicy: WorkflowIdReusePolicy = ctx.lifecycleAction ? 'ALLOW_DUPLICATE' : 'ALLOW_DUPLICATE_FAILED_ONLY';
  return {
    workflowType: WORKFLOWS.spotDrain.type,
    workflowId: drainWorkflowId(input.instanceId, memberAccountOf(input.placement)),
    taskQueue: WORKFLOWS.spotDrain.taskQueue,
    args: [input] as [SpotDrainInput],
    typedSearchAttributes,
    staticSummary: `Drain ${input.instanceId} (${ctx.why})`,
    // A drain that failed may be retried by a new event; a lifecycle action is never refused
    // (DrainStartContext.lifecycleAction). A completed drain refuses the first try, and the router then
    // starts a new run for any event the completed run did not handle: the instance keeps its id
    // across a stop and start (spot stop/hibernate, a user's, a warm pool), and its next interruption
    // must be drained; a redelivery of an event that run handled stays `duplicate`.
    workflowIdReusePolicy,
    ...(ctx.lifecycleAction ? {} : { handledEventsMemo: DRAIN_HANDLED_EVENTS_MEMO }),
  };
}
