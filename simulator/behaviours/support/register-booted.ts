import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { RegisterContainerInstanceCommand } from '@aws-sdk/client-ecs';
import type { BehaviourContext } from '../../behaviour';
import { DEFAULT_ACCOUNT } from '../../events';

/** EC2 states in which an instance's ECS agent does not (or no longer) run. */
const NOT_RUNNING = ['shutting-down', 'terminated', 'stopping', 'stopped'];

/**
 * A booted instance joins its cluster as the ECS container agent does when it starts
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/launch_container_instance.html):
 * RegisterContainerInstance with the instance identity document. Returns why it could not, or
 * undefined once registered.
 */
export async function registerBootedInstance(ctx: BehaviourContext, cluster: string | undefined, instanceId: string): Promise<string | undefined> {
  const d = await ctx.aws().ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  const inst = d.Reservations?.[0]?.Instances?.[0];
  if (!inst || NOT_RUNNING.includes(inst.State?.Name ?? '')) return 'instance gone before it booted';
  await ctx.aws().ecs.send(
    new RegisterContainerInstanceCommand({
      cluster,
      instanceIdentityDocument: JSON.stringify({
        instanceId,
        instanceType: inst.InstanceType,
        availabilityZone: inst.Placement?.AvailabilityZone,
        imageId: inst.ImageId,
        region: 'us-east-1',
        accountId: DEFAULT_ACCOUNT,
      }),
    }),
  );
  return undefined;
}
