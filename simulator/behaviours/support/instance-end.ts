import { TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import type { BehaviourContext } from '../../behaviour';
import { publishInstanceStates } from '../ec2-state-events';
import { deregisterContainerInstancesOf } from './container-instance-end';

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
  const gone = (await deregisterContainerInstancesOf(ctx, [instanceId], region)).get(instanceId);
  const terminated = await ctx.aws(region).ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] })).then(
    () => true,
    (err: unknown) => {
      ctx.log.warn({ err, instanceId }, 'TerminateInstances failed');
      return false;
    },
  );
  if (terminated) await publishInstanceStates(ctx, [instanceId], ['shutting-down', 'terminated'], { region });
  return { tasksLost: gone?.tasksLost ?? 0, ...(gone ? { cluster: gone.cluster } : {}), terminated };
}
