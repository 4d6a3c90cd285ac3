import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeContainerInstancesCommand, ListContainerInstancesCommand } from '@aws-sdk/client-ecs';
import type { AwsClients } from '../aws/clients';
import { awsCall } from '../aws/errors';

/**
 * Where an awsvpc task may run again when its instance is reclaimed. ECS places an awsvpc task on the
 * EC2 launch type only on a container instance in an Availability Zone of one of the subnets it is
 * given ("Amazon ECS task networking options for EC2", https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-networking-awsvpc.html:
 * the task's ENI is created in one of the subnets, on an instance in that subnet's zone), and
 * DescribeTasks keeps only the one subnet the task got, not the list RunTask was given. Rerun with
 * that one subnet, the task could only go back to the zone being reclaimed. So the rerun gets the
 * subnets the cluster's other ACTIVE container instances sit in, in the task's VPC and outside the
 * dying instance's zone; with none there (a one-zone cluster), the task's own subnet.
 */

/** awsvpcConfiguration takes at most 16 subnets. */
const MAX_SUBNETS = 16;

export interface InstanceSubnet {
  subnetId: string;
  vpcId: string;
  zone: string;
}

/** The subnets of the cluster's ACTIVE container instances other than `instanceId`. */
export async function clusterInstanceSubnets(aws: AwsClients, cluster: string, instanceId: string): Promise<InstanceSubnet[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await awsCall('ecs:ListContainerInstances', () => aws.ecs.send(new ListContainerInstancesCommand({ cluster, status: 'ACTIVE', nextToken })));
    arns.push(...(page.containerInstanceArns ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  const ids: string[] = [];
  for (let i = 0; i < arns.length; i += 100) {
    const out = await awsCall('ecs:DescribeContainerInstances', () => aws.ecs.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: arns.slice(i, i + 100) })));
    ids.push(...(out.containerInstances ?? []).map((c) => c.ec2InstanceId ?? '').filter((id) => id && id !== instanceId));
  }
  const subnets: InstanceSubnet[] = [];
  for (let i = 0; i < ids.length; i += 100) {
    const out = await awsCall('ec2:DescribeInstances', () => aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: ids.slice(i, i + 100) })));
    for (const inst of (out.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
      if (inst.SubnetId && inst.VpcId && inst.Placement?.AvailabilityZone) subnets.push({ subnetId: inst.SubnetId, vpcId: inst.VpcId, zone: inst.Placement.AvailabilityZone });
    }
  }
  return subnets;
}

/** The subnets to rerun a task in: the cluster's others in its VPC outside `reclaimedZone`, else its own. */
export function rerunSubnets(own: string, vpcId: string | undefined, reclaimedZone: string | undefined, elsewhere: InstanceSubnet[]): string[] {
  const picked = [...new Set(elsewhere.filter((s) => s.vpcId === vpcId && s.zone !== reclaimedZone).map((s) => s.subnetId))];
  return picked.length > 0 && vpcId && reclaimedZone ? picked.slice(0, MAX_SUBNETS) : [own];
}
