import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import type { RouterToken } from './authority';
import { TemporalUnavailableError, type DispatchResult, type Dispatcher } from './dispatch';
import { dispatchAll, validateBody, type EventPipeline } from './handle-events';
import { InFlightLimit, type Place } from './in-flight';
import { BODY_LIMIT_BYTES, createListener, sendError, type HttpTimeouts } from './listener';
import { cachedReadiness } from './readiness';

/**
 * The router's internal HTTP API (docs/contract.md, Router HTTP API): POST /events, /healthz, /readyz,
 * /metrics. Slack has a listener of its own when FLEETOPS_SLACK_PORT is set (router/app.ts).
 *
 * Authentication runs before the body is read: a request without one of the configured bearer tokens
 * is answered 401 and its connection closed, so its body is never read; so is a request over the
 * in-flight limit (503). A token acts within its scopes (router/authority.ts): a batch with one event
 * its token may not send is answered 403 and nothing of it is carried out; one that would start or
 * signal more workflows than the per-request limit is answered 413. A 503 (Temporal unavailable)
 * comes within 2 s with Retry-After. Info logs carry counts, event ids and token names only: never a
 * token, never an event body.
 */
export { BODY_LIMIT_BYTES, type HttpTimeouts } from './listener';

/** Seconds a sender should wait before retrying a 503. */
export const RETRY_AFTER_SECONDS = 2;
/**
 * The HTTP path's deadline for one Temporal call (router/app.ts) and for /readyz. A request none of
 * whose calls answered within NO_ANSWER_MS is answered 503 before that; this bounds the calls of a
 * batch that are answering (and the work left running after a 503).
 */
export const HTTP_TEMPORAL_DEADLINE_MS = 1_800;
/**
 * Per request: workflows it may start or signal (the sum over its events; an AWS Health event names
 * up to hundreds of instances, one drain each). 100 events × 10 workflows; a sender with more splits its batch.
 */
export const DEFAULT_MAX_WORKFLOWS_PER_REQUEST = 1_000;
/**
 * Requests worked on at once. Each runs up to 16 Temporal calls at a time (router/handle-events.ts),
 * so 32 is up to 512 calls in flight from this edge.
 */
export const DEFAULT_MAX_REQUESTS_IN_FLIGHT = 32;
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

export interface HttpLimits {
  /** Workflows one request may start or signal (413 over it). */
  maxWorkflowsPerRequest: number;
  /** Requests worked on at once (503 with Retry-After over it). */
  maxRequestsInFlight: number;
}

export interface HttpOptions extends EventPipeline {
  /** The bearer tokens POST /events accepts, each with its name and scopes (router/authority.ts). */
  tokens: readonly RouterToken[];
  /** The defaults above. */
  limits?: Partial<HttpLimits>;
  /** router/listener.ts has the defaults; tests shorten them. */
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

/**
 * The token an Authorization header presents, or undefined. Every token is compared, in constant
 * time, whichever matched: the time taken says nothing about which token (or how much of one) was right.
 */
export function tokenOf(header: string | undefined, tokens: readonly { token: RouterToken; digest: Buffer }[]): RouterToken | undefined {
  const m = /^Bearer ([^\s]+)$/i.exec(header ?? '');
  const presented = digest(m ? m[1] : '');
  let found: RouterToken | undefined;
  for (const t of tokens) {
    const same = timingSafeEqual(presented, t.digest);
    if (same && m !== null && found === undefined) found = t.token;
  }
  return found;
}

/** What onRequest learnt about a request: its token and its in-flight place. */
interface Admitted {
  token: RouterToken;
  place: Place;
}

export function createHttpServer(opts: HttpOptions): FastifyInstance {
  const { metrics, log } = opts;
  const limits: HttpLimits = { maxWorkflowsPerRequest: DEFAULT_MAX_WORKFLOWS_PER_REQUEST, maxRequestsInFlight: DEFAULT_MAX_REQUESTS_IN_FLIGHT, ...opts.limits };
  const tokens = opts.tokens.map((token) => ({ token, digest: digest(token.secret) }));
  const inFlight = new InFlightLimit(limits.maxRequestsInFlight);
  const admitted = new WeakMap<FastifyRequest, Admitted>();
  let unavailableAt = 0;
  const app = createListener(metrics, opts.timeouts);

  app.addHook('onRequest', async (req, reply) => {
    if (req.routeOptions.url !== '/events') return;
    const token = tokenOf(req.headers.authorization, tokens);
    if (!token) {
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
    const place = inFlight.tryAcquire();
    if (!place) {
      metrics.invalid.inc({ reason: 'busy', transport: 'http' });
      log.warn({ token: token.name, inFlight: inFlight.inFlight }, 'request refused: too many requests in flight');
      reply.header('retry-after', String(RETRY_AFTER_SECONDS));
      reply.header('connection', 'close');
      return sendError(reply, 503, `busy: ${limits.maxRequestsInFlight} requests are being worked on; retry later`);
    }
    // Answered or dropped, the request gives its place back (its dispatch work may hold it longer).
    reply.raw.once('close', place.release);
    admitted.set(req, { token, place });
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

  app.post('/events', async (req, reply) => {
    const { token, place } = admitted.get(req) as Admitted;
    const validated = validateBody(opts, req.body, { kind: 'token', token });
    if (!validated.ok && validated.forbidden) {
      metrics.invalid.inc({ reason: 'forbidden', transport: 'http' });
      log.warn({ token: token.name, scope: validated.forbidden, error: validated.error }, 'events refused: the token lacks a scope');
      return sendError(reply, 403, validated.error);
    }
    if (!validated.ok) {
      metrics.invalid.inc({ reason: 'validation', transport: 'http' });
      log.info({ token: token.name, error: validated.error }, 'events rejected: validation');
      return sendError(reply, 400, validated.error);
    }
    const workflows = validated.routed.filter((r) => r.decision.action !== 'ignore').length;
    if (workflows > limits.maxWorkflowsPerRequest) {
      metrics.invalid.inc({ reason: 'fan_out', transport: 'http' });
      log.warn({ token: token.name, events: new Set(validated.routed.map((r) => r.event)).size, workflows }, 'events refused: too many workflows for one request');
      return sendError(reply, 413, `events: would start or signal ${workflows} workflows; at most ${limits.maxWorkflowsPerRequest} per request (split the batch)`);
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
    place.hold();
    const work = dispatchAll({ ...opts, dispatcher, headStartDispatcher: opts.dispatcher }, validated.routed, 'http');
    // The place stays taken until the work settles, answered or not: what runs on after a 503 counts.
    // Rejections of the batch are read by the race below, or (when the deadline wins) dropped here.
    work.then(place.release, place.release);
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
    log.info({ token: token.name, events: results.length, ...counts }, 'events accepted');
    log.debug({ results }, 'event results');
    return reply.code(202).send({ results });
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  const readiness = cachedReadiness({ dispatcher: opts.dispatcher, log, callTimeoutMs: HTTP_TEMPORAL_DEADLINE_MS, answerWithinMs: NO_ANSWER_MS, background: opts.background });
  app.get('/readyz', async (_req, reply) => {
    reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    if (opts.isAccepting && !opts.isAccepting()) return sendError(reply, 503, 'shutting down');
    // Not why: the reason is in the log (router/readiness.ts); this endpoint answers anyone.
    if (!(await readiness()).ok) return sendError(reply, 503, 'not ready: Temporal does not answer');
    reply.removeHeader('retry-after');
    return { status: 'ready' };
  });

  app.get('/metrics', async (_req, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  return app;
}
