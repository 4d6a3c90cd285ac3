import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { TemporalUnavailableError } from './dispatch';
import { dispatchAll, validateBody, type EventPipeline } from './handle-events';

/**
 * The router's HTTP API (PRODUCT.md, "Router HTTP API"). Authentication runs before the body is read,
 * so an unauthenticated sender cannot make the router parse anything. Info logs carry counts and
 * event ids only: never the token, never an event body.
 */
export const BODY_LIMIT_BYTES = 1024 * 1024;

export interface HttpOptions extends EventPipeline {
  token: string;
  /** False while shutting down, so /readyz tells load balancers to stop sending. */
  isAccepting?: () => boolean;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time: both sides are hashed to equal length first, so neither length nor content leaks. */
export function bearerTokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer ([^\s]+)$/i.exec(header ?? '');
  const presented = digest(m ? m[1] : '');
  return timingSafeEqual(presented, digest(token)) && m !== null;
}

function sendError(reply: FastifyReply, status: number, error: string): FastifyReply {
  return reply.code(status).type('application/json').send({ error });
}

export function createHttpServer(opts: HttpOptions): FastifyInstance {
  const { metrics, log } = opts;
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT_BYTES,
    // Nothing but JSON is accepted (see the onRequest check); keep the parser for it only.
    return503OnClosing: true,
  });
  app.removeContentTypeParser('text/plain');

  app.addHook('onRequest', async (req, reply) => {
    if (req.routeOptions.url !== '/events') return;
    if (!bearerTokenMatches(req.headers.authorization, opts.token)) {
      metrics.invalid.inc({ reason: 'auth', transport: 'http' });
      log.warn({ ip: req.ip, hasAuthorization: req.headers.authorization !== undefined }, 'request rejected: missing or wrong bearer token');
      reply.header('www-authenticate', 'Bearer');
      return sendError(reply, 401, 'missing or wrong bearer token');
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/json') {
      metrics.invalid.inc({ reason: 'content_type', transport: 'http' });
      return sendError(reply, 400, `content-type: must be application/json (got ${type ? JSON.stringify(type.slice(0, 100)) : 'none'})`);
    }
  });

  app.setErrorHandler((err: FastifyError, _req, reply) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || err.statusCode === 413) {
      metrics.invalid.inc({ reason: 'too_large', transport: 'http' });
      return sendError(reply, 413, `body: larger than ${BODY_LIMIT_BYTES} bytes`);
    }
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      metrics.invalid.inc({ reason: 'content_type', transport: 'http' });
      return sendError(reply, 400, 'content-type: must be application/json');
    }
    if (err.statusCode === 400 || err instanceof SyntaxError) {
      metrics.invalid.inc({ reason: 'json', transport: 'http' });
      return sendError(reply, 400, `body: not valid JSON (${err.message.slice(0, 200)})`);
    }
    if (err instanceof TemporalUnavailableError) {
      log.warn({ err: err.message }, 'events not accepted: Temporal unavailable');
      return sendError(reply, 503, err.message);
    }
    log.error({ err }, 'request failed');
    return sendError(reply, 500, `internal error: ${err.message}`);
  });

  app.setNotFoundHandler((req, reply) => sendError(reply, 404, `no route ${req.method} ${req.url.split('?')[0].slice(0, 200)}`));

  app.post('/events', async (req, reply) => {
    const validated = validateBody(opts, req.body);
    if (!validated.ok) {
      metrics.invalid.inc({ reason: 'validation', transport: 'http' });
      log.info({ error: validated.error }, 'events rejected: validation');
      return sendError(reply, 400, validated.error);
    }
    const results = await dispatchAll(opts, validated.routed, 'http');
    const counts: Record<string, number> = {};
    for (const r of results) counts[r.action] = (counts[r.action] ?? 0) + 1;
    log.info({ events: results.length, ...counts }, 'events accepted');
    log.debug({ results }, 'event results');
    return reply.code(202).send({ results });
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    if (opts.isAccepting && !opts.isAccepting()) return sendError(reply, 503, 'shutting down');
    const ready = await opts.dispatcher.ready();
    if (!ready.ok) return sendError(reply, 503, `temporal unreachable: ${ready.error}`);
    return { status: 'ready' };
  });

  app.get('/metrics', async (_req, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  return app;
}
