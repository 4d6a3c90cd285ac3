import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { TemporalUnavailableError, type DispatchResult, type Dispatcher } from './dispatch';
import { dispatchAll, validateBody, type EventPipeline } from './handle-events';

/**
 * The router's HTTP API (PRODUCT.md, "Router HTTP API"). Authentication runs before the body is read:
 * an unauthenticated request is answered 401 and its connection closed, so its body is never read.
 * A sender that is slow with its headers or body is cut off with 408, an idle keep-alive connection is
 * closed, and a 503 (Temporal unavailable) comes within 2 s with Retry-After. Info logs carry counts
 * and event ids only: never the token, never an event body.
 */
export const BODY_LIMIT_BYTES = 1024 * 1024;

/** How long a client may take to send its headers, and its whole request (headers and body). */
export const HEADERS_TIMEOUT_MS = 5_000;
export const REQUEST_TIMEOUT_MS = 15_000;
/** An idle keep-alive connection is closed after this; any connection idle this long (no bytes either way) too. */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;
export const IDLE_SOCKET_TIMEOUT_MS = 30_000;
/** Seconds a sender should wait before retrying a 503. */
export const RETRY_AFTER_SECONDS = 2;
/**
 * The HTTP path's deadline for one Temporal call (router/app.ts) and for /readyz. A request none of
 * whose calls answered within NO_ANSWER_MS is answered 503 before that; this bounds the calls of a
 * batch that are answering (and the work left running after a 503).
 */
export const HTTP_TEMPORAL_DEADLINE_MS = 1_800;
/** After a call found Temporal unavailable, requests this soon after are answered 503 without a call. */
const UNAVAILABLE_MEMORY_MS = 1_000;
/**
 * A request none of whose Temporal calls came back by then is answered 503. The SDK's retry of an
 * unavailable server sleeps past a call's deadline (measured: a 1.2 s deadline fails after 1.75-1.9 s),
 * so the call deadline alone does not hold the 2 s. A request whose calls are answering, just slowly
 * (a batch of 100), is not cut off.
 */
const NO_ANSWER_MS = 1_500;

/** Rejects with TemporalUnavailableError at `ms` unless `answered()` by then; `cancel` clears the timer. */
function unansweredAfter(ms: number, answered: () => boolean, what: string): { promise: Promise<never>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      if (!answered()) reject(new TemporalUnavailableError(`temporal unavailable: no answer to ${what} within ${ms} ms`));
    }, ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

export interface HttpTimeouts {
  headersMs: number;
  requestMs: number;
  keepAliveMs: number;
  idleSocketMs: number;
}

export interface HttpOptions extends EventPipeline {
  token: string;
  /** The defaults above; tests shorten them. */
  timeouts?: Partial<HttpTimeouts>;
  /**
   * Dispatch work of requests already answered 503 at the deadline but still running; the router
   * waits for it before closing the Temporal connection.
   */
  background?: Set<Promise<unknown>>;
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
  let unavailableAt = 0;
  const t: HttpTimeouts = {
    headersMs: HEADERS_TIMEOUT_MS,
    requestMs: REQUEST_TIMEOUT_MS,
    keepAliveMs: KEEP_ALIVE_TIMEOUT_MS,
    idleSocketMs: IDLE_SOCKET_TIMEOUT_MS,
    ...opts.timeouts,
  };
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT_BYTES,
    // Nothing but JSON is accepted (see the onRequest check); keep the parser for it only.
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
  app.removeContentTypeParser('text/plain');

  app.addHook('onRequest', async (req, reply) => {
    if (req.routeOptions.url !== '/events') return;
    if (!bearerTokenMatches(req.headers.authorization, opts.token)) {
      metrics.invalid.inc({ reason: 'auth', transport: 'http' });
      log.warn({ ip: req.ip, hasAuthorization: req.headers.authorization !== undefined }, 'request rejected: missing or wrong bearer token');
      reply.header('www-authenticate', 'Bearer');
      // Closing the connection after the answer means the body (if any) is never read.
      reply.header('connection', 'close');
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
      unavailableAt = Date.now();
      log.warn({ err: err.message }, 'events not accepted: Temporal unavailable');
      reply.header('retry-after', String(RETRY_AFTER_SECONDS));
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
    // An outage found a moment ago: answer at once instead of making every sender wait out the deadline.
    if (Date.now() - unavailableAt < UNAVAILABLE_MEMORY_MS) {
      metrics.failed.inc({ reason: 'temporal_unavailable', transport: 'http' });
      throw new TemporalUnavailableError('temporal unavailable (a call failed less than a second ago)');
    }
    let answered = false;
    const dispatcher = Object.create(opts.dispatcher) as Dispatcher;
    dispatcher.dispatch = (...args) => {
      const call = opts.dispatcher.dispatch(...args).finally(() => void (answered = true));
      // Every call is waited for at shutdown, not only the batch: the batch settles at its first
      // failure while the SDK may still be retrying the other calls on the connection being closed.
      const settled = call.then(
        () => undefined,
        () => undefined, // when the deadline wins, a later failure has no one to tell
      );
      opts.background?.add(settled);
      void settled.then(() => opts.background?.delete(settled));
      return call;
    };
    const work = dispatchAll({ ...opts, dispatcher }, validated.routed, 'http');
    // Rejections of the batch are read by the race below, or (when the deadline wins) dropped here.
    work.catch(() => undefined);
    const deadline = unansweredAfter(NO_ANSWER_MS, () => answered, 'the start or signal');
    let results: DispatchResult[];
    try {
      results = await Promise.race([work, deadline.promise]);
    } catch (err) {
      if (!answered && err instanceof TemporalUnavailableError) metrics.failed.inc({ reason: 'temporal_no_answer', transport: 'http' });
      throw err;
    } finally {
      deadline.cancel();
    }
    const counts: Record<string, number> = {};
    for (const r of results) counts[r.action] = (counts[r.action] ?? 0) + 1;
    log.info({ events: results.length, ...counts }, 'events accepted');
    log.debug({ results }, 'event results');
    return reply.code(202).send({ results });
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    if (opts.isAccepting && !opts.isAccepting()) return sendError(reply, 503, 'shutting down');
    let done = false;
    const deadline = unansweredAfter(NO_ANSWER_MS, () => done, 'GetSystemInfo');
    const asking = opts.dispatcher.ready(HTTP_TEMPORAL_DEADLINE_MS);
    opts.background?.add(asking);
    void asking.then(() => opts.background?.delete(asking));
    const ready = await Promise.race([asking, deadline.promise.catch((err: Error) => ({ ok: false as const, error: err.message }))]);
    done = true;
    deadline.cancel();
    if (!ready.ok) return sendError(reply, 503, `temporal unreachable: ${ready.error}`);
    reply.removeHeader('retry-after');
    return { status: 'ready' };
  });

  app.get('/metrics', async (_req, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  return app;
}
