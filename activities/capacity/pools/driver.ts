import { DescribeInstancesCommand, TerminateInstancesCommand, type Instance } from '@aws-sdk/client-ec2';
import { ApplicationFailure } from '@temporalio/common';
import type { Market } from '../../../common/capacity';
import type { DryRunCall } from '../../../contracts/controls';
import { FailureType } from '../../../common/failures';
import { instanceWeight } from '../../../config/instance-weight';
import type { ClusterConfig, PoolConfig, PoolKind } from '../../../config/schema';
import type { AwsClients } from '../../aws/clients';
import { mutatingAwsCall, type Mutation } from '../../aws/dry-run';
import { awsCall } from '../../aws/errors';
import type { OverrideRef, RemovePoolInstanceInput, RequestPoolCapacityInput, RequestPoolCapacityResult } from '../types';

/**
 * The one interface every pool kind implements (one file per kind beside this one; the table of
 * them is ./index.ts). The capacity activities (../index.ts) are written once against it, so what a
 * kind does differently is in its driver and nowhere else.
 */

/** The config of one pool kind. */
export type PoolOf<K extends PoolKind> = Extract<PoolConfig, { kind: K }>;

/** What a driver call runs against: the AWS clients and the cluster the pool belongs to. */
export interface PoolContext {
  readonly aws: AwsClients;
  readonly cluster: string;
  readonly clusterConfig: ClusterConfig;
}

export interface PoolInstanceState {
  instanceId: string;
  instanceType?: string;
  availabilityZone?: string;
  /** `pending` or `running`. */
  state: string;
}

/** A pool as AWS holds it now. */
export interface PoolState {
  /** What the pool is asked to hold, for kinds that keep a target (Spot Fleet TargetCapacity, ASG DesiredCapacity). */
  targetUnits?: number;
  /** The least the pool keeps, for kinds that have one (ASG MinSize). */
  minUnits?: number;
  /** The most the pool takes, for kinds that have one (ASG MaxSize). */
  maxUnits?: number;
  /**
   * What the pool replaces by itself, as AWS reports its settings: an instance terminated under it (a
   * spot reclaim: an ASG, a `maintain` Spot Fleet; not a `request` one), and an instance that got a
   * rebalance recommendation (an ASG with CapacityRebalance, a `maintain` Spot Fleet with a
   * Capacity Rebalancing ReplacementStrategy). Asking capacity for one more there would add a
   * permanent extra instance.
   */
  replaces: { interrupted: boolean; onRebalance: boolean };
  /** The pool's own activity status, for kinds that report one (Spot Fleet ActivityStatus). */
  activityStatus?: string;
  /** Live (pending or running) instances. */
  instances: PoolInstanceState[];
}

/** A pool's own report that it cannot deliver. */
export interface PoolCapacityError {
  code: string;
  message: string;
  /** The instance types (and zones) the pool names as out of capacity, when it names them. */
  offerings?: OverrideRef[];
}

export interface PoolDriver<K extends PoolKind> {
  /** The market the pool's instances run in. */
  market(pool: PoolOf<K>): Market;
  /** The pool's live instances, and its target as AWS holds it. */
  describe(ctx: PoolContext, pool: PoolOf<K>): Promise<PoolState>;
  /** The pool's own report, from `since` on, that it cannot deliver; undefined when it has none. */
  capacityError(ctx: PoolContext, pool: PoolOf<K>, state: PoolState, since: Date): Promise<PoolCapacityError | undefined>;
  /**
   * Asks for `input.units`: either launches at once and answers with what launched (`instant`), or
   * raises the pool's target to `input.newTargetUnits` (absolute, so a retry does not add twice) and
   * leaves the wait to awaitPoolFulfilment (`target`).
   */
  request(ctx: PoolContext, pool: PoolOf<K>, input: RequestPoolCapacityInput): Promise<RequestPoolCapacityResult>;
  /**
   * Lowers the pool's target to `targetUnits` (withdraws an undelivered request) without letting the
   * pool choose victims: only `unwanted` instances (launched for the request, not serving) may be
   * named to go; a target that would need more is lowered only as far as nothing is terminated.
   */
  withdraw(ctx: PoolContext, pool: PoolOf<K>, targetUnits: number, dryRun: boolean | undefined, unwanted?: string[]): Promise<DryRunCall[]>;
  /**
   * Takes one drained instance out of the pool for good; a pool that keeps a target must not replace it
   * (unless `input.keepTarget`: the pool already launched its replacement, and only the instance goes).
   */
  remove(ctx: PoolContext, pool: PoolOf<K>, input: RemovePoolInstanceInput): Promise<DryRunCall[]>;
}

// ---- helpers the drivers share ----

export const LIVE_STATES = ['pending', 'running'];

export function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, FailureType.InvalidRequest);
}

/** Capacity units of one of the pool's instances (config/instance-weight.ts). */
export function weightIn(ctx: PoolContext, pool: PoolConfig, instanceType: string | undefined, availabilityZone?: string): number {
  return instanceWeight(ctx.clusterConfig, instanceType, { pool, availabilityZone });
}

export function dryRunCalls(...mutations: Mutation<unknown>[]): DryRunCall[] {
  return mutations.flatMap((m) => (m.dryRun ? [m.call] : []));
}

export async function describeInstances(ctx: PoolContext, filters: { Name: string; Values: string[] }[], instanceIds?: string[]): Promise<Instance[]> {
  if (instanceIds && instanceIds.length === 0) return [];
  const out: Instance[] = [];
  let NextToken: string | undefined;
  do {
    const res = await awsCall('ec2:DescribeInstances', () =>
      ctx.aws.ec2.send(new DescribeInstancesCommand({ Filters: filters, ...(instanceIds ? { InstanceIds: instanceIds } : {}), NextToken })),
    );
    for (const r of res.Reservations ?? []) out.push(...(r.Instances ?? []));
    NextToken = res.NextToken;
  } while (NextToken);
  return out;
}

export function fromEc2(list: Instance[]): PoolInstanceState[] {
  return list.map((i) => ({
    instanceId: i.InstanceId ?? '',
    instanceType: i.InstanceType,
    availabilityZone: i.Placement?.AvailabilityZone,
    state: i.State?.Name ?? 'unknown',
  }));
}

export async function terminateInstance(ctx: PoolContext, instanceId: string, dryRun: boolean | undefined): Promise<DryRunCall[]> {
  const params = { InstanceIds: [instanceId] };
  return dryRunCalls(await mutatingAwsCall(dryRun, 'ec2:TerminateInstances', params, () => ctx.aws.ec2.send(new TerminateInstancesCommand(params))));
}

/** The answer of a kind whose request raises a target. */
export function raisedTarget(newTargetUnits: number, calls: DryRunCall[]): RequestPoolCapacityResult {
  const call = calls[0];
  return { kind: 'target', newTargetUnits, ...(call ? { dryRunCall: call } : {}) };
}
