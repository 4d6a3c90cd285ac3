import { DescribeRulesCommand, DescribeTargetGroupsCommand, ModifyRuleCommand, type Action, type Rule } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ApplicationFailure } from '@temporalio/common';
import type { ListenerRuleConfig } from '../../config/schema';
import { FailureType } from '../../common/failures';
import { mutatingAwsCall } from '../aws/dry-run';
import { awsCall } from '../aws/errors';
import { clientsFor, type ActivityDeps } from '../deps';
import type { ListenerRuleSnapshot, RestoreRuleInput, TrafficWeightInput, TrafficWeightResult } from './types';

/**
 * The weighted listener rule. ModifyRule replaces a rule's whole action list, so every write sends
 * the rule's actions as they are with only the forward action's two weights changed: an
 * authentication action in front of the forward (authenticate-oidc/cognito), the actions' order and
 * the forward's stickiness stay as they were. AWS never returns an OIDC client secret, so an OIDC
 * action is written back with `UseExistingClientSecret` (the rule keeps its secret; none passes
 * through fleetops).
 */

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

function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, FailureType.InvalidRequest);
}

function forwardGroups(a: Action): string[] {
  const groups = (a.ForwardConfig?.TargetGroups ?? []).map((g) => g.TargetGroupArn ?? '');
  return groups.length > 0 ? groups : a.TargetGroupArn ? [a.TargetGroupArn] : [];
}

/** Throws unless the rule forwards to the plan's stable target group (and to no group but stable and canary). */
export function checkRuleForPlan(actions: Action[], rule: ListenerRuleConfig): void {
  const forward = actions.find((a) => a.Type === 'forward');
  if (!forward) throw invalid(`listener rule ${rule.ruleArn} has no forward action (actions: ${actions.map((a) => a.Type).join(', ')})`);
  const groups = forwardGroups(forward);
  if (!groups.includes(rule.stableTargetGroupArn)) {
    throw invalid(`listener rule ${rule.ruleArn} forwards to ${groups.join(', ')}, not to the plan's stable target group ${rule.stableTargetGroupArn}`);
  }
  const others = groups.filter((g) => g !== rule.stableTargetGroupArn && g !== rule.canaryTargetGroupArn);
  if (others.length > 0) throw invalid(`listener rule ${rule.ruleArn} also forwards to ${others.join(', ')}; only the plan's stable and canary target groups can be weighted`);
}

/** The rule's actions with the forward's stable and canary weights set; everything else as read. */
export function withWeights(actions: Action[], rule: ListenerRuleConfig, canaryWeight: number): Action[] {
  return actions.map((a) => {
    if (a.Type !== 'forward') return a;
    const stickiness = a.ForwardConfig?.TargetGroupStickinessConfig;
    return {
      Type: 'forward',
      ...(a.Order !== undefined ? { Order: a.Order } : {}),
      ForwardConfig: {
        TargetGroups: [
          { TargetGroupArn: rule.stableTargetGroupArn, Weight: 100 - canaryWeight },
          { TargetGroupArn: rule.canaryTargetGroupArn, Weight: canaryWeight },
        ],
        ...(stickiness ? { TargetGroupStickinessConfig: stickiness } : {}),
      },
    };
  });
}

/** What ModifyRule takes for actions read from DescribeRules. */
export function writable(actions: Action[]): Action[] {
  return actions.map((a) => {
    if (a.Type === 'authenticate-oidc' && a.AuthenticateOidcConfig) {
      const { ClientSecret: _secret, ...config } = a.AuthenticateOidcConfig;
      return { ...a, AuthenticateOidcConfig: { ...config, UseExistingClientSecret: true } };
    }
    // A TargetGroupArn beside a ForwardConfig of several groups is refused; one group is the same either way.
    if (a.Type === 'forward' && a.ForwardConfig?.TargetGroups && a.ForwardConfig.TargetGroups.length > 1) {
      const { TargetGroupArn: _single, ...rest } = a;
      return rest;
    }
    return a;
  });
}

/** The actions as compared after a write: by Order, without the write-only and derived fields. */
function comparable(actions: Action[]): string {
  const norm = [...actions]
    .sort((x, y) => (x.Order ?? 0) - (y.Order ?? 0))
    .map((a) => {
      const copy: Action = JSON.parse(JSON.stringify(a)) as Action;
      if (copy.AuthenticateOidcConfig) {
        delete copy.AuthenticateOidcConfig.ClientSecret;
        delete copy.AuthenticateOidcConfig.UseExistingClientSecret;
      }
      if (copy.Type === 'forward' && copy.ForwardConfig?.TargetGroups?.length) delete copy.TargetGroupArn;
      return copy;
    });
  return JSON.stringify(norm);
}

export function createTrafficActivities(deps: ActivityDeps) {
  // The rule is in the deploy's cluster's account and region (the worker's own when no cluster is given).
  const elbv2 = (cluster: string | undefined) => (cluster ? clientsFor(deps, cluster) : deps.aws).elbv2;

  async function readActions(cluster: string | undefined, ruleArn: string): Promise<Action[]> {
    const out = await awsCall('elasticloadbalancing:DescribeRules', () => elbv2(cluster).send(new DescribeRulesCommand({ RuleArns: [ruleArn] })));
    const found = out.Rules?.[0];
    if (!found) throw ApplicationFailure.nonRetryable(`listener rule ${ruleArn} not found`, FailureType.AwsNotFound);
    return found.Actions ?? [];
  }

  /**
   * ECS creates a service in a target group only when a load balancer uses the group (CreateService:
   * "The target group … does not have an associated load balancer"), and a group no listener uses is
   * never health-checked (its targets are `unused`). A canary group that only the deploy's first
   * shift would put into the rule must be refused before anything changes, not by CreateService.
   */
  async function checkCanaryGroupServed(cluster: string | undefined, rule: ListenerRuleConfig, actions: Action[]): Promise<void> {
    const out = await awsCall('elasticloadbalancing:DescribeTargetGroups', () =>
      elbv2(cluster).send(new DescribeTargetGroupsCommand({ TargetGroupArns: [rule.canaryTargetGroupArn] })),
    );
    const group = out.TargetGroups?.[0];
    if (!group) throw ApplicationFailure.nonRetryable(`canary target group ${rule.canaryTargetGroupArn} not found`, FailureType.AwsNotFound);
    if ((group.LoadBalancerArns ?? []).length > 0) return;
    const forward = actions.find((a) => a.Type === 'forward');
    throw invalid(
      `canary target group ${rule.canaryTargetGroupArn} has no load balancer (no listener forwards to it; listener rule ${rule.ruleArn} forwards only to ` +
        `${forward ? forwardGroups(forward).join(', ') : 'nothing'}): ECS cannot create the canary service in it. Add it to the rule's forward action at weight 0, then deploy again`,
    );
  }

  /** Writes `actions` and reads the rule back; the rule must read as written. */
  async function write(cluster: string | undefined, ruleArn: string, actions: Action[], note: Record<string, unknown>, dryRun: boolean | undefined) {
    const m = await mutatingAwsCall(dryRun, 'elasticloadbalancing:ModifyRule', { ruleArn, ...note }, () =>
      elbv2(cluster).send(new ModifyRuleCommand({ RuleArn: ruleArn, Actions: writable(actions) })),
    );
    if (m.dryRun) return { dryRunCalls: [m.call] };
    const read = await readActions(cluster, ruleArn);
    if (comparable(read) !== comparable(actions)) {
      throw ApplicationFailure.retryable(`listener rule ${ruleArn} does not read back as written: ${comparable(read)}`, FailureType.AwsUnavailable);
    }
    return { dryRunCalls: [] };
  }

  return {
    /**
     * The rule as it is before the deploy changes it (what rollback and promotion restore), checked
     * against the plan, and the canary target group behind a load balancer. Read-only, so it runs in
     * a dry run too.
     */
    async readListenerRule(input: { cluster?: string; listenerRule: ListenerRuleConfig }): Promise<ListenerRuleSnapshot> {
      const actions = await readActions(input.cluster, input.listenerRule.ruleArn);
      checkRuleForPlan(actions, input.listenerRule);
      await checkCanaryGroupServed(input.cluster, input.listenerRule, actions);
      return { ruleArn: input.listenerRule.ruleArn, actions };
    },

    /**
     * Sets the stable/canary weights of the rule's forward action, leaving every other part of the
     * rule as it is now, and reads the rule back: the weight the deploy reports is the one the load
     * balancer has.
     */
    async setTrafficWeight(input: TrafficWeightInput): Promise<TrafficWeightResult> {
      const rule = input.listenerRule;
      const canary = Math.min(100, Math.max(0, Math.round(input.canaryWeight)));
      const stable = 100 - canary;
      const current = input.dryRun ? undefined : await readActions(input.cluster, rule.ruleArn);
      if (current) checkRuleForPlan(current, rule);
      const w = await write(input.cluster, rule.ruleArn, withWeights(current ?? [], rule, canary), { stableWeight: stable, canaryWeight: canary }, input.dryRun);
      return { stableWeight: stable, canaryWeight: canary, dryRunCalls: w.dryRunCalls };
    },

    /** Puts the rule's actions back exactly as `readListenerRule` found them (promotion's cleanup and rollback's undo). */
    async restoreListenerRule(input: RestoreRuleInput): Promise<TrafficWeightResult> {
      const { listenerRule: rule, snapshot } = input;
      const w = await write(input.cluster, rule.ruleArn, snapshot.actions, { restore: snapshot.actions.map((a) => a.Type).join(',') }, input.dryRun);
      const read = forwardWeights({ Actions: snapshot.actions }, rule.stableTargetGroupArn, rule.canaryTargetGroupArn);
      return { stableWeight: read.stable, canaryWeight: read.canary, dryRunCalls: w.dryRunCalls };
    },
  };
}
