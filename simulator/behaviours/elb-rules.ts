import { DescribeListenersCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Behaviour, BehaviourContext, BehaviourFactory, SimRequest } from '../behaviour';
import { awsErrorResponse, type SimResponse } from '../protocol';
import { unflattenQuery, type QueryValue } from '../query-params';

/**
 * ALB listener rule actions as Elastic Load Balancing documents them, where moto is kinder:
 *  - https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_ModifyRule.html:
 *    `Actions` replaces the rule's whole action list (moto does this too; nothing is merged).
 *  - https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_Action.html: a rule has
 *    exactly one routing action (forward, redirect, fixed-response) and it is performed last; `Order`
 *    (1-50000, unique) is required when there are several actions; an authenticate-oidc or
 *    authenticate-cognito action only on an HTTPS listener (at most one). moto accepts any order,
 *    several routing actions, and authentication on HTTP.
 *  - https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_ForwardActionConfig.html
 *    and API_TargetGroupTuple / API_TargetGroupStickinessConfig: with both `TargetGroupArn` and
 *    `ForwardConfig`, ForwardConfig names one target group, the same one; weights 0-999; stickiness
 *    `DurationSeconds` 1-604800 when enabled. moto accepts a TargetGroupArn beside several groups.
 *  - https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_AuthenticateOidcActionConfig.html:
 *    `ClientSecret` is required when creating a rule; when modifying one it may be left out only with
 *    `UseExistingClientSecret: true`, which keeps the secret the rule has. AWS never returns the
 *    secret (Describe*, Create*, Modify* answers omit it); moto echoes it. This module keeps each
 *    rule's secret itself and strips it, and `UseExistingClientSecret`, from every answer.
 * Invalid actions are answered with `ValidationError` (HTTP 400) before moto sees the call.
 *
 * Route: `GET /_sim/elb-rules` → `{ clientSecrets: { <ruleArn>: <secret> } }`, the secret each rule's
 * authenticate-oidc action has (what a test cannot read through the API, as on AWS).
 */

const ROUTING = new Set(['forward', 'redirect', 'fixed-response']);
const AUTHENTICATION = new Set(['authenticate-oidc', 'authenticate-cognito']);
const MAX_STICKINESS_SECONDS = 604_800;
const SECRET_ELEMENTS = /<(ClientSecret|UseExistingClientSecret)>[^<]*<\/\1>/g;

type Struct = { [key: string]: QueryValue };

class Invalid extends Error {}

const struct = (v: QueryValue | undefined): Struct | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? v : undefined);
const list = (v: QueryValue | undefined): QueryValue[] => (Array.isArray(v) ? v : []);
const text = (v: QueryValue | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

function integer(v: QueryValue | undefined, what: string, min: number, max: number): number | undefined {
  const s = text(v);
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isInteger(n) || n < min || n > max) throw new Invalid(`${what} must be an integer from ${min} to ${max}, got ${s}`);
  return n;
}

function checkForward(action: Struct, where: string): void {
  const arn = text(action.TargetGroupArn);
  const config = struct(action.ForwardConfig);
  const groups = list(config?.TargetGroups).map(struct);
  if (!arn && groups.length === 0) throw new Invalid(`${where}: a forward action needs TargetGroupArn or ForwardConfig.TargetGroups`);
  if (arn && config && (groups.length !== 1 || text(groups[0]?.TargetGroupArn) !== arn)) {
    throw new Invalid(`${where}: with both TargetGroupArn and ForwardConfig, ForwardConfig must name only that target group`);
  }
  groups.forEach((g, i) => integer(g?.Weight, `${where}.ForwardConfig.TargetGroups[${i}].Weight`, 0, 999));
  const stickiness = struct(config?.TargetGroupStickinessConfig);
  if (text(stickiness?.Enabled) === 'true') {
    const d = integer(stickiness?.DurationSeconds, `${where}.ForwardConfig.TargetGroupStickinessConfig.DurationSeconds`, 1, MAX_STICKINESS_SECONDS);
    if (d === undefined) throw new Invalid(`${where}: enabled target group stickiness needs DurationSeconds`);
  }
}

function checkOidc(action: Struct, where: string, creating: boolean, hasSecret: boolean): void {
  const c = struct(action.AuthenticateOidcConfig);
  if (!c) throw new Invalid(`${where}: authenticate-oidc needs AuthenticateOidcConfig`);
  for (const f of ['Issuer', 'AuthorizationEndpoint', 'TokenEndpoint', 'UserInfoEndpoint', 'ClientId']) {
    if (!text(c[f])) throw new Invalid(`${where}.AuthenticateOidcConfig.${f} is required`);
  }
  const useExisting = text(c.UseExistingClientSecret) === 'true';
  if (text(c.ClientSecret)) return;
  if (creating || !useExisting) throw new Invalid(`${where}.AuthenticateOidcConfig.ClientSecret is required${creating ? '' : ' unless UseExistingClientSecret is true'}`);
  if (!hasSecret) throw new Invalid(`${where}: UseExistingClientSecret is true but the rule has no client secret`);
}

/** The documented constraints on one action list; throws Invalid with the first one broken. */
export function checkActions(actions: QueryValue[], o: { listenerProtocol?: string; creating: boolean; hasSecret: boolean }): void {
  const items = actions.map((a, i) => ({ a: struct(a) ?? {}, i }));
  if (items.length === 0) throw new Invalid('a rule needs at least one action');
  const orders = items.map(({ a, i }) => integer(a.Order, `Actions[${i}].Order`, 1, 50_000));
  if (items.length > 1 && orders.some((o) => o === undefined)) throw new Invalid('Order is required for every action of a rule with several actions');
  if (new Set(orders).size !== orders.length) throw new Invalid('action Order values must be unique');
  const sorted = [...items].sort((x, y) => (orders[x.i] ?? 0) - (orders[y.i] ?? 0));
  const routing = sorted.filter(({ a }) => ROUTING.has(text(a.Type) ?? ''));
  if (routing.length !== 1) throw new Invalid(`a rule must have exactly one forward, redirect or fixed-response action; it has ${routing.length}`);
  if (sorted[sorted.length - 1] !== routing[0]) throw new Invalid(`the ${text(routing[0]!.a.Type)} action must be the last action performed`);
  const auth = items.filter(({ a }) => AUTHENTICATION.has(text(a.Type) ?? ''));
  if (auth.length > 1) throw new Invalid('a rule can have at most one authentication action');
  if (auth.length > 0 && o.listenerProtocol !== 'HTTPS') {
    throw new Invalid(`${text(auth[0]!.a.Type)} actions are supported only on HTTPS listeners (this listener is ${o.listenerProtocol ?? 'unknown'})`);
  }
  for (const { a, i } of items) {
    const where = `Actions[${i}]`;
    const type = text(a.Type);
    if (type === 'forward') checkForward(a, where);
    if (type === 'authenticate-oidc') checkOidc(a, where, o.creating, o.hasSecret);
  }
}

function oidcSecret(actions: QueryValue[]): { secret?: string; useExisting: boolean } | undefined {
  const oidc = actions.map(struct).find((a) => text(a?.Type) === 'authenticate-oidc');
  const c = struct(oidc?.AuthenticateOidcConfig);
  if (!oidc) return undefined;
  return { secret: text(c?.ClientSecret), useExisting: text(c?.UseExistingClientSecret) === 'true' };
}

/** `...:listener-rule/app/<lb>/<lb-id>/<listener-id>/<rule-id>` → `...:listener/app/<lb>/<lb-id>/<listener-id>`. */
export function listenerOfRule(ruleArn: string): string {
  return ruleArn.replace(':listener-rule/', ':listener/').replace(/\/[^/]+$/, '');
}

export const elbRules: BehaviourFactory = () => {
  const secrets = new Map<string, string>();

  async function listenerProtocol(ctx: BehaviourContext, region: string, listenerArn: string | undefined): Promise<string | undefined> {
    if (!listenerArn) return undefined;
    try {
      const out = await ctx.aws(region).elbv2.send(new DescribeListenersCommand({ ListenerArns: [listenerArn] }));
      return out.Listeners?.[0]?.Protocol;
    } catch {
      return undefined; // moto answers the call itself with its own not-found error
    }
  }

  function invalid(req: SimRequest, message: string): SimResponse {
    return awsErrorResponse(req, { status: 400, code: 'ValidationError', message });
  }

  const behaviour: Behaviour = {
    name: 'elb-rules',

    async intercept(req, ctx) {
      if (req.service !== 'elasticloadbalancing') return undefined;
      const p = unflattenQuery(req.params);
      try {
        switch (req.action) {
          case 'CreateRule':
            checkActions(list(p.Actions), { listenerProtocol: await listenerProtocol(ctx, req.region, text(p.ListenerArn)), creating: true, hasSecret: false });
            return undefined;
          case 'ModifyRule': {
            const ruleArn = text(p.RuleArn) ?? '';
            if (p.Actions === undefined) return undefined;
            const protocol = await listenerProtocol(ctx, req.region, listenerOfRule(ruleArn));
            checkActions(list(p.Actions), { listenerProtocol: protocol, creating: false, hasSecret: secrets.has(ruleArn) });
            return undefined;
          }
          case 'CreateListener':
            checkActions(list(p.DefaultActions), { listenerProtocol: text(p.Protocol), creating: true, hasSecret: false });
            return undefined;
          default:
            return undefined;
        }
      } catch (err) {
        if (err instanceof Invalid) return invalid(req, err.message);
        throw err;
      }
    },

    afterResponse(req, res) {
      if (req.service !== 'elasticloadbalancing' || res.status !== 200) return undefined;
      if (!['CreateRule', 'ModifyRule', 'DescribeRules', 'CreateListener', 'ModifyListener', 'DescribeListeners'].includes(req.action)) return undefined;
      const body = res.body.toString('utf8');
      if (req.action === 'CreateRule' || req.action === 'ModifyRule') {
        const p = unflattenQuery(req.params);
        const ruleArn = text(p.RuleArn) ?? /<RuleArn>([^<]+)<\/RuleArn>/.exec(body)?.[1];
        const oidc = p.Actions === undefined ? { useExisting: true } : oidcSecret(list(p.Actions));
        if (ruleArn && !oidc) secrets.delete(ruleArn);
        if (ruleArn && oidc?.secret) secrets.set(ruleArn, oidc.secret);
      }
      if (!/<(ClientSecret|UseExistingClientSecret)>/.test(body)) return undefined;
      const stripped = Buffer.from(body.replace(SECRET_ELEMENTS, ''));
      return { ...res, headers: { ...res.headers, 'content-length': String(stripped.length) }, body: stripped };
    },

    route(r) {
      if (r.method === 'GET' && r.path === '/') return { status: 200, body: { clientSecrets: Object.fromEntries(secrets) } };
      return undefined;
    },

    reset() {
      secrets.clear();
    },
  };
  return behaviour;
};
