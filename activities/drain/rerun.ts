import { DescribeNetworkInterfacesCommand } from '@aws-sdk/client-ec2';
import type { NetworkConfiguration, RunTaskCommandInput, Task } from '@aws-sdk/client-ecs';
import type { AwsClients } from '../aws/clients';
import { awsCall } from '../aws/errors';
import { clusterInstanceSubnets, rerunSubnets, type InstanceSubnet } from './rerun-subnets';

/**
 * Running a standalone task again elsewhere with what it needs ("RunTask",
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html): an `awsvpc` task needs
 * its network configuration (security groups from the task's ENI, subnets outside the reclaimed
 * zone; RunTask refuses an awsvpc task without one), a task placed through a capacity provider its strategy (then no launch
 * type), and the task keeps its tags and `startedBy`. A task an orchestrator started (Step Functions,
 * EventBridge rules and Scheduler, an ECS service, AWS Batch) is its orchestrator's to retry: it is
 * stopped, never rerun by fleetops (two copies would run).
 */

const ORCHESTRATORS: readonly [RegExp, string][] = [
  [/^AWS Step Functions/i, 'Step Functions'],
  [/^events-rule\//i, 'EventBridge rule'],
  [/^(scheduler|events-scheduler|aws-scheduler)/i, 'EventBridge Scheduler'],
  [/^ecs-svc\//i, 'ECS service'],
  [/^AWS Batch/i, 'AWS Batch'],
];

/** Who started the task, when it is an orchestrator that retries it itself. */
export function orchestratorOf(task: Task): string | undefined {
  if ((task.group ?? '').startsWith('service:')) return 'ECS service';
  const by = task.startedBy ?? '';
  return ORCHESTRATORS.find(([re]) => re.test(by))?.[1];
}

/**
 * The task's awsvpc network configuration, read back from its ENI (security groups; subnets as
 * rerun-subnets.ts chooses them, away from the reclaimed zone); undefined for other network modes.
 */
async function networkOf(aws: AwsClients, task: Task, elsewhere: () => Promise<InstanceSubnet[]>): Promise<NetworkConfiguration | undefined> {
  const eni = task.attachments?.find((a) => a.type === 'ElasticNetworkInterface');
  if (!eni) return undefined;
  const detail = (name: string) => eni.details?.find((d) => d.name === name)?.value;
  const subnet = detail('subnetId');
  const eniId = detail('networkInterfaceId');
  if (!subnet) return undefined;
  const out = eniId
    ? await awsCall('ec2:DescribeNetworkInterfaces', () => aws.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] }))).catch(() => undefined)
    : undefined;
  const ni = out?.NetworkInterfaces?.[0];
  const groups = (ni?.Groups ?? []).map((g) => g.GroupId ?? '').filter(Boolean);
  // The ENI sits on the dying instance, so its zone is the reclaimed one.
  const subnets = rerunSubnets(subnet, ni?.VpcId, ni?.AvailabilityZone, await elsewhere().catch(() => []));
  return { awsvpcConfiguration: { subnets, ...(groups.length ? { securityGroups: groups } : {}) } };
}

/** The RunTask parameters that run `task` again, anywhere but `instanceId`. */
export async function rerunParams(
  aws: AwsClients,
  cluster: string,
  task: Task,
  instanceId: string,
  clientToken: string,
  elsewhere: () => Promise<InstanceSubnet[]> = () => clusterInstanceSubnets(aws, cluster, instanceId),
): Promise<RunTaskCommandInput> {
  const network = await networkOf(aws, task, elsewhere);
  // Tags with the aws: prefix are AWS's own; RunTask refuses them.
  const tags = (task.tags ?? []).filter((t) => t.key && !t.key.toLowerCase().startsWith('aws:'));
  return {
    cluster,
    taskDefinition: task.taskDefinitionArn,
    group: task.group,
    count: 1,
    startedBy: task.startedBy || 'fleetops-drain',
    ...(task.overrides ? { overrides: task.overrides } : {}),
    ...(task.capacityProviderName
      ? { capacityProviderStrategy: [{ capacityProvider: task.capacityProviderName, weight: 1 }] }
      : task.launchType
        ? { launchType: task.launchType }
        : {}),
    ...(network ? { networkConfiguration: network } : {}),
    ...(tags.length ? { tags } : {}),
    ...(task.enableExecuteCommand ? { enableExecuteCommand: true } : {}),
    placementConstraints: [{ type: 'memberOf', expression: `ec2InstanceId != '${instanceId}'` }],
    // Same token on every attempt, so a retry after a lost response does not start a second copy.
    clientToken,
  };
}
