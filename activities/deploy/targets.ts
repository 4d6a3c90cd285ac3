import { DescribeContainerInstancesCommand, type Task } from '@aws-sdk/client-ecs';
import { DescribeTargetHealthCommand, type TargetDescription } from '@aws-sdk/client-elastic-load-balancing-v2';
import { awsCall } from '../aws/errors';
import { clientsFor, type ActivityDeps } from '../deps';
import { describeService } from './services';
import { serviceTasks, stoppedOnTheirOwn } from './tasks';
import type { CanaryTargetsInput, ServiceTargets } from './types';

/**
 * Where a service's tasks stand in its target groups: ECS registers each running task (instance and
 * host port, or the task's IP in awsvpc mode) in every target group of the service, and the load
 * balancer routes to a target only once it is healthy. The canary gets traffic only after this says
 * its targets are healthy in every one of its groups.
 */

function targetOf(task: Task, lb: { containerName?: string; containerPort?: number }, instanceIds: Map<string, string>): TargetDescription | undefined {
  const container = task.containers?.find((c) => c.name === lb.containerName);
  const ip = task.attachments?.flatMap((a) => a.details ?? []).find((d) => d.name === 'privateIPv4Address')?.value;
  if (ip) return { Id: ip, Port: lb.containerPort };
  const binding = container?.networkBindings?.find((b) => b.containerPort === lb.containerPort);
  const instance = instanceIds.get(task.containerInstanceArn ?? '');
  return instance && binding?.hostPort ? { Id: instance, Port: binding.hostPort } : undefined;
}

export function createTargetActivities(deps: ActivityDeps) {
  return {
    /**
     * The canary service's tasks in each of its target groups, with the state ELB reports for each,
     * and its tasks that stopped on their own since `sinceMs` (a failed health check is one).
     */
    async describeServiceTargets(input: CanaryTargetsInput): Promise<ServiceTargets> {
      const svc = await describeService(deps, input.cluster, input.service);
      const running = (await serviceTasks(deps, input.cluster, input.service, 'RUNNING')).filter((t) => t.lastStatus === 'RUNNING');
      const arns = [...new Set(running.map((t) => t.containerInstanceArn ?? '').filter(Boolean))];
      const instanceIds = new Map<string, string>();
      for (let i = 0; i < arns.length; i += 100) {
        const out = await awsCall('ecs:DescribeContainerInstances', () =>
          clientsFor(deps, input.cluster).ecs.send(new DescribeContainerInstancesCommand({ cluster: input.cluster, containerInstances: arns.slice(i, i + 100) })),
        );
        for (const ci of out.containerInstances ?? []) instanceIds.set(ci.containerInstanceArn ?? '', ci.ec2InstanceId ?? '');
      }
      const groups: ServiceTargets['groups'] = [];
      for (const lb of (svc?.loadBalancers ?? []).filter((l) => l.targetGroupArn)) {
        const targets = running.map((t) => targetOf(t, lb, instanceIds)).filter((t): t is TargetDescription => t !== undefined);
        const health =
          targets.length === 0
            ? []
            : ((
                await awsCall('elasticloadbalancing:DescribeTargetHealth', () =>
                  clientsFor(deps, input.cluster).elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: lb.targetGroupArn, Targets: targets })),
                )
              ).TargetHealthDescriptions ?? []);
        const states = health.map((h) => ({
          target: `${h.Target?.Id}:${h.Target?.Port}`,
          state: h.TargetHealth?.State ?? 'unknown',
          ...(h.TargetHealth?.Reason ? { reason: h.TargetHealth.Reason } : {}),
        }));
        groups.push({ targetGroupArn: lb.targetGroupArn!, healthy: states.filter((s) => s.state === 'healthy').length, states });
      }
      return {
        desiredCount: svc?.desiredCount ?? 0,
        runningCount: running.length,
        groups,
        stoppedTasks: await stoppedOnTheirOwn(deps, input.cluster, input.service, input.sinceMs),
      };
    },
  };
}
