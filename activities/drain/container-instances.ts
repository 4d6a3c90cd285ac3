import { DescribeContainerInstancesCommand, ListContainerInstancesCommand, type ContainerInstance } from '@aws-sdk/client-ecs';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../common/failures';
import type { AwsClients } from '../aws/clients';
import { awsCall } from '../aws/errors';

/** A container instance as the drains read it, and the sweep of a whole cluster that every resolve shares. */

export interface ContainerInstanceState {
  containerInstanceArn: string;
  ec2InstanceId: string;
  status: string;
  running: number;
  pending: number;
  instanceType?: string;
  availabilityZone?: string;
  /** When it registered with the cluster (epoch ms). */
  registeredAtMs?: number;
}

export const notFound = (what: string) => ApplicationFailure.nonRetryable(`${what} not found`, FailureType.AwsNotFound);

const withZone = (zone: string | undefined) => (zone ? { availabilityZone: zone } : {});

export function toState(ci: ContainerInstance): ContainerInstanceState {
  return {
    containerInstanceArn: ci.containerInstanceArn ?? '',
    ec2InstanceId: ci.ec2InstanceId ?? '',
    status: ci.status ?? 'UNKNOWN',
    running: ci.runningTasksCount ?? 0,
    pending: ci.pendingTasksCount ?? 0,
    instanceType: ci.attributes?.find((a) => a.name === 'ecs.instance-type')?.value,
    ...withZone(ci.attributes?.find((a) => a.name === 'ecs.availability-zone')?.value),
    ...(ci.registeredAt ? { registeredAtMs: ci.registeredAt.getTime() } : {}),
  };
}

/** Every container instance of `cluster` by EC2 instance id: ListContainerInstances, then DescribeContainerInstances 100 a call. */
export async function sweepCluster(aws: AwsClients, cluster: string): Promise<Map<string, ContainerInstanceState>> {
  // Each page of 100 is described as soon as it is listed: every resolve of a storm waits for this
  // sweep, and describing 1,000 instances one page after another took seconds against the emulator.
  const described: Promise<ContainerInstanceState[]>[] = [];
  let nextToken: string | undefined;
  do {
    const page = await awsCall('ecs:ListContainerInstances', () => aws.ecs.send(new ListContainerInstancesCommand({ cluster, maxResults: 100, nextToken })));
    const batch = page.containerInstanceArns ?? [];
    if (batch.length > 0) {
      const states = awsCall('ecs:DescribeContainerInstances', () =>
        aws.ecs.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: batch })),
      ).then((out) => (out.containerInstances ?? []).map(toState));
      // Awaited below; this only keeps a failure from being unhandled if a later List page throws first.
      states.catch(() => undefined);
      described.push(states);
    }
    nextToken = page.nextToken;
  } while (nextToken);
  const byInstance = new Map<string, ContainerInstanceState>();
  for (const states of await Promise.all(described)) {
    for (const s of states) if (s.ec2InstanceId) byInstance.set(s.ec2InstanceId, s);
  }
  return byInstance;
}
