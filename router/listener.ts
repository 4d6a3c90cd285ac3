import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { RouterMetrics } from './metrics';

/**
 * One HTTP listener of the router, with the socket-level defences both have: the internal one
 * (events, health, metrics: router/http.ts) and the public one Slack reaches (router/slack/app.ts).
 * A sender that is slow with its headers or body is cut off with 408, an idle keep-alive connection
 * is closed, and anything but the listener's own routes is 404.
 */
export const BODY_LIMIT_BYTES = 1024 * 1024;

/** How long a client may take to send its headers, and its whole request (headers and body). */
export const HEADERS_TIMEOUT_MS = 5_000;
export const REQUEST_TIMEOUT_MS = 15_000;
/** An idle keep-alive connection is closed after this; any connection idle this long (no bytes either way) too. */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;
export const IDLE_SOCKET_TIMEOUT_MS = 30_000;

export interface HttpTimeouts {
  headersMs: number;
  requestMs: number;
  keepAliveMs: number;
  idleSocketMs: number;
}

export function sendError(reply: FastifyReply, status: number, error: string): FastifyReply {
  return reply.code(status).type('application/json').send({ error });
}

export function createListener(metrics: RouterMetrics, timeouts: Partial<HttpTimeouts> = {}): FastifyInstance {
  const t: HttpTimeouts = {
    headersMs: HEADERS_TIMEOUT_MS,
    requestMs: REQUEST_TIMEOUT_MS,
    keepAliveMs: KEEP_ALIVE_TIMEOUT_MS,
    idleSocketMs: IDLE_SOCKET_TIMEOUT_MS,
    ...timeouts,
  };
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT_BYTES,
    return503OnClosing: true,
    requestTimeout: t.requestMs,
    keepAliveTimeout: t.keepAliveMs,
    connectionTimeout: t.idleSocketMs,
    // Node checks request and header deadlines every connectionsCheckingInterval (30 s by default):
    // a slow sender would hold its socket that long past the deadline.
    http: { headersTimeout: t.headersMs, connectionsCheckingInterval: Math.min(1_000, t.headersMs / 2) },
    clientErrorHandler: (err, socket) => {
      if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' || socket.destroyed) return;
      const timedOut = (err as NodeJS.ErrnoException).code === 'ERR_HTTP_REQUEST_TIMEOUT';
      if (timedOut) metrics.invalid.inc({ reason: 'timeout', transport: 'http' });
      const [status, text, message] = timedOut
        ? [408, 'Request Timeout', `request timeout: headers must arrive within ${t.headersMs / 1000} s and the whole request within ${t.requestMs / 1000} s`]
        : [400, 'Bad Request', 'malformed HTTP request'];
      const body = JSON.stringify({ error: message });
      socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    },
  });
  // Every answer fastify sends, errors included; a route pattern, not the URL, keeps the label set small.
  app.addHook('onResponse', async (req, reply) => {
    metrics.httpResponses.inc({ route: req.routeOptions.url ?? 'unmatched', code: String(reply.statusCode) });
  });
  // Nothing but JSON is accepted on the internal listener; Slack's routes bring their own parser.
  app.removeContentTypeParser('text/plain');
  app.setNotFoundHandler((req, reply) => sendError(reply, 404, `no route ${req.method} ${req.url.split('?')[0].slice(0, 200)}`));
  return app;
}
