import { DeregisterContainerInstanceCommand, DescribeContainerInstancesCommand, ListClustersCommand, ListContainerInstancesCommand } from '@aws-sdk/client-ecs';
import { TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import type { BehaviourContext } from '../../behaviour';
import { publishInstanceStates } from '../ec2-state-events';

/**
 * An EC2 instance ending as AWS ends it, for behaviours that terminate instances themselves (calls
 * through ctx.aws go to moto and announce nothing): its container instance leaves its cluster with
 * whatever tasks it still ran (ECS deregisters the container instance of a terminated EC2 instance,
 * "Deregister an Amazon ECS container instance",
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deregister_container_instance.html),
 * and EC2 announces shutting-down and terminated ("State change events for Amazon EC2 instances",
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/monitoring-instance-state-changes.html).
 */

export interface InstanceEnd {
  /** Tasks the container instance still ran when it went (work lost). */
  tasksLost: number;
  cluster?: string;
  terminated: boolean;
}

export async function endInstance(ctx: BehaviourContext, instanceId: string, region?: string): Promise<InstanceEnd> {
  const aws = ctx.aws(region);
  let tasksLost = 0;
  let cluster: string | undefined;
  const clusters = (await aws.ecs.send(new ListClustersCommand({}))).clusterArns ?? [];
  for (const c of clusters) {
    const arns = (await aws.ecs.send(new ListContainerInstancesCommand({ cluster: c }))).containerInstanceArns ?? [];
    for (let i = 0; i < arns.length; i += 100) {
      const out = await aws.ecs.send(new DescribeContainerInstancesCommand({ cluster: c, containerInstances: arns.slice(i, i + 100) }));
      const ci = out.containerInstances?.find((x) => x.ec2InstanceId === instanceId);
      if (!ci?.containerInstanceArn) continue;
      tasksLost = (ci.runningTasksCount ?? 0) + (ci.pendingTasksCount ?? 0);
      cluster = c.slice(c.lastIndexOf('/') + 1);
      await aws.ecs.send(new DeregisterContainerInstanceCommand({ cluster: c, containerInstance: ci.containerInstanceArn, force: true }));
    }
  }
  const terminated = await aws.ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] })).then(
    () => true,
    (err: unknown) => {
      ctx.log.warn({ err, instanceId }, 'TerminateInstances failed');
      return false;
    },
  );
  if (terminated) await publishInstanceStates(ctx, [instanceId], ['shutting-down', 'terminated'], { region });
  return { tasksLost, ...(cluster ? { cluster } : {}), terminated };
}
