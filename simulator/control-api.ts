import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { Behaviour, BehaviourContext } from './behaviour';
import type { CallFilter, RecordedCall } from './call-record';
import { faultRuleInputSchema, rateLimitInputSchema, type FaultRules, type RateLimiter } from './faults';
import { readBody, sendJson } from './http-io';

/** What the control API reads and changes of a simulator. */
export interface ControlTarget {
  readonly motoUrl: URL;
  readonly faults: FaultRules;
  readonly rateLimits: RateLimiter;
  readonly behaviours: readonly Behaviour[];
  readonly ctx: BehaviourContext;
  calls(filter: CallFilter): RecordedCall[];
  clearCalls(): void;
  reset(): Promise<void>;
  tick(name?: string): Promise<string[]>;
}

/** Route names the control API keeps for itself: no behaviour may take one. */
export const BUILTIN_ROUTES = new Set(['health', 'faults', 'rate-limits', 'calls', 'reset', 'tick', 'events']);

/**
 * Control API (JSON in, JSON out; errors are `{"error": "..."}`):
 *  GET    /_sim/health                 → { ok, moto }
 *  GET    /_sim/faults                 → { rules }
 *  POST   /_sim/faults                 body: rule or { rules: [rule...] } → { rules } (as stored, with ids)
 *  DELETE /_sim/faults[/<id>]          clear all rules, or one
 *  GET    /_sim/rate-limits            → { limits }
 *  PUT    /_sim/rate-limits            body: { service, action?, ratePerSec, burst } → { limit }
 *  DELETE /_sim/rate-limits[?service=&action=]
 *  GET    /_sim/calls?service=&action=&sinceSeq=&faulted=   → { calls }
 *  DELETE /_sim/calls
 *  GET    /_sim/events                 → { events } (what the behaviours published to EventBridge)
 *  POST   /_sim/events                 body: { source, detailType, detail, resources?, region?, account?, eventBusName? } → { event }
 *  DELETE /_sim/events                 forget the published events (not the queues they reached)
 *  POST   /_sim/reset                  moto and all simulator state (rules, limits, record, behaviours)
 *  POST   /_sim/tick[?behaviour=name]  run behaviour ticks now → { ran }
 *  *      /_sim/<behaviour>/...        the behaviour's own routes
 */
export async function handleControl(sim: ControlTarget, req: IncomingMessage, res: ServerResponse, url: string): Promise<void> {
  const parsedUrl = new URL(url, 'http://sim');
  const parts = parsedUrl.pathname.split('/').filter(Boolean).slice(1);
  const method = req.method ?? 'GET';
  const raw = await readBody(req);
  let body: unknown;
  try {
    body = raw.length ? JSON.parse(raw.toString('utf8')) : undefined;
  } catch {
    return sendJson(res, 400, { error: 'body is not valid JSON' });
  }
  try {
    const out = await control(sim, method, parts, parsedUrl.searchParams, body);
    if (!out) return sendJson(res, 404, { error: `no control route ${method} ${parsedUrl.pathname}` });
    return sendJson(res, out.status, out.body);
  } catch (err) {
    if (err instanceof z.ZodError) {
      const issues = err.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
      return sendJson(res, 400, { error: issues });
    }
    throw err;
  }
}

async function control(sim: ControlTarget, method: string, parts: string[], query: URLSearchParams, body: unknown): Promise<{ status: number; body: unknown } | undefined> {
  const [head, id, ...rest] = parts;
  const route = `${method} ${head ?? ''}${id !== undefined ? '/:id' : ''}`;
  switch (route) {
    case 'GET health': {
      const moto = await fetch(new URL('/moto-api/', sim.motoUrl)).then(
        (r) => r.ok,
        () => false,
      );
      return { status: moto ? 200 : 503, body: { ok: moto, moto: sim.motoUrl.href } };
    }
    case 'GET faults':
      return { status: 200, body: { rules: sim.faults.list() } };
    case 'POST faults': {
      const many = typeof body === 'object' && body !== null && 'rules' in body;
      const rules = many ? z.object({ rules: z.array(faultRuleInputSchema) }).parse(body).rules : [faultRuleInputSchema.parse(body)];
      return { status: 200, body: { rules: rules.map((r) => sim.faults.add(r)) } };
    }
    case 'DELETE faults':
      sim.faults.clear();
      return { status: 200, body: { ok: true } };
    case 'DELETE faults/:id':
      return sim.faults.remove(id) ? { status: 200, body: { ok: true } } : { status: 404, body: { error: `no rule ${id}` } };
    case 'GET rate-limits':
      return { status: 200, body: { limits: sim.rateLimits.list() } };
    case 'PUT rate-limits':
      return { status: 200, body: { limit: sim.rateLimits.set(rateLimitInputSchema.parse(body)) } };
    case 'DELETE rate-limits': {
      const service = query.get('service');
      if (service) sim.rateLimits.remove(service, query.get('action') ?? '*');
      else sim.rateLimits.clear();
      return { status: 200, body: { ok: true } };
    }
    case 'GET calls':
      return { status: 200, body: { calls: sim.calls(Object.fromEntries(query)) } };
    case 'DELETE calls':
      sim.clearCalls();
      return { status: 200, body: { ok: true } };
    case 'GET events':
      return { status: 200, body: { events: sim.ctx.events.published() } };
    case 'DELETE events':
      sim.ctx.events.clear();
      return { status: 200, body: { ok: true } };
    case 'POST events': {
      // What AWS would publish, on demand (a test or the demo asking for a rebalance recommendation).
      const e = z
        .object({ source: z.string().min(1), detailType: z.string().min(1), detail: z.record(z.string(), z.unknown()), resources: z.array(z.string()).optional(), region: z.string().optional(), account: z.string().regex(/^\d{12}$/).optional(), eventBusName: z.string().min(1).optional() })
        .strict()
        .parse(body);
      return { status: 200, body: { event: await sim.ctx.events.publish(e) } };
    }
    case 'POST reset':
      await sim.reset();
      return { status: 200, body: { ok: true } };
    case 'POST tick':
      return { status: 200, body: { ran: await sim.tick(query.get('behaviour') ?? undefined) } };
  }
  const behaviour = sim.behaviours.find((b) => b.name === head);
  if (!behaviour?.route) return undefined;
  const path = `/${[id, ...rest].filter((p) => p !== undefined).join('/')}`;
  return (await behaviour.route({ method, path, query, body }, sim.ctx)) ?? undefined;
}
