import { DescribeTasksCommand, UpdateContainerInstancesStateCommand, type Task } from '@aws-sdk/client-ecs';
import type { TargetDescription } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ApplicationFailure } from '@temporalio/common';
import { KeyedBatcher, SharedSnapshot } from '../../common/batching';
import { FailureType } from '../../common/failures';
import type { AwsClients } from '../aws/clients';
import { awsCall } from '../aws/errors';
import { notFound, sweepCluster, type ContainerInstanceState } from './container-instances';
import { TargetGroupIndex, type TargetGroupTargets } from './target-index';
import { ClusterTaskPoller, type WatchListener } from './task-poller';
import { JoinedCalls } from './joined-calls';
import { STATUS_SET_KEPT_MS, type FoundContainerInstance, type StatusSet, type Sweep } from './sweeps';

/**
 * The AWS calls every drain of a worker shares, one set per account and region, so the call rate
 * follows the fleet, not the number of drains:
 *  - cluster index: instance id → container instance, one sweep (container-instances.ts) shared by every resolve,
 *    read with the statuses this worker set since the sweep started (statusesSet below);
 *  - DRAINING: UpdateContainerInstancesState batched 10 container instances a call per cluster;
 *  - task counts: one poller per cluster (task-poller.ts), however many drains wait;
 *  - DescribeTasks batched 100 a call; the target groups of the instance's services described once a
 *    while for all drains, and DeregisterTargets batched per target group (target-index.ts).
 */

export type { ContainerInstanceState } from './container-instances';
export type { TargetGroupTargets } from './target-index';
export type { TaskCounts } from './task-poller';

export interface SharedCallOptions {
  /** How often watched container instances are described. */
  pollIntervalMs?: number;
  /** How long a batch waits for more items before it goes out. */
  lingerMs?: number;
  /** Minimum spacing of full-cluster and target-group sweeps. */
  indexMinIntervalMs?: number;
  /** Target-group snapshots younger than this are used as they are. */
  targetIndexMaxAgeMs?: number;
  /** Cluster sweeps younger than this are used as they are; older ones are swept again. */
  clusterIndexMaxAgeMs?: number;
}

export class SharedDrainCalls {
  private readonly opts: Required<SharedCallOptions>;
  private readonly indexes = new Map<string, SharedSnapshot<Sweep>>();
  /** Per cluster, by container instance ARN. */
  private readonly statusesSet = new Map<string, Map<string, StatusSet>>();
  private readonly pollers = new Map<string, ClusterTaskPoller>();
  private readonly targets: TargetGroupIndex;
  private readonly drainingBatcher: KeyedBatcher<string, string, true>;
  private readonly taskBatcher: KeyedBatcher<string, string, Task>;
  private readonly budgetLocks = new Map<string, Promise<void>>();
  /** Container instances this worker set DRAINING, and when; and those whose call is on the way (found). */
  private readonly ownDraining = new Map<string, number>();
  private readonly drainingInFlight = new Map<string, Promise<true>>();
  /** Reads in flight that later callers join (tasksOn, describeTask). */
  private readonly joined = new JoinedCalls();

  constructor(
    private readonly aws: AwsClients,
    opts: SharedCallOptions = {},
  ) {
    this.opts = {
      pollIntervalMs: opts.pollIntervalMs ?? 2_000,
      lingerMs: opts.lingerMs ?? 25,
      indexMinIntervalMs: opts.indexMinIntervalMs ?? 2_000,
      targetIndexMaxAgeMs: opts.targetIndexMaxAgeMs ?? 10_000,
      clusterIndexMaxAgeMs: opts.clusterIndexMaxAgeMs ?? 10_000,
    };
    this.targets = new TargetGroupIndex(aws, { minIntervalMs: this.opts.indexMinIntervalMs, maxAgeMs: this.opts.targetIndexMaxAgeMs, lingerMs: this.opts.lingerMs });

    this.drainingBatcher = new KeyedBatcher<string, string, true>({
      maxBatch: 10,
      lingerMs: this.opts.lingerMs,
      flush: async (cluster, arns) => {
        const out = await awsCall('ecs:UpdateContainerInstancesState', () =>
          this.aws.ecs.send(new UpdateContainerInstancesStateCommand({ cluster, containerInstances: arns, status: 'DRAINING' })),
        );
        const failed = new Map((out.failures ?? []).map((f) => [f.arn ?? '', f.reason ?? 'failed']));
        return arns.map((arn) => {
          const reason = failed.get(arn) ?? failed.get(arn.split('/').pop() ?? '');
          if (!reason) {
            this.noteStatusSet(cluster, arn, 'DRAINING');
            return true as const;
          }
          return reason === 'MISSING' ? notFound(`container instance ${arn}`) : ApplicationFailure.retryable(`${arn}: ${reason}`, FailureType.AwsUnavailable);
        });
      },
    });

    this.taskBatcher = new KeyedBatcher<string, string, Task>({
      maxBatch: 100,
      lingerMs: this.opts.lingerMs,
      flush: async (cluster, taskArns) => {
        const out = await awsCall('ecs:DescribeTasks', () => this.aws.ecs.send(new DescribeTasksCommand({ cluster, tasks: taskArns, include: ['TAGS'] })));
        const byArn = new Map((out.tasks ?? []).map((t) => [t.taskArn ?? '', t]));
        return taskArns.map((arn) => byArn.get(arn) ?? notFound(`task ${arn}`));
      },
    });
  }

  /** The cluster's sweeps (SharedSnapshot's `any` and `takenAfter`), each read as this worker knows the cluster now (`seen`). */
  private clusterIndex(cluster: string): { any(maxAgeMs: number): Promise<Map<string, ContainerInstanceState>>; takenAfter(t: number): Promise<Map<string, ContainerInstanceState>> } {
    let idx = this.indexes.get(cluster);
    if (!idx) {
      idx = new SharedSnapshot(async () => {
        const startedAtMs = Date.now();
        return { startedAtMs, byInstance: await sweepCluster(this.aws, cluster) };
      }, this.opts.indexMinIntervalMs);
      this.indexes.set(cluster, idx);
    }
    const snapshot = idx;
    return {
      any: async (maxAgeMs) => this.seen(cluster, await snapshot.any(maxAgeMs)),
      takenAfter: async (t) => this.seen(cluster, await snapshot.takenAfter(t)),
    };
  }

  /**
   * A sweep as this worker knows the cluster now: a container instance it set DRAINING (or ACTIVE
   * again) after the sweep started reads so, whatever the sweep read. Without it a sweep taken just
   * before a drain set DRAINING (a voluntary drain's budget check sweeps first) read ACTIVE for up to
   * clusterIndexMaxAgeMs: the instance's next resolve, and the drain coordinator's, took it for ACTIVE.
   * Another worker's changes are seen at the next sweep, as before.
   */
  private seen(cluster: string, sweep: Sweep): Map<string, ContainerInstanceState> {
    const set = this.statusesSet.get(cluster);
    if (!set?.size) return sweep.byInstance;
    let out = sweep.byInstance;
    for (const [instanceId, state] of sweep.byInstance) {
      const mine = set.get(state.containerInstanceArn);
      if (!mine || mine.atMs < sweep.startedAtMs || mine.status === state.status) continue;
      // A copy: the sweep itself is shared by every reader and stays as AWS answered it.
      if (out === sweep.byInstance) out = new Map(out);
      out.set(instanceId, { ...state, status: mine.status });
    }
    return out;
  }

  /** A status this worker has just set (its call returned): every later read of an older sweep shows it. */
  noteStatusSet(cluster: string, containerInstanceArn: string, status: StatusSet['status']): void {
    const now = Date.now();
    let set = this.statusesSet.get(cluster);
    if (!set) this.statusesSet.set(cluster, (set = new Map()));
    for (const [arn, s] of set) if (s.atMs < now - STATUS_SET_KEPT_MS) set.delete(arn);
    set.set(containerInstanceArn, { status, atMs: now });
  }

  /**
   * The container instance of an EC2 instance in one of `clusters`, from a sweep no older than
   * `clusterIndexMaxAgeMs`. A miss in an older sweep is checked against a sweep started after
   * `askedAt`, so a freshly registered instance is found; so is a hit that reads DRAINING with no
   * tasks, since that reading alone completes a terminate action CONTINUE (the instance may have come
   * back ACTIVE with tasks since the sweep).
   */
  async findContainerInstance(clusters: string[], instanceId: string, askedAt: number): Promise<FoundContainerInstance | undefined> {
    for (const cluster of clusters) {
      const hit = (await this.clusterIndex(cluster).any(this.opts.clusterIndexMaxAgeMs)).get(instanceId);
      if (hit && !looksDrained(hit)) return await this.found(cluster, hit);
      if (hit) {
        const verified = (await this.clusterIndex(cluster).takenAfter(askedAt)).get(instanceId);
        if (verified) return await this.found(cluster, verified);
      }
    }
    const fresh = await Promise.all(clusters.map(async (cluster) => ({ cluster, idx: await this.clusterIndex(cluster).takenAfter(askedAt) })));
    for (const { cluster, idx } of fresh) {
      const hit = idx.get(instanceId);
      if (hit) return await this.found(cluster, hit);
    }
    return undefined;
  }

  /**
   * A sweep taken just before this worker set an instance DRAINING (the drain coordinator's call
   * sweeps, then sets its batch DRAINING) still reads ACTIVE: the instance's drain, resolving from
   * that sweep, would set it DRAINING a second time. What this worker itself set DRAINING within a
   * sweep's lifetime is found with `drainingSet`, and a reading while its call is on the way waits
   * for that call. The reading itself is left as it is: its task counts are the sweep's.
   */
  private async found(cluster: string, state: ContainerInstanceState): Promise<FoundContainerInstance> {
    if (state.status !== 'ACTIVE') return { cluster, state };
    await this.drainingInFlight.get(state.containerInstanceArn)?.catch(() => undefined);
    const at = this.ownDraining.get(state.containerInstanceArn);
    return at !== undefined && Date.now() - at <= this.opts.clusterIndexMaxAgeMs ? { cluster, state, drainingSet: true } : { cluster, state };
  }

  /**
   * An ACTIVE container instance of `cluster` other than `exceptInstanceId` that registered at or after
   * `sinceMs`, from a sweep started now or later (shared by every drain waiting on the cluster).
   */
  async activeRegisteredSince(cluster: string, sinceMs: number, exceptInstanceId: string): Promise<ContainerInstanceState | undefined> {
    const idx = await this.clusterIndex(cluster).takenAfter(Date.now());
    return [...idx.values()].find((s) => s.status === 'ACTIVE' && s.ec2InstanceId !== exceptInstanceId && (s.registeredAtMs ?? 0) >= sinceMs);
  }

  /** The cluster's DRAINING container instances, from a sweep started now or later (shared by every drain asking). */
  async drainingIn(cluster: string): Promise<string[]> {
    const idx = await this.clusterIndex(cluster).takenAfter(Date.now());
    return [...idx.values()].filter((s) => s.status === 'DRAINING').map((s) => s.containerInstanceArn);
  }

  /**
   * Runs recorded before the budget was a workflow (workflows/drain-budget/) call this:
   * sets DRAINING only while fewer than `budget` other container instances of the cluster are
   * DRAINING (a fresh sweep); one check-and-set at a time per cluster in this worker. Workers do not
   * coordinate: with several, the budget can be exceeded by the drains that check at the same moment.
   */
  async setDrainingWithinBudget(cluster: string, containerInstanceArn: string, budget: number): Promise<{ granted: boolean; draining: number }> {
    const previous = this.budgetLocks.get(cluster) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    this.budgetLocks.set(cluster, previous.then(() => mine));
    await previous;
    try {
      const idx = await this.clusterIndex(cluster).takenAfter(Date.now());
      const draining = [...idx.values()].filter((s) => s.status === 'DRAINING' && s.containerInstanceArn !== containerInstanceArn).length;
      if (draining >= budget) return { granted: false, draining };
      // The next check sees this one DRAINING even before the next sweep (noteStatusSet).
      await this.setDraining(cluster, containerInstanceArn);
      return { granted: true, draining };
    } finally {
      release();
    }
  }

  async setDraining(cluster: string, containerInstanceArn: string): Promise<true> {
    const call = this.drainingBatcher.add(cluster, containerInstanceArn);
    this.drainingInFlight.set(containerInstanceArn, call);
    const ok = await call.finally(() => {
      if (this.drainingInFlight.get(containerInstanceArn) === call) this.drainingInFlight.delete(containerInstanceArn);
    });
    const now = Date.now();
    // Oldest first (a Map keeps insertion order): what is older than a sweep's lifetime is dropped.
    for (const [arn, at] of this.ownDraining) {
      if (now - at <= this.opts.clusterIndexMaxAgeMs) break;
      this.ownDraining.delete(arn);
    }
    this.ownDraining.delete(containerInstanceArn);
    this.ownDraining.set(containerInstanceArn, now);
    return ok;
  }

  /** Set ACTIVE again (the instance came back): a sweep's ACTIVE is the truth again. */
  forgetDraining(containerInstanceArn: string): void {
    this.ownDraining.delete(containerInstanceArn);
  }

  /** Callers that ask for the same task together share one DescribeTasks entry (a drain's deregister and its move both read its tasks). */
  describeTask(cluster: string, taskArn: string): Promise<Task> {
    return this.joined.join(`describe|${cluster}|${taskArn}`, () => this.taskBatcher.add(cluster, taskArn));
  }

  /** The tasks ECS has on the container instance (desired RUNNING), one ListTasks for the callers that ask together. */
  tasksOn(cluster: string, containerInstanceArn: string): Promise<string[]> {
    return this.joined.join(`list|${cluster}|${containerInstanceArn}`, () => this.targets.tasksOn(cluster, containerInstanceArn));
  }


  /** Subscribes to task counts of one container instance; returns the unsubscribe function. */
  watchTasks(cluster: string, containerInstanceArn: string, listener: WatchListener): () => void {
    let poller = this.pollers.get(cluster);
    if (!poller) {
      poller = new ClusterTaskPoller(this.aws, cluster, this.opts.pollIntervalMs);
      this.pollers.set(cluster, poller);
    }
    return poller.watch(containerInstanceArn, listener);
  }

  /**
   * The targets that route to the instance: its own (instance targets) and its tasks' (IP targets of
   * awsvpc tasks), in the target groups of the services whose tasks it runs.
   */
  async targetsOf(cluster: string, instanceId: string, containerInstanceArn: string): Promise<TargetGroupTargets[]> {
    const arns = await this.tasksOn(cluster, containerInstanceArn);
    const tasks = await Promise.all(arns.map((arn) => this.describeTask(cluster, arn).catch(() => undefined)));
    return this.targets.targetsOf(cluster, instanceId, tasks.filter((t): t is Task => t !== undefined));
  }

  deregister(targetGroupArn: string, target: TargetDescription): Promise<true> {
    return this.targets.deregister(targetGroupArn, target);
  }
}

/** A reading that ends a drain at once (nothing left to move): trusted only from a sweep started after the question. */
function looksDrained(s: ContainerInstanceState): boolean {
  return s.status === 'DRAINING' && s.running + s.pending === 0;
}
