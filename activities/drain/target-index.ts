import {
  DeregisterTargetsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type TargetDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { chunks, KeyedBatcher, SharedSnapshot } from '../../common/batching';
import type { AwsClients } from '../aws/clients';
import { awsCall } from '../aws/errors';

/**
 * Which target groups route to which instances, indexed once for all drains of the worker (one
 * shared sweep of every group's targets), and DeregisterTargets batched per target group.
 */

export interface TargetGroupTargets {
  targetGroupArn: string;
  targets: TargetDescription[];
}

export class TargetGroupIndex {
  private readonly index: SharedSnapshot<TargetGroupTargets[]>;
  private readonly deregisterBatcher: KeyedBatcher<string, TargetDescription, true>;
  private readonly maxAgeMs: number;

  constructor(
    private readonly aws: AwsClients,
    opts: { minIntervalMs: number; maxAgeMs: number; lingerMs: number },
  ) {
    this.maxAgeMs = opts.maxAgeMs;
    this.index = new SharedSnapshot(() => this.sweep(), opts.minIntervalMs);
    this.deregisterBatcher = new KeyedBatcher<string, TargetDescription, true>({
      maxBatch: 100,
      lingerMs: opts.lingerMs,
      flush: async (targetGroupArn, targets) => {
        await awsCall('elasticloadbalancing:DeregisterTargets', () =>
          this.aws.elbv2.send(new DeregisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: targets })),
        );
        return targets.map(() => true as const);
      },
    });
  }

  private async sweep(): Promise<TargetGroupTargets[]> {
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
    const groups = await this.index.takenAfter(Date.now() - this.maxAgeMs);
    return groups
      .map((g) => ({ targetGroupArn: g.targetGroupArn, targets: g.targets.filter((t) => t.Id === instanceId) }))
      .filter((g) => g.targets.length > 0);
  }

  deregister(targetGroupArn: string, target: TargetDescription): Promise<true> {
    return this.deregisterBatcher.add(targetGroupArn, target);
  }
}
