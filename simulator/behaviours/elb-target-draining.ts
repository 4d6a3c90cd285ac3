import { DescribeTargetGroupAttributesCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Behaviour, BehaviourFactory } from '../behaviour';
import type { SimResponse } from '../protocol';
import { unflattenQuery } from '../query-params';

/**
 * Deregistered targets drain, as Elastic Load Balancing documents ("Deregistration delay",
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html#deregistration-delay,
 * and API_TargetHealth: state `draining`, reason `Target.DeregistrationInProgress`): a target taken out
 * with DeregisterTargets stops receiving new requests at once but stays in the group as `draining` for
 * the group's `deregistration_delay.timeout_seconds` (300 by default), and DescribeTargetHealth lists it
 * so; after the delay it is gone. moto drops it at once. The delay is read when the target is
 * deregistered (a later change of the attribute does not move it, as on AWS).
 *
 * Route: `GET /_sim/elb-target-draining` → `{ draining: [{ targetGroupArn, id, port, until }] }`.
 */

interface Draining {
  targetGroupArn: string;
  id: string;
  port?: number;
  untilMs: number;
}

const escapeXml = (s: string) => s.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c] ?? c);

export const elbTargetDraining: BehaviourFactory = () => {
  let draining: Draining[] = [];
  const live = (now: number) => (draining = draining.filter((d) => d.untilMs > now));

  function withDraining(req: { params: Record<string, unknown> }, res: SimResponse, tg: string): SimResponse | void {
    const now = Date.now();
    const mine = live(now).filter((d) => d.targetGroupArn === tg);
    if (mine.length === 0) return;
    let xml = res.body.toString('utf8');
    const close = xml.indexOf('</TargetHealthDescriptions>');
    if (close < 0) return;
    const p = unflattenQuery(req.params);
    const requested = Array.isArray(p.Targets)
      ? p.Targets.map((x) => (x && typeof x === 'object' && !Array.isArray(x) ? { id: String(x.Id ?? ''), port: typeof x.Port === 'string' ? Number(x.Port) : undefined } : { id: '' }))
      : undefined;
    const listed = (d: Draining) => new RegExp(`<Id>${d.id}</Id>(<Port>${d.port ?? '\\d+'}</Port>)?`).test(xml);
    const wanted = mine.filter((d) => !requested || requested.some((r) => r.id === d.id && (r.port === undefined || d.port === undefined || r.port === d.port)));
    // Asked about explicitly, moto answers `unused`: replace that answer.
    for (const d of wanted) {
      xml = xml.replace(new RegExp(`<member>(?:(?!</member>)[\\s\\S])*<Id>${d.id}</Id>(?:(?!</member>)[\\s\\S])*<State>unused</State>(?:(?!</member>)[\\s\\S])*</member>`), '');
    }
    const add = wanted
      .filter((d) => !listed(d))
      .map(
        (d) =>
          `<member><HealthCheckPort>traffic-port</HealthCheckPort><Target><Id>${escapeXml(d.id)}</Id>${d.port !== undefined ? `<Port>${d.port}</Port>` : ''}</Target>` +
          `<TargetHealth><State>draining</State><Reason>Target.DeregistrationInProgress</Reason><Description>Target deregistration is in progress</Description></TargetHealth></member>`,
      )
      .join('');
    if (!add) return;
    const at = xml.indexOf('</TargetHealthDescriptions>');
    xml = xml.slice(0, at) + add + xml.slice(at);
    const body = Buffer.from(xml);
    return { ...res, headers: { ...res.headers, 'content-length': String(body.length) }, body };
  }

  const behaviour: Behaviour = {
    name: 'elb-target-draining',

    async afterResponse(req, res, ctx) {
      if (req.service !== 'elasticloadbalancing' || res.status !== 200) return;
      const tg = typeof req.params.TargetGroupArn === 'string' ? req.params.TargetGroupArn : undefined;
      if (!tg) return;
      if (req.action === 'DescribeTargetHealth') return withDraining(req, res, tg);
      const p = unflattenQuery(req.params);
      const targets = Array.isArray(p.Targets) ? p.Targets.filter((x) => x && typeof x === 'object' && !Array.isArray(x)) : [];
      const parsed = targets.map((x) => {
        const t = x as Record<string, unknown>;
        return { id: String(t.Id ?? ''), port: typeof t.Port === 'string' ? Number(t.Port) : undefined };
      });
      if (req.action === 'RegisterTargets') {
        // Registered again: no longer draining.
        draining = draining.filter((d) => !(d.targetGroupArn === tg && parsed.some((t) => t.id === d.id && (t.port === undefined || d.port === undefined || t.port === d.port))));
        return;
      }
      if (req.action !== 'DeregisterTargets') return;
      const attrs = await ctx.aws(req.region === 'unknown' ? undefined : req.region).elbv2.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: tg }));
      const delay = Number(attrs.Attributes?.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value ?? 300);
      const untilMs = Date.now() + delay * 1000;
      for (const t of parsed) {
        draining = draining.filter((d) => !(d.targetGroupArn === tg && d.id === t.id && d.port === t.port));
        if (delay > 0) draining.push({ targetGroupArn: tg, id: t.id, ...(t.port !== undefined ? { port: t.port } : {}), untilMs });
      }
      return;
    },

    route(req) {
      if (req.method === 'GET' && req.path === '/') {
        return { status: 200, body: { draining: live(Date.now()).map((d) => ({ ...d, until: new Date(d.untilMs).toISOString() })) } };
      }
      return undefined;
    },

    reset() {
      draining = [];
    },
  };
  return behaviour;
};
