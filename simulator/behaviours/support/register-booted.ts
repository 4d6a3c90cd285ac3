import { DescribeInstanceAttributeCommand, DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { RegisterContainerInstanceCommand } from '@aws-sdk/client-ecs';
import type { BehaviourContext } from '../../behaviour';
import { DEFAULT_ACCOUNT } from '../../events';

/** EC2 states in which an instance's ECS agent does not (or no longer) run. */
const NOT_RUNNING = ['shutting-down', 'terminated', 'stopping', 'stopped'];

/**
 * The cluster the instance's user data names, as the ECS agent reads it: "Bootstrapping container
 * instances with Amazon EC2 user data" and "Amazon ECS container agent configuration"
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/bootstrap_container_instance.html,
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-agent-config.html) write
 * `ECS_CLUSTER=<name>` to /etc/ecs/ecs.config from the user data. moto keeps a launch template's user
 * data on what it launches (DescribeInstanceAttribute userData). Undefined when it names none.
 */
export async function clusterInUserData(ctx: BehaviourContext, instanceId: string): Promise<string | undefined> {
  const attr = await ctx.aws().ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'userData' }));
  const encoded = attr.UserData?.Value;
  if (!encoded) return undefined;
  return /\bECS_CLUSTER=([A-Za-z0-9_-]{1,255})/.exec(Buffer.from(encoded, 'base64').toString('utf8'))?.[1];
}

/**
 * A booted instance joins its cluster as the ECS container agent does when it starts
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/launch_container_instance.html):
 * RegisterContainerInstance with the instance identity document, in the cluster its user data names
 * (ECS_CLUSTER), else `cluster` (what the caller knows of the pool). Returns why it could not, or
 * undefined once registered.
 */
export async function registerBootedInstance(ctx: BehaviourContext, cluster: string | undefined, instanceId: string): Promise<string | undefined> {
  const d = await ctx.aws().ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  const inst = d.Reservations?.[0]?.Instances?.[0];
  if (!inst || NOT_RUNNING.includes(inst.State?.Name ?? '')) return 'instance gone before it booted';
  const named = await clusterInUserData(ctx, instanceId);
  await ctx.aws().ecs.send(
    new RegisterContainerInstanceCommand({
      cluster: named ?? cluster,
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
