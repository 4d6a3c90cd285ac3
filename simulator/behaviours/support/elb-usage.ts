import { DescribeListenersCommand, DescribeLoadBalancersCommand, DescribeRulesCommand, type Action, type ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';

/**
 * Which load balancers use each target group, as ELB derives a group's `LoadBalancerArns`: the
 * Elastic Load Balancing API Reference, "TargetGroup"
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroup.html,
 * "LoadBalancerArns: The Amazon Resource Name (ARN) of the load balancer that routes traffic to this
 * target group"), with "Listener rules for your Application Load Balancer" for forward actions: a group is associated with a load balancer while one of its listeners forwards
 * to it, in a default action or a rule, whatever the weight. moto adds a load balancer to the list
 * when a listener or rule is created with a forward to the group, and never when ModifyRule or
 * ModifyListener adds one, nor removes one; this reads the listeners and rules as they are now.
 */

function forwardedGroups(actions: Action[] | undefined): string[] {
  return (actions ?? [])
    .filter((a) => a.Type === 'forward')
    .flatMap((a) => [...(a.TargetGroupArn ? [a.TargetGroupArn] : []), ...(a.ForwardConfig?.TargetGroups ?? []).flatMap((g) => (g.TargetGroupArn ? [g.TargetGroupArn] : []))]);
}

/** Target group ARN → the ARNs of the load balancers whose listeners forward to it (groups no listener uses are absent). */
export async function loadBalancersByGroup(elbv2: ElasticLoadBalancingV2Client): Promise<Map<string, Set<string>>> {
  const byGroup = new Map<string, Set<string>>();
  const add = (tg: string, lb: string) => byGroup.set(tg, (byGroup.get(tg) ?? new Set()).add(lb));
  let marker: string | undefined;
  do {
    const page = await elbv2.send(new DescribeLoadBalancersCommand({ Marker: marker }));
    for (const lb of page.LoadBalancers ?? []) {
      const lbArn = lb.LoadBalancerArn;
      if (!lbArn) continue;
      const listeners = (await elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lbArn }))).Listeners ?? [];
      for (const l of listeners) {
        for (const tg of forwardedGroups(l.DefaultActions)) add(tg, lbArn);
        if (!l.ListenerArn) continue;
        const rules = (await elbv2.send(new DescribeRulesCommand({ ListenerArn: l.ListenerArn }))).Rules ?? [];
        for (const r of rules) for (const tg of forwardedGroups(r.Actions)) add(tg, lbArn);
      }
    }
    marker = page.NextMarker;
  } while (marker);
  return byGroup;
}

/** A DescribeTargetGroups answer with each group's LoadBalancerArns as the listeners have them now. */
export function rewriteLoadBalancerArns(xml: string, byGroup: Map<string, Set<string>>): string {
  const without = xml.replace(/<LoadBalancerArns\s*\/>|<LoadBalancerArns>[\s\S]*?<\/LoadBalancerArns>/g, '');
  return without.replace(/<TargetGroupArn>([^<]+)<\/TargetGroupArn>/g, (whole, arn: string) => {
    const lbs = [...(byGroup.get(arn) ?? [])];
    return lbs.length === 0 ? whole : `${whole}<LoadBalancerArns>${lbs.map((lb) => `<member>${lb}</member>`).join('')}</LoadBalancerArns>`;
  });
}
