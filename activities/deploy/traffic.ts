import { DescribeRulesCommand, ModifyRuleCommand, type Rule } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../common/failures';
import { mutatingAwsCall } from '../aws/dry-run';
import { awsCall } from '../aws/errors';
import type { ActivityDeps } from '../deps';
import type { TrafficWeightInput, TrafficWeightResult } from './types';

/** Weights of the two target groups in a rule's forward action (0 for a group the rule does not name). */
export function forwardWeights(rule: Rule | undefined, stableArn: string, canaryArn: string): { stable: number; canary: number } {
  const forward = rule?.Actions?.find((a) => a.Type === 'forward');
  const groups = forward?.ForwardConfig?.TargetGroups ?? [];
  if (groups.length === 0 && forward?.TargetGroupArn) {
    return { stable: forward.TargetGroupArn === stableArn ? 100 : 0, canary: forward.TargetGroupArn === canaryArn ? 100 : 0 };
  }
  const weightOf = (arn: string) => groups.find((g) => g.TargetGroupArn === arn)?.Weight ?? 0;
  return { stable: weightOf(stableArn), canary: weightOf(canaryArn) };
}

export function createTrafficActivities(deps: ActivityDeps) {
  return {
    /**
     * Sets the weighted forward action of the configured listener rule and reads it back, so the
     * weight the deploy reports is the one the load balancer has, not the one it asked for.
     */
    async setTrafficWeight(input: TrafficWeightInput): Promise<TrafficWeightResult> {
      const { ruleArn, stableTargetGroupArn, canaryTargetGroupArn } = input.listenerRule;
      const canary = Math.min(100, Math.max(0, Math.round(input.canaryWeight)));
      const stable = 100 - canary;
      const m = await mutatingAwsCall(input.dryRun, 'elasticloadbalancing:ModifyRule', { ruleArn, stableWeight: stable, canaryWeight: canary }, () =>
        deps.aws.elbv2.send(
          new ModifyRuleCommand({
            RuleArn: ruleArn,
            Actions: [
              {
                Type: 'forward',
                ForwardConfig: {
                  TargetGroups: [
                    { TargetGroupArn: stableTargetGroupArn, Weight: stable },
                    { TargetGroupArn: canaryTargetGroupArn, Weight: canary },
                  ],
                },
              },
            ],
          }),
        ),
      );
      if (m.dryRun) return { stableWeight: stable, canaryWeight: canary, dryRunCalls: [m.call] };
      const out = await awsCall('elasticloadbalancing:DescribeRules', () => deps.aws.elbv2.send(new DescribeRulesCommand({ RuleArns: [ruleArn] })));
      const read = forwardWeights(out.Rules?.[0], stableTargetGroupArn, canaryTargetGroupArn);
      if (read.stable !== stable || read.canary !== canary) {
        throw ApplicationFailure.retryable(
          `listener rule ${ruleArn} reads back stable ${read.stable} / canary ${read.canary}, asked ${stable} / ${canary}`,
          FailureType.AwsUnavailable,
        );
      }
      return { stableWeight: read.stable, canaryWeight: read.canary, dryRunCalls: [] };
    },
  };
}
