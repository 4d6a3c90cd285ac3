import { DescribeImagesCommand, RunInstancesCommand, type _InstanceType } from '@aws-sdk/client-ec2';
import { CreateClusterCommand, RegisterContainerInstanceCommand } from '@aws-sdk/client-ecs';
import type { AwsClients } from '../../activities/aws/clients';

/**
 * EC2 instances in the emulator registered as ECS container instances of `cluster` (as the ECS agent
 * registers them), one per Availability Zone in turn. The simulator places service tasks on them; moto
 * gives each 4096 CPU units and 7482 MiB whatever the instance type.
 */
export interface ContainerInstance {
  instanceId: string;
  containerInstanceArn: string;
  availabilityZone: string;
}

export async function addContainerInstances(
  aws: AwsClients,
  cluster: string,
  o: { count: number; azs?: string[]; instanceType?: _InstanceType },
): Promise<ContainerInstance[]> {
  await aws.ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  const image = (await aws.ec2.send(new DescribeImagesCommand({}))).Images?.[0]?.ImageId ?? 'ami-12c6146b';
  const azs = o.azs ?? ['us-east-1a', 'us-east-1b', 'us-east-1c'];
  const out: ContainerInstance[] = [];
  for (let i = 0; i < o.count; i++) {
    const availabilityZone = azs[i % azs.length]!;
    const run = await aws.ec2.send(
      new RunInstancesCommand({ ImageId: image, InstanceType: o.instanceType ?? 'm5.large', MinCount: 1, MaxCount: 1, Placement: { AvailabilityZone: availabilityZone } }),
    );
    const instanceId = run.Instances![0]!.InstanceId!;
    const registered = await aws.ecs.send(new RegisterContainerInstanceCommand({ cluster, instanceIdentityDocument: JSON.stringify({ instanceId }) }));
    out.push({ instanceId, containerInstanceArn: registered.containerInstance!.containerInstanceArn!, availabilityZone });
  }
  return out;
}
