import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { Logger } from '../common/logger';
import { fleetopsTracer } from '../common/tracing';
import type { FleetopsConfig } from '../config/schema';
import { missingScope, QUEUE_PRINCIPAL, refusal, tokenIdentity, type Principal, type Scope } from './authority';
import { parseEvent, type ParsedEvent } from './events';
import type { DispatchResult, Dispatcher } from './dispatch';
import { headStartFor } from './head-start';
import { mapWithLimit } from './limit';
import type { RouterMetrics, Transport } from './metrics';
import { decisionsOf, routeEvent, RouteValidationError, type RouteDecision, type RouteOptions } from './routes';

/**
 * Validate-then-route-then-dispatch, shared by the HTTP API and the SQS consumer. A batch is
 * validated and authorised completely before anything is dispatched, so a 400 or 403 means nothing
 * was carried out.
 */
export const MAX_EVENTS_PER_REQUEST = 100;

export interface EventPipeline {
  config: FleetopsConfig;
  dispatcher: Dispatcher;
  metrics: RouterMetrics;
  log: Logger;
  routeOptions?: RouteOptions;
  /** Temporal calls in flight per request / message batch. */
  concurrency?: number;
  /**
   * The dispatcher whose head start (router/head-start.ts) every batch of this pipeline shares, when
   * `dispatcher` is a per-request wrapper (HTTP): a storm's concurrent requests then reach the drain
   * coordinator together instead of one signal each.
   */
  headStartDispatcher?: Dispatcher;
}

export type ValidationOutcome =
  | { ok: true; routed: { event: ParsedEvent; decision: RouteDecision }[] }
  /** `forbidden`: the principal lacks a scope an event needs (HTTP answers 403; the queue dead-letters it). */
  | { ok: false; error: string; forbidden?: Scope };

/**
 * `body` is a parsed JSON document: one envelope or an array of them. `principal` is who sent it
 * (router/authority.ts): every event must be one it may send, and a token's deploy is requested by
 * the token. The events queue's when unset (the SQS consumer's call).
 */
export function validateBody(pipeline: EventPipeline, body: unknown, principal: Principal = QUEUE_PRINCIPAL): ValidationOutcome {
  let items: { raw: unknown; at: (string | number)[] }[];
  if (Array.isArray(body)) {
    if (body.length === 0) return { ok: false, error: 'events: the array is empty' };
    if (body.length > MAX_EVENTS_PER_REQUEST) {
      return { ok: false, error: `events: at most ${MAX_EVENTS_PER_REQUEST} events per request (got ${body.length})` };
    }
    items = body.map((raw, i) => ({ raw, at: ['events', i] }));
  } else if (body !== null && typeof body === 'object') {
    items = [{ raw: body, at: [] }];
  } else {
    return { ok: false, error: 'body: must be an EventBridge event object or an array of them' };
  }

  const routeOptions: RouteOptions = {
    ...pipeline.routeOptions,
    ...(principal.kind === 'token' ? { requestedBy: tokenIdentity(principal.token.name) } : {}),
  };
  const routed: { event: ParsedEvent; decision: RouteDecision }[] = [];
  for (const { raw, at } of items) {
    const parsed = parseEvent(raw, at);
    if (!parsed.ok) return { ok: false, error: parsed.error };
    const missing = missingScope(principal, parsed.event);
    if (missing) {
      const which = at.length ? `events[${at[1]}] (${parsed.event.envelope.source} / ${parsed.event.envelope['detail-type']})` : `${parsed.event.envelope.source} / ${parsed.event.envelope['detail-type']}`;
      return { ok: false, error: `${which}: ${refusal(principal, missing)}`, forbidden: missing };
    }
    try {
      for (const decision of decisionsOf(routeEvent(parsed.event, pipeline.config, routeOptions))) routed.push({ event: parsed.event, decision });
    } catch (err) {
      if (err instanceof RouteValidationError) {
        const prefix = at.length ? `events[${at[1]}].` : '';
        return { ok: false, error: `${prefix}${err.message}` };
      }
      throw err;
    }
  }
  return { ok: true, routed };
}

/** Dispatches validated events; throws TemporalUnavailableError (or another Temporal error) for a retry. */
export async function dispatchAll(
  pipeline: EventPipeline,
  routed: { event: ParsedEvent; decision: RouteDecision }[],
  transport: Transport,
): Promise<DispatchResult[]> {
  for (const event of new Set(routed.map((r) => r.event))) pipeline.metrics.received.inc({ kind: event.kind, transport });
  // The drain coordinator's share first (router/head-start.ts), so DRAINING does not wait for each drain's first workflow task.
  await headStartFor(pipeline.headStartDispatcher ?? pipeline.dispatcher, pipeline.log, pipeline.metrics, transport).send(routed.map((r) => r.decision));
  const results = await mapWithLimit(routed, pipeline.concurrency ?? 16, ({ event, decision }) =>
    // One trace per event and workflow, rooted here: its start or signal carries the context into the workflow.
    fleetopsTracer().startActiveSpan(
      `fleetops.router.accept ${event.kind}`,
      { kind: SpanKind.SERVER, attributes: { 'fleetops.event.id': event.envelope.id, 'fleetops.event.kind': event.kind, 'fleetops.transport': transport, 'fleetops.workflow.id': decision.workflowId ?? '' } },
      async (span) => {
        try {
          const result = await pipeline.dispatcher.dispatch(event.envelope.id, event.kind, decision, transport);
          span.setAttribute('fleetops.action', result.action);
          return result;
        } catch (err) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
          throw err;
        } finally {
          span.end();
        }
      },
    ),
  );
  // How old each event was when the router was done with it (once per event, however many workflows it concerned).
  const now = Date.now();
  for (const event of new Set(routed.map((r) => r.event))) {
    const age = (now - Date.parse(event.envelope.time)) / 1000;
    if (Number.isFinite(age)) pipeline.metrics.eventAge.observe({ kind: event.kind, transport }, Math.max(0, age));
  }
  // docs/contract.md, What bad input gets: nothing dropped without a count (fleetops_router_events_ignored_total) and a log line.
  results.forEach((r, i) => {
    if (r.action !== 'ignored') return;
    const { event, decision } = routed[i]!;
    const reason = decision.action === 'ignore' ? decision.reason : `no running workflow ${decision.workflowId} to signal`;
    pipeline.log.info({ eventId: r.eventId, kind: event.kind, source: event.envelope.source, detailType: event.envelope['detail-type'], transport, reason }, 'event ignored');
  });
  return results;
}

