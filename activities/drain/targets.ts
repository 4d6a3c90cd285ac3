import { DescribeTargetGroupAttributesCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { DryRunCall } from '../../contracts/controls';
import { mutatingAwsCall } from '../aws/dry-run';
import { awsCall } from '../aws/errors';
import { clientsFor } from '../deps';
import { collect, type DrainContext } from './context';
import type { DeregisterTargetsInput, DeregisterTargetsResult } from './types';

/** Taking a draining instance out of its load balancers' target groups. */

export function createTargetActivities({ deps, callsFor }: DrainContext) {
  return {
    /**
     * Takes the instance's targets out of every target group, ahead of ECS. The group's settings are
     * never changed: the deregistration delay belongs to the service (its in-flight requests), and a
     * setting changed for one drain would stay changed for the group. It is read and reported only.
     */
    async deregisterInstanceTargets(input: DeregisterTargetsInput): Promise<DeregisterTargetsResult> {
      const dryRunCalls: DryRunCall[] = [];
      const calls = callsFor(input.cluster);
      const aws = input.cluster ? clientsFor(deps, input.cluster) : deps.aws;
      const groups = await calls.targetsOf(input.instanceId);
      const result: DeregisterTargetsResult = { targetGroups: [], dryRunCalls };
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
