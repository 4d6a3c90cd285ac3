import { DescribeTasksCommand, ListTasksCommand, type Task } from '@aws-sdk/client-ecs';
import type { StoppedCanaryTask } from '../../common/deploy';
import { awsCall } from '../aws/errors';
import { clientsFor, type ActivityDeps } from '../deps';

/** A service's tasks as ECS lists and describes them (the analysis and the canary's readiness read them). */

/** Stop codes that are the task's own doing; scale-in, spot interruptions and operators are not. */
const FAILURE_STOP_CODES = new Set(['TaskFailedToStart', 'EssentialContainerExited']);

export function isUnexpectedStop(stopCode: string | undefined, stoppedReason: string | undefined): boolean {
  if (stopCode && FAILURE_STOP_CODES.has(stopCode)) return true;
  // The scheduler stops tasks that fail load balancer or container health checks with a generic code.
  return /health ?check/i.test(stoppedReason ?? '');
}

/** The service's tasks with `desiredStatus`, described (100 a call). */
export async function serviceTasks(deps: ActivityDeps, cluster: string, service: string, desiredStatus: 'RUNNING' | 'STOPPED'): Promise<Task[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const out = await awsCall('ecs:ListTasks', () => clientsFor(deps, cluster).ecs.send(new ListTasksCommand({ cluster, serviceName: service, desiredStatus, nextToken })));
    arns.push(...(out.taskArns ?? []));
    nextToken = out.nextToken;
  } while (nextToken);
  const tasks: Task[] = [];
  for (let i = 0; i < arns.length; i += 100) {
    const out = await awsCall('ecs:DescribeTasks', () => clientsFor(deps, cluster).ecs.send(new DescribeTasksCommand({ cluster, tasks: arns.slice(i, i + 100) })));
    tasks.push(...(out.tasks ?? []));
  }
  return tasks;
}

/** Tasks of the service that stopped on their own (exit, failed start, failed health check) at or after `sinceMs`. */
export async function stoppedOnTheirOwn(deps: ActivityDeps, cluster: string, service: string, sinceMs: number): Promise<StoppedCanaryTask[]> {
  return (await serviceTasks(deps, cluster, service, 'STOPPED'))
    .filter((t) => !(t.stoppedAt && t.stoppedAt.getTime() < sinceMs) && isUnexpectedStop(t.stopCode, t.stoppedReason))
    .map((t) => ({
      taskArn: t.taskArn ?? '',
      taskDefinition: t.taskDefinitionArn ?? '',
      stopCode: t.stopCode,
      stoppedReason: t.stoppedReason ?? '',
      stoppedAt: t.stoppedAt?.toISOString(),
    }));
}
