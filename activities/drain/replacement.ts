import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../common/failures';
import { capacityStartOptions } from '../../contracts/capacity/start';
import type { CapacityRequest } from '../../contracts/capacity/input';
import { clusterWorkflowPlacement } from '../../config/placement';
import { driverFor } from '../capacity/pools';
import { clientsFor } from '../deps';
import { capacityRequestSignal } from '../../contracts/capacity/messages';
import type { DrainContext } from './context';
import type { InstancePool } from './pools';
import type {
  CapacityReplacementInput,
  CapacityReplacementResult,
  MutationReport,
  ReplacementWaitInput,
  ReplacementWaitResult,
  TerminateDrainedInput,
} from './types';

/** The capacity that takes a drained instance's place: its pool, the request for a replacement, the wait for it, and the instance's removal. */

export function createReplacementActivities({ deps, opts, callsFor, pools, signalWithStart }: DrainContext) {
  return {
    /**
     * Waits (heartbeating) until a container instance registered at or after `sinceEpochMs` is ACTIVE in
     * the cluster: the replacement a replace-first drain asked for. Returns at the stop time either way.
     */
    async waitForReplacement(input: ReplacementWaitInput): Promise<ReplacementWaitResult> {
      const ctx = Context.current();
      const every = opts.pollIntervalMs ?? 2_000;
      for (;;) {
        ctx.heartbeat();
        const found = await callsFor(input.cluster).activeRegisteredSince(input.cluster, input.sinceEpochMs, input.instanceId);
        if (found) return { arrived: true, containerInstanceArn: found.containerInstanceArn, instanceId: found.ec2InstanceId };
        const rest = input.stopAtEpochMs - Date.now();
        if (rest <= 0) return { arrived: false };
        await Promise.race([new Promise((r) => setTimeout(r, Math.min(every, rest))), ctx.cancelled]);
      }
    },

    /**
     * Takes a drained instance out of its pool for good (the pool driver's remove: an ASG terminates it
     * and lowers its desired count, a Spot Fleet lowers its target first), so it does not sit DRAINING
     * and billed; the replacement the drain asked for keeps the cluster's count.
     */
    async terminateDrainedInstance(input: TerminateDrainedInput): Promise<MutationReport> {
      const clusterConfig = deps.config.clusters[input.cluster];
      const pool = clusterConfig?.pools.find((p) => p.name === input.pool);
      if (!clusterConfig || !pool) throw ApplicationFailure.nonRetryable(`pool ${input.pool} of cluster ${input.cluster} is not configured`, FailureType.InvalidRequest);
      const dryRunCalls = await driverFor(pool).remove({ aws: clientsFor(deps, input.cluster), cluster: input.cluster, clusterConfig }, pool, {
        cluster: input.cluster,
        pool: input.pool,
        instanceId: input.instanceId,
        weight: input.weight,
        ...(input.keepTarget ? { keepTarget: true } : {}),
        dryRun: input.dryRun,
      });
      return { dryRunCalls };
    },

    /** The pool the instance belongs to, and whether that pool replaces an interrupted instance itself. */
    /** `notBefore`: the drain's first event's time; the pool's settings are read as they were then or later. */
    async findInstancePool(input: { cluster: string; instanceId: string; notBefore?: string }): Promise<InstancePool> {
      const notBefore = input.notBefore === undefined ? undefined : Date.parse(input.notBefore);
      return pools.poolOf(input.cluster, input.instanceId, Date.now(), Number.isFinite(notBefore) ? notBefore : undefined);
    },

    async requestReplacementCapacity(input: CapacityReplacementInput): Promise<CapacityReplacementResult> {
      const placement = clusterWorkflowPlacement(deps.config, input.cluster);
      const start = capacityStartOptions(input.cluster, placement ? { placement } : {});
      const { workflowId } = start;
      const request: CapacityRequest = {
        direction: 'out',
        units: input.units,
        reason: input.reason,
        source: { kind: 'drain', instanceId: input.instanceId, eventId: input.source },
      };
      if (input.dryRun) {
        return { workflowId, dryRunCalls: [{ action: `fleetops:${capacityRequestSignal.name}`, params: { workflowId, ...request } }] };
      }
      await signalWithStart(start.workflowType, {
        workflowId,
        taskQueue: start.taskQueue,
        args: start.args,
        signal: capacityRequestSignal.name,
        signalArgs: [request],
        staticSummary: start.staticSummary,
        searchAttributes: { kind: 'capacity', cluster: input.cluster, ...(placement ? { placement } : {}) },
      });
      return { workflowId, dryRunCalls: [] };
    },
  };
}
