import { DescribeImagesCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { ListTaskDefinitionsCommand, RegisterContainerInstanceCommand, StartTaskCommand } from '@aws-sdk/client-ecs';
import type { AwsClients } from '../../activities/aws/clients';
import { chunks } from '../../common/batching';

/** N storm instances with one service task each, and spare ACTIVE instances for the moved tasks. */
export async function seedStorm(aws: AwsClients, n: number): Promise<{ instances: string[]; arns: string[] }> {
  const image = (await aws.ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images?.[0]?.ImageId;
  const taskDef = (await aws.ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: 'web' }))).taskDefinitionArns?.at(-1);
  if (!image || !taskDef) throw new Error('the demo has no AMI or web task definition');
  const spare = Math.ceil(n / 16);
  const launched: string[] = [];
  for (let left = n + spare; left > 0; left -= 100) {
    const count = Math.min(100, left);
    const r = await aws.ec2.send(new RunInstancesCommand({ ImageId: image, InstanceType: 'm5.large', MinCount: count, MaxCount: count }));
    launched.push(...(r.Instances ?? []).map((i) => i.InstanceId!));
  }
  const register = async (instanceId: string) =>
    (await aws.ecs.send(new RegisterContainerInstanceCommand({ cluster: 'demo', instanceIdentityDocument: JSON.stringify({ instanceId }) })))
      .containerInstance!.containerInstanceArn!;
  const instances = launched.slice(0, n);
  const arns: string[] = [];
  for (let i = 0; i < instances.length; i += 20) {
    const batch = await Promise.all(instances.slice(i, i + 20).map(register));
    arns.push(...batch);
    // StartTask places one task on each container instance it names, up to 10 a call.
    await Promise.all(
      chunks(batch, 10).map((containerInstances) =>
        aws.ecs.send(new StartTaskCommand({ cluster: 'demo', taskDefinition: taskDef, containerInstances, group: 'service:web', startedBy: 'ecs-svc/1000000000000000001' })),
      ),
    );
  }
  for (const id of launched.slice(n)) await register(id);
  return { instances, arns };
}
