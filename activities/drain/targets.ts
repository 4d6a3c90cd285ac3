import { DescribeTargetGroupAttributesCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { DryRunCall } from '../../contracts/controls';
import { mutatingAwsCall } from '../aws/dry-run';
import { awsCall } from '../aws/errors';
import { clientsFor } from '../deps';
import { collect, type DrainContext } from './context';
import type { DeregisterTargetsInput, DeregisterTargetsResult } from './types';

/** Taking a draining instance out of its load balancers' target groups. */

export function createTargetActivities({ deps, callsFor, resolveTarget }: DrainContext) {
  return {
    /**
     * Takes the instance's targets, and its awsvpc tasks' IP targets, out of their target groups, ahead of ECS. The group's settings are
     * never changed: the deregistration delay belongs to the service (its in-flight requests), and a
     * setting changed for one drain would stay changed for the group. It is read and reported only.
     */
    async deregisterInstanceTargets(input: DeregisterTargetsInput): Promise<DeregisterTargetsResult> {
      const dryRunCalls: DryRunCall[] = [];
      const result: DeregisterTargetsResult = { targetGroups: [], dryRunCalls };
      // Its tasks say which target groups to look in (instance and IP targets); no container instance, no tasks.
      const where = input.cluster
        ? await callsFor(input.cluster).findContainerInstance([input.cluster], input.instanceId, 0)
        : await resolveTarget(input.instanceId, {}, 0).then((r) => (r.found ? { cluster: r.cluster, state: { containerInstanceArn: r.containerInstanceArn } } : undefined));
      if (!where) return result;
      const calls = callsFor(where.cluster);
      const aws = clientsFor(deps, where.cluster);
      const groups = await calls.targetsOf(where.cluster, input.instanceId, where.state.containerInstanceArn);
      await Promise.all(
        groups.map(async (g) => {
          const attrs = await awsCall('elasticloadbalancing:DescribeTargetGroupAttributes', () =>
            aws.elbv2.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: g.targetGroupArn })),
          );
          const delay = Number(attrs.Attributes?.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value ?? 300);
          for (const target of g.targets) {
            collect(
              dryRunCalls,
              await mutatingAwsCall(input.dryRun, 'elasticloadbalancing:DeregisterTargets', { TargetGroupArn: g.targetGroupArn, Targets: [target] }, () =>
                calls.deregister(g.targetGroupArn, target),
              ),
            );
          }
          result.targetGroups.push({ targetGroupArn: g.targetGroupArn, targets: g.targets.length, deregistrationDelaySeconds: delay });
        }),
      );
      return result;
    },
  };
}
