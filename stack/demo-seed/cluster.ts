import { DescribeInstancesCommand, type Instance } from '@aws-sdk/client-ec2';
import {
  CreateClusterCommand,
  DescribeClustersCommand,
  DescribeContainerInstancesCommand,
  ListContainerInstancesCommand,
  RegisterContainerInstanceCommand,
} from '@aws-sdk/client-ecs';
import type { AwsClients } from '../../activities/aws/clients';
import { DEMO } from './demo';
import { must } from './resource-helpers';

/** An ECS cluster (`demo`, `shop`), with every pool instance registered as the ECS agent registers it. */

async function describeInstances(aws: AwsClients, ids: string[]): Promise<Instance[]> {
  const res = await aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
  return (res.Reservations ?? []).flatMap((r) => r.Instances ?? []);
}

/** The document the ECS agent sends, from the instance's metadata service. */
function identityDocument(instance: Instance, region: string): string {
  return JSON.stringify({
    instanceId: instance.InstanceId,
    instanceType: instance.InstanceType,
    region,
    availabilityZone: instance.Placement?.AvailabilityZone,
    imageId: instance.ImageId,
    privateIp: instance.PrivateIpAddress,
    accountId: '123456789012',
    architecture: 'x86_64',
    pendingTime: instance.LaunchTime?.toISOString(),
  });
}

/** CPU units and MiB an instance type gives ECS (2 vCPU large, 4 vCPU xlarge). */
function resourcesFor(instanceType: string | undefined): { cpu: number; memory: number } {
  const xlarge = instanceType?.endsWith('.xlarge') ?? false;
  const compute = instanceType?.startsWith('c') ?? false;
  return { cpu: xlarge ? 4096 : 2048, memory: (xlarge ? 15_576 : 7_680) / (compute ? 2 : 1) };
}

export async function ensureCluster(aws: AwsClients, region: string, instanceIds: string[], cluster: string = DEMO.cluster) {
  const described = await aws.ecs.send(new DescribeClustersCommand({ clusters: [cluster] }));
  let clusterArn = described.clusters?.find((c) => c.status === 'ACTIVE')?.clusterArn;
  if (!clusterArn) {
    const created = await aws.ecs.send(
      new CreateClusterCommand({ clusterName: cluster, tags: [{ key: 'fleetops:demo', value: 'true' }] }),
    );
    clusterArn = must(created.cluster?.clusterArn, 'cluster ARN');
  }

  const registered = new Map<string, string>();
  const listed = await aws.ecs.send(new ListContainerInstancesCommand({ cluster }));
  if (listed.containerInstanceArns?.length) {
    const ci = await aws.ecs.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: listed.containerInstanceArns }));
    for (const c of ci.containerInstances ?? []) if (c.ec2InstanceId && c.containerInstanceArn) registered.set(c.ec2InstanceId, c.containerInstanceArn);
  }
  const missing = instanceIds.filter((id) => !registered.has(id));
  if (missing.length > 0) {
    for (const instance of await describeInstances(aws, missing)) {
      const { cpu, memory } = resourcesFor(instance.InstanceType);
      const res = await aws.ecs.send(
        new RegisterContainerInstanceCommand({
          cluster,
          instanceIdentityDocument: identityDocument(instance, region),
          totalResources: [
            { name: 'CPU', type: 'INTEGER', integerValue: cpu },
            { name: 'MEMORY', type: 'INTEGER', integerValue: memory },
          ],
        }),
      );
      registered.set(must(instance.InstanceId, 'instance id'), must(res.containerInstance?.containerInstanceArn, 'container instance ARN'));
    }
  }
  return { clusterArn, containerInstances: registered };
}
