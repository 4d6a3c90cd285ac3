/**
 * The AWS simulator: an HTTP proxy in front of moto, shared by the tests and benches (testkit/emulator.ts)
 * and the local stack (simulator/main.ts). Every request goes to moto unchanged (method, path,
 * headers including Host and Authorization — moto ignores signatures — and body). What it adds over
 * moto:
 *  - identifies each call: service from the SigV4 credential scope, action from `X-Amz-Target`
 *    (JSON protocols: ECS, SQS, CloudWatch in SDK v3.1142) or the `Action` form field (Query: EC2,
 *    Auto Scaling, ELBv2);
 *  - fault rules per service/action: throttling in each protocol's exact wire shape, any AWS error
 *    (500/503, AccessDenied, InsufficientInstanceCapacity...), connection resets, added latency;
 *  - token-bucket rate limits per service (or action) that answer with the service's throttling error;
 *  - a record of every call (service, action, params, status, fault) for tests to assert on;
 *  - behaviour modules (simulator/behaviour.ts) for what moto lacks;
 *  - a control API under `/_sim/` (see `handleControl`), used through simulator/control-client.ts.
 * Requests and moto's responses are buffered whole: AWS API payloads are small, and behaviours and the
 * record need the parsed body.
 */
import { Agent, createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { createAwsClients, type AwsClients } from '../activities/aws/clients';
import { createLogger, type Logger } from '../common/logger';
import type { Behaviour, BehaviourContext, BehaviourFactory, SimRequest } from './behaviour';
import { createEventPublisher, DEFAULT_ACCOUNT } from './events';
import { BEHAVIOURS } from './behaviours';
import { CallLog } from './iam/call-log';
import { FaultRules, RateLimiter, faultRuleInputSchema, globMatches, rateLimitInputSchema } from './faults';
import { awsErrorResponse, canonicalService, defaultServerErrorCode, identifyCall, throttlingError, type SimResponse, type WireProtocol } from './protocol';

export interface SimulatorOptions {
  /** moto's base URL, e.g. http://127.0.0.1:5000. */
  motoUrl: string;
  /** Behaviour modules to load; default: every module in simulator/behaviours/index.ts. */
  behaviours?: readonly BehaviourFactory[];
  log?: Logger;
  /** Oldest calls are dropped beyond this many. */
  maxRecordedCalls?: number;
  /** Run behaviour ticks on their intervals (default true); tests may drive them via `POST /_sim/tick`. */
  autoTick?: boolean;
  /** Source of randomness for rule probabilities (tests make it deterministic). */
  random?: () => number;
}

export interface RecordedCall {
  seq: number;
  /** ISO time the request arrived. */
  time: string;
  service: string;
  action: string;
  region: string;
  protocol: WireProtocol;
  params: Record<string, unknown>;
  /** HTTP status sent; null when the connection was reset. */
  status: number | null;
  /** AWS error code of an error response (simulated or moto's). */
  errorCode?: string;
  /** What the simulator injected: the rule's kind and id, or the rate limit. */
  fault?: { kind: 'throttle' | 'error' | 'reset' | 'rate-limit'; ruleId?: string };
  latencyMs: number;
  /** The account the call acts in: moto's default, or the one an assumed-role session (or `x-moto-account-id`) puts it in. */
  account: string;
  /** `moto`, `fault`, or `behaviour:<name>` for an intercepted call. */
  handledBy: string;
  durationMs: number;
}

export const callFilterSchema = z.object({
  service: z.string().optional(),
  /** Glob, e.g. `Describe*`. */
  action: z.string().optional(),
  /** Only calls with a larger seq (poll for new calls). */
  sinceSeq: z.coerce.number().int().optional(),
  /** true: only calls that got a simulated fault; false: only calls without one. */
  faulted: z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]).optional(),
});
export type CallFilter = z.input<typeof callFilterSchema>;

const BUILTIN_ROUTES = new Set(['health', 'faults', 'rate-limits', 'calls', 'reset', 'tick', 'events']);
const MAX_BODY_BYTES = 16 * 1024 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, `request body over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function errorCodeOf(res: SimResponse): string | undefined {
  if (res.status < 400) return undefined;
  const header = res.headers['x-amzn-errortype'];
  if (header) return header.split(':')[0];
  const text = res.body.toString('utf8', 0, Math.min(res.body.length, 4_096));
  const json = /"__type"\s*:\s*"(?:[^"#]*#)?([^"]+)"/.exec(text);
  if (json) return json[1];
  return /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Simulator {
  readonly faults: FaultRules;
  readonly rateLimits = new RateLimiter();
  readonly behaviours: readonly Behaviour[];
  private readonly motoUrl: URL;
  private readonly log: Logger;
  private readonly maxRecordedCalls: number;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });
  private readonly server: Server;
  private readonly ctx: BehaviourContext;
  private readonly clientsByRegion = new Map<string, AwsClients>();
  private readonly tickTimers: NodeJS.Timeout[] = [];
  private readonly ticksRunning = new Map<string, Promise<void>>();
  private recorded: RecordedCall[] = [];
  private seq = 0;
  /** The product's calls for the IAM proof, when FLEETOPS_AWS_CALL_LOG_DIR is set (simulator/iam/call-log.ts). */
  private readonly callLog: CallLog | undefined;

  constructor(private readonly opts: SimulatorOptions) {
    this.motoUrl = new URL(opts.motoUrl);
    this.log = opts.log ?? createLogger('simulator');
    this.maxRecordedCalls = opts.maxRecordedCalls ?? 10_000;
    this.faults = new FaultRules(opts.random);
    this.callLog = CallLog.fromEnv(opts.motoUrl, this.log);
    this.behaviours = (opts.behaviours ?? BEHAVIOURS).map((f) => f());
    for (const b of this.behaviours) {
      if (!/^[a-z0-9-]+$/.test(b.name) || BUILTIN_ROUTES.has(b.name)) throw new Error(`behaviour name '${b.name}' is not allowed`);
    }
    this.ctx = {
      motoUrl: opts.motoUrl,
      aws: (region = 'us-east-1') => {
        let clients = this.clientsByRegion.get(region);
        if (!clients) {
          clients = createAwsClients({ region, endpoint: opts.motoUrl });
          this.clientsByRegion.set(region, clients);
        }
        return clients;
      },
      events: createEventPublisher({ motoUrl: opts.motoUrl, log: this.log }),
      log: this.log,
    };
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        const status = err instanceof HttpError ? err.status : 502;
        this.log.warn({ err, url: req.url }, 'simulator request failed');
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String((err as Error)?.message ?? err) }));
        } else {
          res.destroy();
        }
      });
    });
    this.server.keepAliveTimeout = 30_000;
  }

  async listen(port: number, host = '127.0.0.1'): Promise<{ port: number; url: string }> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    if (this.opts.autoTick ?? true) {
      for (const b of this.behaviours) {
        if (!b.tick) continue;
        const timer = setInterval(() => void this.runTick(b), b.tick.intervalMs);
        timer.unref();
        this.tickTimers.push(timer);
      }
    }
    const actual = (this.server.address() as AddressInfo).port;
    return { port: actual, url: `http://${host}:${actual}` };
  }

  async close(): Promise<void> {
    for (const t of this.tickTimers) clearInterval(t);
    this.tickTimers.length = 0;
    await Promise.allSettled(this.ticksRunning.values());
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    this.agent.destroy();
    this.callLog?.close();
    for (const c of this.clientsByRegion.values()) c.destroy();
    this.clientsByRegion.clear();
  }

  /** Resets moto's state and the simulator's: rules, limits, record, every behaviour. */
  async reset(): Promise<void> {
    await Promise.allSettled(this.ticksRunning.values());
    const res = await fetch(new URL('/moto-api/reset', this.motoUrl), { method: 'POST' });
    if (!res.ok) throw new Error(`moto reset failed: HTTP ${res.status}`);
    this.faults.clear();
    this.rateLimits.clear();
    this.recorded = [];
    this.sessionAccounts.clear();
    this.ctx.events.clear();
    for (const b of this.behaviours) await b.reset();
  }

  calls(filter: CallFilter = {}): RecordedCall[] {
    const f = callFilterSchema.parse(filter);
    const service = f.service ? canonicalService(f.service) : undefined;
    return this.recorded.filter(
      (c) =>
        (service === undefined || c.service === service) &&
        (f.action === undefined || globMatches(f.action, c.action)) &&
        (f.sinceSeq === undefined || c.seq > f.sinceSeq) &&
        (f.faulted === undefined || (c.fault !== undefined) === f.faulted),
    );
  }

  clearCalls(): void {
    this.recorded = [];
  }

  /** Runs the ticks of every behaviour (or the named one) now, waiting for a tick already running. */
  async tick(name?: string): Promise<string[]> {
    const ran: string[] = [];
    for (const b of this.behaviours) {
      if (!b.tick || (name !== undefined && b.name !== name)) continue;
      await this.ticksRunning.get(b.name);
      await this.runTick(b);
      ran.push(b.name);
    }
    return ran;
  }

  private runTick(b: Behaviour): Promise<void> {
    const running = this.ticksRunning.get(b.name);
    if (running || !b.tick) return running ?? Promise.resolve();
    const p = b.tick
      .run(this.ctx)
      .catch((err: unknown) => this.log.warn({ err, behaviour: b.name }, 'behaviour tick failed'))
      .finally(() => this.ticksRunning.delete(b.name));
    this.ticksRunning.set(b.name, p);
    return p;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    if (url === '/_sim' || url.startsWith('/_sim/')) return this.handleControl(req, res, url);
    const body = await readBody(req);
    if (url.startsWith('/moto-api')) {
      // moto's own dashboard and API: not an AWS call, not recorded.
      return this.send(res, await this.forward(req, body));
    }
    const started = Date.now();
    const call = identifyCall(req.method ?? 'GET', url, req.headers, body);
    const simReq: SimRequest = { ...call, method: req.method ?? 'GET', url, headers: req.headers, body };
    const record: RecordedCall = {
      seq: ++this.seq,
      time: new Date(started).toISOString(),
      service: call.service,
      action: call.action,
      region: call.region,
      protocol: call.protocol,
      params: call.params,
      account: this.accountOf(req.headers),
      status: null,
      latencyMs: 0,
      handledBy: 'moto',
      durationMs: 0,
    };
    this.recorded.push(record);
    if (this.recorded.length > this.maxRecordedCalls) this.recorded.splice(0, this.recorded.length - this.maxRecordedCalls);

    // Before the call runs: the authorisation reads resources (tags, task definitions) as AWS sees them then.
    const logged = await this.callLog?.prepare({ ...call, account: record.account, method: req.method ?? 'GET', url, headers: req.headers });

    const finish = (response: SimResponse | null) => {
      record.status = response?.status ?? null;
      if (response) record.errorCode = errorCodeOf(response);
      record.durationMs = Date.now() - started;
      // A behaviour's AccessDenied is AWS's access decision (STS trust), not an injected fault.
      if (logged) this.callLog?.write(logged, { refused: record.handledBy.startsWith('behaviour:') && record.errorCode === 'AccessDenied' });
    };

    const decision = this.faults.decide(call.service, call.action);
    if (decision.latencyMs > 0) {
      record.latencyMs = decision.latencyMs;
      await sleep(decision.latencyMs);
    }
    if (decision.fault) {
      const { rule, fault } = decision.fault;
      record.fault = { kind: fault.kind, ruleId: rule.id };
      record.handledBy = 'fault';
      if (fault.kind === 'reset') {
        finish(null);
        req.socket.resetAndDestroy();
        return;
      }
      const spec =
        fault.kind === 'throttle'
          ? throttlingError(call)
          : {
              status: fault.status,
              code: fault.code ?? (fault.status >= 500 ? defaultServerErrorCode(call, fault.status) : 'InvalidRequest'),
              message: fault.message ?? `simulated ${fault.status} (rule ${rule.id})`,
            };
      const response = awsErrorResponse(call, spec);
      finish(response);
      return this.send(res, response);
    }
    if (!this.rateLimits.take(call.service, call.action)) {
      record.fault = { kind: 'rate-limit' };
      record.handledBy = 'fault';
      const response = awsErrorResponse(call, throttlingError(call));
      finish(response);
      return this.send(res, response);
    }

    let response: SimResponse | undefined;
    const behaviours = record.account === DEFAULT_ACCOUNT ? this.behaviours : this.behaviours.filter((b) => b.allAccounts);
    for (const b of behaviours) {
      response = b.intercept ? await b.intercept(simReq, this.ctx) : undefined;
      if (response) {
        record.handledBy = `behaviour:${b.name}`;
        break;
      }
    }
    response ??= await this.forward(req, body);
    for (const b of behaviours) {
      if (b.afterResponse) response = (await b.afterResponse(simReq, response, this.ctx)) ?? response;
    }
    if (call.service === 'sts' && call.action === 'AssumeRole' && response.status === 200) this.rememberSession(call, response);
    finish(response);
    this.send(res, response);
  }

  /** Access key id of an assumed-role session → the role's account (moto acts in it for that key). */
  private readonly sessionAccounts = new Map<string, string>();

  private rememberSession(call: { params: Record<string, unknown> }, response: SimResponse): void {
    const key = /<AccessKeyId>([^<]+)<\/AccessKeyId>/.exec(response.body.toString('utf8'))?.[1];
    const account = /^arn:aws[a-z-]*:iam::(\d{12}):/.exec(String(call.params.RoleArn ?? ''))?.[1];
    if (key && account) this.sessionAccounts.set(key, account);
  }

  private accountOf(headers: IncomingMessage['headers']): string {
    const explicit = headers['x-moto-account-id'];
    if (typeof explicit === 'string' && /^\d{12}$/.test(explicit)) return explicit;
    const key = /Credential=([^/,\s]+)\//.exec(String(headers.authorization ?? ''))?.[1];
    return (key && this.sessionAccounts.get(key)) || DEFAULT_ACCOUNT;
  }

  private forward(req: IncomingMessage, body: Buffer): Promise<SimResponse> {
    return new Promise((resolve, reject) => {
      const upstream = httpRequest(
        {
          protocol: this.motoUrl.protocol,
          hostname: this.motoUrl.hostname,
          port: this.motoUrl.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
          agent: this.agent,
        },
        (up) => {
          const chunks: Buffer[] = [];
          up.on('data', (c: Buffer) => chunks.push(c));
          up.on('error', reject);
          up.on('end', () => {
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(up.headers)) {
              if (v === undefined || k === 'transfer-encoding' || k === 'connection' || k === 'keep-alive' || k === 'content-length') continue;
              headers[k] = Array.isArray(v) ? v.join(', ') : v;
            }
            resolve({ status: up.statusCode ?? 502, headers, body: Buffer.concat(chunks) });
          });
        },
      );
      upstream.on('error', reject);
      upstream.end(body);
    });
  }

  private send(res: ServerResponse, response: SimResponse): void {
    res.writeHead(response.status, { ...response.headers, 'content-length': String(response.body.length) });
    res.end(response.body);
  }

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
  private async handleControl(req: IncomingMessage, res: ServerResponse, url: string): Promise<void> {
    const parsedUrl = new URL(url, 'http://sim');
    const parts = parsedUrl.pathname.split('/').filter(Boolean).slice(1);
    const method = req.method ?? 'GET';
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = raw.length ? JSON.parse(raw.toString('utf8')) : undefined;
    } catch {
      return this.json(res, 400, { error: 'body is not valid JSON' });
    }
    try {
      const out = await this.control(method, parts, parsedUrl.searchParams, body);
      if (!out) return this.json(res, 404, { error: `no control route ${method} ${parsedUrl.pathname}` });
      return this.json(res, out.status, out.body);
    } catch (err) {
      if (err instanceof z.ZodError) {
        const issues = err.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
        return this.json(res, 400, { error: issues });
      }
      throw err;
    }
  }

  private async control(method: string, parts: string[], query: URLSearchParams, body: unknown): Promise<{ status: number; body: unknown } | undefined> {
    const [head, id, ...rest] = parts;
    const route = `${method} ${head ?? ''}${id !== undefined ? '/:id' : ''}`;
    switch (route) {
      case 'GET health': {
        const moto = await fetch(new URL('/moto-api/', this.motoUrl)).then(
          (r) => r.ok,
          () => false,
        );
        return { status: moto ? 200 : 503, body: { ok: moto, moto: this.motoUrl.href } };
      }
      case 'GET faults':
        return { status: 200, body: { rules: this.faults.list() } };
      case 'POST faults': {
        const many = typeof body === 'object' && body !== null && 'rules' in body;
        const rules = many ? z.object({ rules: z.array(faultRuleInputSchema) }).parse(body).rules : [faultRuleInputSchema.parse(body)];
        return { status: 200, body: { rules: rules.map((r) => this.faults.add(r)) } };
      }
      case 'DELETE faults':
        this.faults.clear();
        return { status: 200, body: { ok: true } };
      case 'DELETE faults/:id':
        return this.faults.remove(id) ? { status: 200, body: { ok: true } } : { status: 404, body: { error: `no rule ${id}` } };
      case 'GET rate-limits':
        return { status: 200, body: { limits: this.rateLimits.list() } };
      case 'PUT rate-limits':
        return { status: 200, body: { limit: this.rateLimits.set(rateLimitInputSchema.parse(body)) } };
      case 'DELETE rate-limits': {
        const service = query.get('service');
        if (service) this.rateLimits.remove(service, query.get('action') ?? '*');
        else this.rateLimits.clear();
        return { status: 200, body: { ok: true } };
      }
      case 'GET calls':
        return { status: 200, body: { calls: this.calls(Object.fromEntries(query)) } };
      case 'DELETE calls':
        this.clearCalls();
        return { status: 200, body: { ok: true } };
      case 'GET events':
        return { status: 200, body: { events: this.ctx.events.published() } };
      case 'DELETE events':
        this.ctx.events.clear();
        return { status: 200, body: { ok: true } };
      case 'POST events': {
        // What AWS would publish, on demand (a test or the demo asking for a rebalance recommendation).
        const e = z
          .object({ source: z.string().min(1), detailType: z.string().min(1), detail: z.record(z.string(), z.unknown()), resources: z.array(z.string()).optional(), region: z.string().optional(), account: z.string().regex(/^\d{12}$/).optional(), eventBusName: z.string().min(1).optional() })
          .strict()
          .parse(body);
        return { status: 200, body: { event: await this.ctx.events.publish(e) } };
      }
      case 'POST reset':
        await this.reset();
        return { status: 200, body: { ok: true } };
      case 'POST tick':
        return { status: 200, body: { ran: await this.tick(query.get('behaviour') ?? undefined) } };
    }
    const behaviour = this.behaviours.find((b) => b.name === head);
    if (!behaviour?.route) return undefined;
    const path = `/${[id, ...rest].filter((p) => p !== undefined).join('/')}`;
    return (await behaviour.route({ method, path, query, body }, this.ctx)) ?? undefined;
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }
}
