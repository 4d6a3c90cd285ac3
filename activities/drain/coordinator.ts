import {
  DescribeContainerInstancesCommand,
  DescribeTasksCommand,
  ListContainerInstancesCommand,
  UpdateContainerInstancesStateCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import {
  DeregisterTargetsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type TargetDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../common/failures';
import type { AwsClients } from '../aws/clients';
import { awsCall } from '../aws/errors';
import { KeyedBatcher, SharedSnapshot } from '../../common/batching';

/**
 * The worker-wide part of draining: one per worker process, shared by every drain it runs, so the
 * AWS call rate follows the fleet, not the number of drains.
 *  - cluster index: instance id → container instance, one ListContainerInstances + DescribeContainerInstances
 *    (100 a call) sweep shared by every resolve;
 *  - DRAINING: UpdateContainerInstancesState batched 10 container instances a call per cluster;
 *  - task poller: one DescribeContainerInstances per 100 watched instances per interval per cluster,
 *    however many drains wait;
 *  - DescribeTasks batched 100 a call; target groups indexed once for all drains; DeregisterTargets
 *    batched per target group.
 */

export interface ContainerInstanceState {
  containerInstanceArn: string;
  ec2InstanceId: string;
  status: string;
  running: number;
  pending: number;
  instanceType?: string;
  /** When it registered with the cluster (epoch ms). */
  registeredAtMs?: number;
}

export interface CoordinatorOptions {
  /** How often watched container instances are described. */
  pollIntervalMs?: number;
  /** How long a batch waits for more items before it goes out. */
  lingerMs?: number;
  /** Minimum spacing of full-cluster and target-group sweeps. */
  indexMinIntervalMs?: number;
  /** Target-group snapshots younger than this are used as they are. */
  targetIndexMaxAgeMs?: number;
}

export type TaskCounts = { running: number; pending: number };
type WatchListener = (update: TaskCounts | Error) => void;

export interface TargetGroupTargets {
  targetGroupArn: string;
  targets: TargetDescription[];
}

const notFound = (what: string) => ApplicationFailure.nonRetryable(`${what} not found`, FailureType.AwsNotFound);

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function toState(ci: {
  containerInstanceArn?: string;
  ec2InstanceId?: string;
  status?: string;
  runningTasksCount?: number;
  pendingTasksCount?: number;
  attributes?: { name?: string; value?: string }[];
  registeredAt?: Date;
}): ContainerInstanceState {
  return {
    containerInstanceArn: ci.containerInstanceArn ?? '',
    ec2InstanceId: ci.ec2InstanceId ?? '',
    status: ci.status ?? 'UNKNOWN',
    running: ci.runningTasksCount ?? 0,
    pending: ci.pendingTasksCount ?? 0,
    instanceType: ci.attributes?.find((a) => a.name === 'ecs.instance-type')?.value,
    ...(ci.registeredAt ? { registeredAtMs: ci.registeredAt.getTime() } : {}),
  };
}

class ClusterTaskPoller {
  private readonly watchers = new Map<string, Set<WatchListener>>();
  private timer?: NodeJS.Timeout;
  private intervalMs: number;

  constructor(
    private readonly aws: AwsClients,
    private readonly cluster: string,
    private readonly baseIntervalMs: number,
  ) {
    this.intervalMs = baseIntervalMs;
  }

  watch(arn: string, listener: WatchListener): () => void {
    let set = this.watchers.get(arn);
    if (!set) {
      set = new Set();
      this.watchers.set(arn, set);
    }
    set.add(listener);
    this.timer ??= setTimeout(() => void this.poll(), Math.min(250, this.intervalMs));
    return () => {
      set.delete(listener);
      if (set.size === 0) this.watchers.delete(arn);
    };
  }

  private async poll(): Promise<void> {
    const arns = [...this.watchers.keys()];
    try {
      for (const batch of chunks(arns, 100)) {
        const out = await awsCall('ecs:DescribeContainerInstances', () =>
          this.aws.ecs.send(new DescribeContainerInstancesCommand({ cluster: this.cluster, containerInstances: batch })),
        );
        for (const ci of out.containerInstances ?? []) {
          const s = toState(ci);
          for (const l of this.watchers.get(s.containerInstanceArn) ?? []) l({ running: s.running, pending: s.pending });
        }
        for (const f of out.failures ?? []) {
          if (f.reason !== 'MISSING' || !f.arn) continue;
          const arn = batch.find((a) => a === f.arn || a.endsWith(`/${f.arn}`) || f.arn?.endsWith(a.split('/').pop() ?? '\0'));
          for (const l of (arn && this.watchers.get(arn)) || []) l(notFound(`container instance ${arn}`));
        }
      }
      this.intervalMs = this.baseIntervalMs;
    } catch {
      // Throttled or unreachable: slow down; waiters keep heartbeating and keep their last counts.
      this.intervalMs = Math.min(this.intervalMs * 2, 10_000);
    }
    this.timer = this.watchers.size > 0 ? setTimeout(() => void this.poll(), this.intervalMs) : undefined;
  }
}

export class DrainCoordinator {
  private readonly opts: Required<CoordinatorOptions>;
  private readonly indexes = new Map<string, SharedSnapshot<Map<string, ContainerInstanceState>>>();
  private readonly pollers = new Map<string, ClusterTaskPoller>();
  private readonly targetIndex: SharedSnapshot<TargetGroupTargets[]>;
  private readonly drainingBatcher: KeyedBatcher<string, string, true>;
  private readonly taskBatcher: KeyedBatcher<string, string, Task>;
  private readonly deregisterBatcher: KeyedBatcher<string, TargetDescription, true>;
  private readonly budgetLocks = new Map<string, Promise<void>>();

  constructor(
    private readonly aws: AwsClients,
    opts: CoordinatorOptions = {},
  ) {
    this.opts = {
      pollIntervalMs: opts.pollIntervalMs ?? 2_000,
      lingerMs: opts.lingerMs ?? 25,
      indexMinIntervalMs: opts.indexMinIntervalMs ?? 2_000,
      targetIndexMaxAgeMs: opts.targetIndexMaxAgeMs ?? 10_000,
    };
    this.targetIndex = new SharedSnapshot(() => this.sweepTargetGroups(), this.opts.indexMinIntervalMs);

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
          if (!reason) return true as const;
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

    this.deregisterBatcher = new KeyedBatcher<string, TargetDescription, true>({
      maxBatch: 100,
      lingerMs: this.opts.lingerMs,
      flush: async (targetGroupArn, targets) => {
        await awsCall('elasticloadbalancing:DeregisterTargets', () =>
          this.aws.elbv2.send(new DeregisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: targets })),
        );
        return targets.map(() => true as const);
      },
    });
  }

  private clusterIndex(cluster: string): SharedSnapshot<Map<string, ContainerInstanceState>> {
    let idx = this.indexes.get(cluster);
    if (!idx) {
      idx = new SharedSnapshot(() => this.sweepCluster(cluster), this.opts.indexMinIntervalMs);
      this.indexes.set(cluster, idx);
    }
    return idx;
  }

  private async sweepCluster(cluster: string): Promise<Map<string, ContainerInstanceState>> {
    // Each page of 100 is described as soon as it is listed: every resolve of a storm waits for this
    // sweep, and describing 1,000 instances one page after another took seconds against the emulator.
    const described: Promise<ContainerInstanceState[]>[] = [];
    let nextToken: string | undefined;
    do {
      const page = await awsCall('ecs:ListContainerInstances', () =>
        this.aws.ecs.send(new ListContainerInstancesCommand({ cluster, maxResults: 100, nextToken })),
      );
      const batch = page.containerInstanceArns ?? [];
      if (batch.length > 0) {
        const states = awsCall('ecs:DescribeContainerInstances', () =>
          this.aws.ecs.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: batch })),
        ).then((out) => (out.containerInstances ?? []).map(toState));
        // Awaited below; this only keeps a failure from being unhandled if a later List page throws first.
        states.catch(() => undefined);
        described.push(states);
      }
      nextToken = page.nextToken;
    } while (nextToken);
    const byInstance = new Map<string, ContainerInstanceState>();
    for (const states of await Promise.all(described)) {
      for (const s of states) if (s.ec2InstanceId) byInstance.set(s.ec2InstanceId, s);
    }
    return byInstance;
  }

  /**
   * The container instance of an EC2 instance in one of `clusters`. A miss in an older sweep is
   * checked against a sweep started after `askedAt`, so a freshly registered instance is found.
   */
  async findContainerInstance(clusters: string[], instanceId: string, askedAt: number): Promise<{ cluster: string; state: ContainerInstanceState } | undefined> {
    for (const cluster of clusters) {
      const hit = (await this.clusterIndex(cluster).any()).get(instanceId);
      if (hit) return { cluster, state: hit };
    }
    const fresh = await Promise.all(clusters.map(async (cluster) => ({ cluster, idx: await this.clusterIndex(cluster).takenAfter(askedAt) })));
    for (const { cluster, idx } of fresh) {
      const hit = idx.get(instanceId);
      if (hit) return { cluster, state: hit };
    }
    return undefined;
  }

  /**
   * An ACTIVE container instance of `cluster` other than `exceptInstanceId` that registered at or after
   * `sinceMs`, from a sweep started now or later (shared by every drain waiting on the cluster).
   */
  async activeRegisteredSince(cluster: string, sinceMs: number, exceptInstanceId: string): Promise<ContainerInstanceState | undefined> {
    const idx = await this.clusterIndex(cluster).takenAfter(Date.now());
    return [...idx.values()].find((s) => s.status === 'ACTIVE' && s.ec2InstanceId !== exceptInstanceId && (s.registeredAtMs ?? 0) >= sinceMs);
  }

  /**
   * Sets DRAINING only while fewer than `budget` other container instances of the cluster are
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
      await this.setDraining(cluster, containerInstanceArn);
      // The next check must see this one DRAINING even before the next sweep.
      const self = [...idx.values()].find((s) => s.containerInstanceArn === containerInstanceArn);
      if (self) self.status = 'DRAINING';
      return { granted: true, draining };
    } finally {
      release();
    }
  }

  setDraining(cluster: string, containerInstanceArn: string): Promise<true> {
    return this.drainingBatcher.add(cluster, containerInstanceArn);
  }

  describeTask(cluster: string, taskArn: string): Promise<Task> {
    return this.taskBatcher.add(cluster, taskArn);
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

  private async sweepTargetGroups(): Promise<TargetGroupTargets[]> {
    const groups: string[] = [];
    let marker: string | undefined;
    do {
      const page = await awsCall('elasticloadbalancing:DescribeTargetGroups', () =>
        this.aws.elbv2.send(new DescribeTargetGroupsCommand({ PageSize: 400, Marker: marker })),
      );
      groups.push(...(page.TargetGroups ?? []).map((g) => g.TargetGroupArn ?? '').filter(Boolean));
      marker = page.NextMarker;
    } while (marker);
    const out: TargetGroupTargets[] = [];
    // A few at a time: a sweep must not itself be a burst that trips the ELB rate limit.
    for (const batch of chunks(groups, 5)) {
      const health = await Promise.all(
        batch.map((arn) =>
          awsCall('elasticloadbalancing:DescribeTargetHealth', () => this.aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }))),
        ),
      );
      batch.forEach((arn, i) => {
        const targets = (health[i]?.TargetHealthDescriptions ?? [])
          .filter((d) => d.TargetHealth?.State !== 'draining' && d.Target?.Id)
          .map((d) => ({ Id: d.Target!.Id!, Port: d.Target?.Port, AvailabilityZone: d.Target?.AvailabilityZone }));
        out.push({ targetGroupArn: arn, targets });
      });
    }
    return out;
  }

  /** Target groups that route to `instanceId` (instance targets), from a recent shared sweep. */
  async targetsOf(instanceId: string): Promise<TargetGroupTargets[]> {
    const groups = await this.targetIndex.takenAfter(Date.now() - this.opts.targetIndexMaxAgeMs);
    return groups
      .map((g) => ({ targetGroupArn: g.targetGroupArn, targets: g.targets.filter((t) => t.Id === instanceId) }))
      .filter((g) => g.targets.length > 0);
  }

  deregister(targetGroupArn: string, target: TargetDescription): Promise<true> {
    return this.deregisterBatcher.add(targetGroupArn, target);
  }
}
