import { DescribeTargetGroupsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Behaviour, BehaviourContext, BehaviourFactory, SimRequest } from '../behaviour';
import { awsErrorResponse, type SimResponse } from '../protocol';
import { loadBalancersByGroup, rewriteLoadBalancerArns } from './support/elb-usage';
import { HEALTH_CHECK_DISABLED, NOT_IN_USE, type TargetState } from './support/target-health';

/**
 * Target groups that no load balancer uses, and groups with health checks off, as Elastic Load
 * Balancing and ECS document them; moto reports every registered target `healthy` and lets ECS use
 * any group:
 *  - "Health checks for Application Load Balancer target groups"
 *    (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html)
 *    and API_TargetHealth (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetHealth.html):
 *    the load balancer health-checks only targets of groups one of its listeners forwards to; a
 *    target of a group no listener uses is `unused` (Target.NotInUse), and a target of a group whose
 *    health checks are disabled is `unavailable` (Target.HealthCheckDisabled), never `healthy`.
 *    A `draining` target stays draining (elb-target-draining runs before this module);
 *  - API_TargetGroup: `LoadBalancerArns` are the load balancers whose listeners forward to the group
 *    now (support/elb-usage.ts); moto keeps the ones of listeners and rules as created;
 *  - API_CreateService (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html)
 *    and "Use load balancing to distribute Amazon ECS service traffic": a service's target group must
 *    be behind a load balancer; ECS refuses one that is not with InvalidParameterException "The target
 *    group with targetGroupArn … does not have an associated load balancer."
 */

/** States a health check produces: what a group that is not checked never reports. */
const CHECKED = new Set(['healthy', 'initial', 'unhealthy']);

function memberXml(state: TargetState): string {
  return `<TargetHealth><State>${state.state}</State><Reason>${state.reason}</Reason><Description>${state.description}</Description></TargetHealth>`;
}

/** Every checked target's health in a DescribeTargetHealth answer replaced by `state`. */
export function uncheckedTargetHealth(xml: string, state: TargetState): string {
  return xml.replace(/<TargetHealth>([\s\S]*?)<\/TargetHealth>/g, (whole, inner: string) => {
    const s = /<State>([^<]*)<\/State>/.exec(inner)?.[1] ?? '';
    return CHECKED.has(s) ? memberXml(state) : whole;
  });
}

const withBody = (res: SimResponse, xml: string): SimResponse => ({ ...res, headers: { ...res.headers, 'content-length': String(Buffer.byteLength(xml)) }, body: Buffer.from(xml) });

const regionOf = (req: SimRequest) => (req.region === 'unknown' ? undefined : req.region);

export const elbTargetHealth: BehaviourFactory = () => {
  async function describeTargetHealth(req: SimRequest, res: SimResponse, ctx: BehaviourContext): Promise<SimResponse | void> {
    const tg = typeof req.params.TargetGroupArn === 'string' ? req.params.TargetGroupArn : undefined;
    if (!tg) return;
    const elbv2 = ctx.aws(regionOf(req)).elbv2;
    const inUse = ((await loadBalancersByGroup(elbv2)).get(tg)?.size ?? 0) > 0;
    let state: TargetState | undefined = inUse ? undefined : NOT_IN_USE;
    if (!state) {
      const g = (await elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [tg] })).catch(() => undefined))?.TargetGroups?.[0];
      if (g?.HealthCheckEnabled === false) state = HEALTH_CHECK_DISABLED;
    }
    if (!state) return;
    return withBody(res, uncheckedTargetHealth(res.body.toString('utf8'), state));
  }

  async function createService(req: SimRequest, ctx: BehaviourContext): Promise<SimResponse | undefined> {
    const lbs = Array.isArray(req.params.loadBalancers) ? (req.params.loadBalancers as Record<string, unknown>[]) : [];
    const groups = lbs.flatMap((lb) => (typeof lb.targetGroupArn === 'string' ? [lb.targetGroupArn] : []));
    if (groups.length === 0) return undefined;
    const byGroup = await loadBalancersByGroup(ctx.aws(regionOf(req)).elbv2);
    const alone = groups.find((g) => (byGroup.get(g)?.size ?? 0) === 0);
    if (!alone) return undefined;
    return awsErrorResponse(req, {
      status: 400,
      code: 'InvalidParameterException',
      message: `The target group with targetGroupArn ${alone} does not have an associated load balancer.`,
    });
  }

  const behaviour: Behaviour = {
    name: 'elb-target-health',

    intercept(req, ctx) {
      if (req.service === 'ecs' && req.action === 'CreateService') return createService(req, ctx);
      return undefined;
    },

    async afterResponse(req, res, ctx) {
      if (req.service !== 'elasticloadbalancing' || res.status !== 200) return;
      if (req.action === 'DescribeTargetHealth') return describeTargetHealth(req, res, ctx);
      if (req.action === 'DescribeTargetGroups') {
        const byGroup = await loadBalancersByGroup(ctx.aws(regionOf(req)).elbv2);
        return withBody(res, rewriteLoadBalancerArns(res.body.toString('utf8'), byGroup));
      }
      return;
    },

    reset() {},
  };
  return behaviour;
};
