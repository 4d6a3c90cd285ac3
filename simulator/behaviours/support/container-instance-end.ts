import { DeregisterContainerInstanceCommand, DescribeContainerInstancesCommand, ListClustersCommand, ListContainerInstancesCommand } from '@aws-sdk/client-ecs';
import type { BehaviourContext } from '../../behaviour';

/**
 * A terminated EC2 instance's container instance leaving its cluster, as ECS does it: "If you
 * terminate a running container instance, Amazon ECS automatically deregisters the instance from
 * your cluster" ("Deregister an Amazon ECS container instance",
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deregister_container_instance.html).
 * moto keeps it registered (ACTIVE or DRAINING) for good. Used for instances the simulator ends
 * itself (instance-end.ts) and for TerminateInstances calls made through it (ec2-state-events.ts).
 */

/**
 * ECS deregisters the container instance of a terminated EC2 instance (force: its tasks are lost).
 * Returns, per instance that had one, its cluster and the tasks it still ran; an instance with
 * none (never registered, or deregistered already) is left out.
 */
export async function deregisterContainerInstancesOf(ctx: BehaviourContext, instanceIds: string[], region?: string): Promise<Map<string, { cluster: string; tasksLost: number }>> {
  const aws = ctx.aws(region);
  const wanted = new Set(instanceIds);
  const out = new Map<string, { cluster: string; tasksLost: number }>();
  const clusters = (await aws.ecs.send(new ListClustersCommand({}))).clusterArns ?? [];
  for (const c of clusters) {
    const arns = (await aws.ecs.send(new ListContainerInstancesCommand({ cluster: c }))).containerInstanceArns ?? [];
    for (let i = 0; i < arns.length; i += 100) {
      const described = await aws.ecs.send(new DescribeContainerInstancesCommand({ cluster: c, containerInstances: arns.slice(i, i + 100) }));
      for (const ci of described.containerInstances ?? []) {
        if (!ci.containerInstanceArn || !ci.ec2InstanceId || !wanted.has(ci.ec2InstanceId)) continue;
        out.set(ci.ec2InstanceId, { cluster: c.slice(c.lastIndexOf('/') + 1), tasksLost: (ci.runningTasksCount ?? 0) + (ci.pendingTasksCount ?? 0) });
        await aws.ecs.send(new DeregisterContainerInstanceCommand({ cluster: c, containerInstance: ci.containerInstanceArn, force: true }));
      }
    }
  }
  return out;
}
