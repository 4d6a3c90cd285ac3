import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { DryRunCall } from '../../contracts/controls';
import { FailureType } from '../../common/failures';
import { FleetopsCluster, FleetopsInstanceId, FleetopsKind, FleetopsSeverity, placementAttributes } from '../../common/search-attributes';
import { clustersAt } from '../../config/placement';
import { instanceWeight } from '../../config/instance-weight';
import type { AwsClients } from '../aws/clients';
import { clientsFor, type ActivityDeps } from '../deps';
import { PoolIndex } from './pools';
import { SharedDrainCalls, type SharedCallOptions } from './shared-calls';
import type { SlotOptions } from './slots';
import type { DrainPlacement, ResolvedDrainTarget } from './types';

/**
 * What every group of drain activities shares, built once per factory: the shared calls of each
 * account and region (shared-calls.ts), so every drain a worker runs shares its batches, sweeps and
 * pollers; the pool index; and the resolve of an instance to its cluster.
 */

export interface DrainActivityOptions extends SharedCallOptions, SlotOptions {
  /** Replaces the Temporal client from the activity context (tests of the signal-with-start calls). */
  signalWithStart?: (workflowType: string, opts: SignalWithStartArgs) => Promise<void>;
}

export interface SignalWithStartArgs {
  workflowId: string;
  taskQueue: string;
  args: unknown[];
  signal: string;
  signalArgs: unknown[];
  staticSummary: string;
  searchAttributes: { kind: string; cluster?: string; instanceId?: string; severity?: string; placement?: { account: string; region: string } };
}

/** Adds a mutation's dry-run call, if it was one, to `calls`. */
export const collect = (calls: DryRunCall[], m: { dryRun: boolean } & ({ dryRun: true; call: DryRunCall } | { dryRun: false })) => {
  if (m.dryRun) calls.push(m.call);
};

export const taskId = (arn: string) => arn.split('/').pop() ?? arn;

export type DrainContext = ReturnType<typeof createDrainContext>;

export function createDrainContext(deps: ActivityDeps, opts: DrainActivityOptions) {
  // One set of shared calls per set of clients (an account and region): batches, sweeps and the
  // target-group index never mix accounts, and clusters placed together still share them.
  const shared = new Map<AwsClients, SharedDrainCalls>();
  const sharedOf = (aws: AwsClients): SharedDrainCalls => {
    let c = shared.get(aws);
    if (!c) {
      c = new SharedDrainCalls(aws, opts);
      shared.set(aws, c);
    }
    return c;
  };
  const callsFor = (cluster: string | undefined): SharedDrainCalls => sharedOf(cluster ? clientsFor(deps, cluster) : deps.aws);
  /** The configured clusters a drain from `where` may find its instance in (all of them when it does not say). */
  const candidateClusters = (where: DrainPlacement): string[] =>
    where.account && where.region ? clustersAt(deps.config, { account: where.account, region: where.region }) : Object.keys(deps.config.clusters);
  /** Clients for a lifecycle call: the resolved cluster's, else those of a cluster placed where the event came from. */
  const lifecycleClients = (input: { cluster?: string } & DrainPlacement): AwsClients => {
    const cluster = input.cluster ?? (input.account && input.region ? candidateClusters(input)[0] : undefined);
    return cluster ? clientsFor(deps, cluster) : deps.aws;
  };
  const pools = new PoolIndex((cluster) => clientsFor(deps, cluster), deps.config, opts.indexMinIntervalMs ?? 2_000);

  async function signalWithStart(workflowType: string, a: SignalWithStartArgs): Promise<void> {
    if (opts.signalWithStart) return opts.signalWithStart(workflowType, a);
    const attrs = [
      { key: FleetopsKind, value: a.searchAttributes.kind },
      ...(a.searchAttributes.cluster ? [{ key: FleetopsCluster, value: a.searchAttributes.cluster }] : []),
      ...(a.searchAttributes.instanceId ? [{ key: FleetopsInstanceId, value: a.searchAttributes.instanceId }] : []),
      ...(a.searchAttributes.severity ? [{ key: FleetopsSeverity, value: a.searchAttributes.severity }] : []),
      ...placementAttributes(a.searchAttributes.placement),
    ];
    // The worker's own client (SDK 1.24 activity context): signal-with-start both starts the workflow if
    // it is not running and delivers the signal, so the request cannot be lost between the two.
    await Context.current().client.workflow.signalWithStart(workflowType, {
      workflowId: a.workflowId,
      taskQueue: a.taskQueue,
      args: a.args,
      signal: a.signal,
      signalArgs: a.signalArgs,
      staticSummary: a.staticSummary,
      typedSearchAttributes: attrs,
    });
  }

  /** `askedAt`: the cluster sweep must have started after it (one time for a whole batch, so the batch shares one sweep). */
  async function resolveTarget(instanceId: string, where: DrainPlacement, askedAt = Date.now()): Promise<ResolvedDrainTarget> {
    const clusters = candidateClusters(where);
    // Clusters grouped by their clients' shared calls, each group searched by its own sweeps.
    const groups = new Map<SharedDrainCalls, string[]>();
    for (const name of clusters) {
      const c = callsFor(name);
      groups.set(c, [...(groups.get(c) ?? []), name]);
    }
    let hit: Awaited<ReturnType<SharedDrainCalls['findContainerInstance']>>;
    // A cluster whose role cannot be assumed must not stop the drains of the others placed with it:
    // its failure counts only when the instance is found nowhere else.
    let unassumable: ApplicationFailure | undefined;
    for (const [c, names] of groups) {
      try {
        hit = await c.findContainerInstance(names, instanceId, askedAt);
      } catch (err) {
        if (!(err instanceof ApplicationFailure && err.type === FailureType.AwsRoleNotAssumable)) throw err;
        unassumable ??= err;
      }
      if (hit) break;
    }
    if (!hit && unassumable) throw unassumable;
    if (!hit) return { found: false, searchedClusters: clusters };
    const cluster = deps.config.clusters[hit.cluster]!;
    return {
      found: true,
      cluster: hit.cluster,
      containerInstanceArn: hit.state.containerInstanceArn,
      status: hit.state.status,
      instanceType: hit.state.instanceType,
      ...(hit.state.availabilityZone ? { availabilityZone: hit.state.availabilityZone } : {}),
      runningTasks: hit.state.running,
      pendingTasks: hit.state.pending,
      ...(hit.drainingSet ? { drainingSet: true as const } : {}),
      capacityUnits: instanceWeight(cluster, hit.state.instanceType),
      drain: cluster.drain,
    };
  }

  return { deps, opts, callsFor, lifecycleClients, pools, signalWithStart, resolveTarget };
}
