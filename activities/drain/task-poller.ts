import { DescribeContainerInstancesCommand } from '@aws-sdk/client-ecs';
import { chunks } from '../../common/batching';
import type { AwsClients } from '../aws/clients';
import { awsCall } from '../aws/errors';
import { notFound, toState } from './container-instances';

/**
 * The task counts of watched container instances, for every drain of a cluster that waits for its
 * instance to empty: one DescribeContainerInstances per 100 watched instances per interval, however
 * many drains wait.
 */

export type TaskCounts = { running: number; pending: number };
export type WatchListener = (update: TaskCounts | Error) => void;

export class ClusterTaskPoller {
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
