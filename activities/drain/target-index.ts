import { DescribeServicesCommand, ListTasksCommand, type Task } from '@aws-sdk/client-ecs';
import { DeregisterTargetsCommand, DescribeTargetGroupsCommand, DescribeTargetHealthCommand, type TargetDescription } from '@aws-sdk/client-elastic-load-balancing-v2';
import { chunks, KeyedBatcher, SharedSnapshot } from '../../common/batching';
import type { AwsClients } from '../aws/clients';
import { awsCall } from '../aws/errors';

/**
 * Which targets route to a draining instance, found from its ECS tasks, not from a sweep of every
 * target group in the account (inside the two minutes of a warning that was a burst of
 * DescribeTargetHealth calls against ELB's rate limit); the sweep is left for an instance none of
 * whose services has a target group. ECS registers a service's tasks in the
 * service's target groups ("Use load balancing to distribute Amazon ECS service traffic",
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-load-balancing.html): by the
 * instance id for bridge and host network mode, by the task's ENI IP for awsvpc (the task's
 * `ElasticNetworkInterface` attachment, `privateIPv4Address`). Only those groups are described, each
 * shared by every drain of the worker for a short while; DeregisterTargets is batched per group.
 */

export interface TargetGroupTargets {
  targetGroupArn: string;
  targets: TargetDescription[];
}

/** The ids a task's targets are registered by: its ENI addresses (awsvpc). */
export function taskTargetIds(task: Task): string[] {
  return (task.attachments ?? [])
    .filter((a) => a.type === 'ElasticNetworkInterface')
    .flatMap((a) => a.details ?? [])
    .filter((d) => (d.name === 'privateIPv4Address' || d.name === 'ipv6Address') && d.value)
    .map((d) => d.value!);
}

export class TargetGroupIndex {
  private readonly groups = new Map<string, SharedSnapshot<TargetDescription[]>>();
  private readonly services = new Map<string, SharedSnapshot<string[]>>();
  private readonly deregisterBatcher: KeyedBatcher<string, TargetDescription, true>;
  private readonly everyGroup: SharedSnapshot<string[]>;

  constructor(
    private readonly aws: AwsClients,
    private readonly opts: { minIntervalMs: number; maxAgeMs: number; lingerMs: number },
  ) {
    this.everyGroup = new SharedSnapshot(() => this.listGroups(), opts.minIntervalMs);
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

  private async listGroups(): Promise<string[]> {
    const groups: string[] = [];
    let marker: string | undefined;
    do {
      const page = await awsCall('elasticloadbalancing:DescribeTargetGroups', () => this.aws.elbv2.send(new DescribeTargetGroupsCommand({ PageSize: 400, Marker: marker })));
      groups.push(...(page.TargetGroups ?? []).map((g) => g.TargetGroupArn ?? '').filter(Boolean));
      marker = page.NextMarker;
    } while (marker);
    return groups;
  }

  /** The tasks ECS has on the container instance (desired RUNNING: running and on their way there). */
  async tasksOn(cluster: string, containerInstanceArn: string): Promise<string[]> {
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await awsCall('ecs:ListTasks', () =>
        this.aws.ecs.send(new ListTasksCommand({ cluster, containerInstance: containerInstanceArn, desiredStatus: 'RUNNING', nextToken })),
      );
      arns.push(...(page.taskArns ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return arns;
  }

  /** The target groups of a service (its `loadBalancers`), read once a while per service. */
  private serviceGroups(cluster: string, service: string): Promise<string[]> {
    const key = `${cluster}|${service}`;
    let snap = this.services.get(key);
    if (!snap) {
      snap = new SharedSnapshot(async () => {
        const out = await awsCall('ecs:DescribeServices', () => this.aws.ecs.send(new DescribeServicesCommand({ cluster, services: [service] })));
        return (out.services ?? []).flatMap((s) => s.loadBalancers ?? []).flatMap((lb) => (lb.targetGroupArn ? [lb.targetGroupArn] : []));
      }, this.opts.minIntervalMs);
      this.services.set(key, snap);
    }
    return snap.any(this.opts.maxAgeMs);
  }

  /** A group's targets that are not already draining, shared by the drains that ask within `maxAgeMs`. */
  private groupTargets(targetGroupArn: string): Promise<TargetDescription[]> {
    let snap = this.groups.get(targetGroupArn);
    if (!snap) {
      snap = new SharedSnapshot(async () => {
        const out = await awsCall('elasticloadbalancing:DescribeTargetHealth', () => this.aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn })));
        return (out.TargetHealthDescriptions ?? [])
          .filter((d) => d.TargetHealth?.State !== 'draining' && d.Target?.Id)
          .map((d) => ({ Id: d.Target!.Id!, Port: d.Target?.Port, AvailabilityZone: d.Target?.AvailabilityZone }));
      }, this.opts.minIntervalMs);
      this.groups.set(targetGroupArn, snap);
    }
    return snap.any(this.opts.maxAgeMs);
  }

  /**
   * The targets of `instanceId` and of its `tasks` in the target groups of the services those tasks
   * belong to: instance targets (any port) and the awsvpc tasks' IP targets.
   */
  async targetsOf(cluster: string, instanceId: string, tasks: Task[]): Promise<TargetGroupTargets[]> {
    const ids = new Set([instanceId, ...tasks.flatMap(taskTargetIds)]);
    const services = [...new Set(tasks.flatMap((t) => (t.group?.startsWith('service:') ? [t.group.slice('service:'.length)] : [])))];
    const groups = new Set<string>();
    // A few at a time: a drain must not itself be a burst that trips the rate limits.
    for (const batch of chunks(services, 5)) for (const arns of await Promise.all(batch.map((s) => this.serviceGroups(cluster, s)))) arns.forEach((a) => groups.add(a));
    // No service of the instance names a target group: the instance may still be registered by
    // other means (an ASG's target groups, by hand). Only then is every group looked at.
    if (groups.size === 0) (await this.everyGroup.any(this.opts.maxAgeMs)).forEach((a) => groups.add(a));
    const out: TargetGroupTargets[] = [];
    for (const batch of chunks([...groups], 5)) {
      const described = await Promise.all(batch.map(async (arn) => ({ arn, targets: await this.groupTargets(arn) })));
      for (const { arn, targets } of described) {
        const mine = targets.filter((t) => ids.has(t.Id ?? ''));
        if (mine.length > 0) out.push({ targetGroupArn: arn, targets: mine });
      }
    }
    return out;
  }

  deregister(targetGroupArn: string, target: TargetDescription): Promise<true> {
    return this.deregisterBatcher.add(targetGroupArn, target);
  }
}
