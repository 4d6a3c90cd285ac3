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
 *  - a control API under `/_sim/` (simulator/control-api.ts), used through simulator/control-client.ts.
 * Requests and moto's responses are buffered whole (simulator/http-io.ts): AWS API payloads are small,
 * and behaviours and the record need the parsed body. The record's shape and filter are
 * simulator/call-record.ts; the accounts of assumed-role sessions, simulator/session-accounts.ts.
 */
import { Agent, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAwsClients, type AwsClients } from '../activities/aws/clients';
import { createLogger, type Logger } from '../common/logger';
import type { Behaviour, BehaviourContext, SimRequest } from './behaviour';
import { BEHAVIOURS } from './behaviours';
import { errorCodeOf, filterCalls, type CallFilter, type RecordedCall } from './call-record';
import { BUILTIN_ROUTES, handleControl, type ControlTarget } from './control-api';
import { createEventPublisher, DEFAULT_ACCOUNT } from './events';
import { CallLog } from './iam/call-log';
import { FaultRules, RateLimiter } from './faults';
import { forwardToMoto, HttpError, readBody, sendResponse } from './http-io';
import { awsErrorResponse, defaultServerErrorCode, identifyCall, throttlingError, type SimResponse } from './protocol';
import { SessionAccounts } from './session-accounts';
import type { SimulatorOptions } from './simulator-options';

export { callFilterSchema, type CallFilter, type RecordedCall } from './call-record';

export type { SimulatorOptions } from './simulator-options';

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
  private readonly controlTarget: ControlTarget;
  /** Assumed-role sessions → the accounts their calls act in. */
  private readonly sessionAccounts = new SessionAccounts();
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
    this.controlTarget = {
      motoUrl: this.motoUrl,
      faults: this.faults,
      rateLimits: this.rateLimits,
      behaviours: this.behaviours,
      ctx: this.ctx,
      calls: (filter) => this.calls(filter),
      clearCalls: () => this.clearCalls(),
      reset: () => this.reset(),
      tick: (name) => this.tick(name),
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
    return filterCalls(this.recorded, filter);
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
    if (url === '/_sim' || url.startsWith('/_sim/')) return handleControl(this.controlTarget, req, res, url);
    const body = await readBody(req);
    if (url.startsWith('/moto-api')) {
      // moto's own dashboard and API: not an AWS call, not recorded.
      return this.send(res, await this.forward(req, body));
    }
    const started = Date.now();
    const call = identifyCall(req.method ?? 'GET', url, req.headers, body);
    const account = this.accountOf(req.headers);
    const simReq: SimRequest = { ...call, account, method: req.method ?? 'GET', url, headers: req.headers, body };
    const record: RecordedCall = {
      seq: ++this.seq,
      time: new Date(started).toISOString(),
      service: call.service,
      action: call.action,
      region: call.region,
      protocol: call.protocol,
      params: call.params,
      account,
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

  private rememberSession(call: { params: Record<string, unknown> }, response: SimResponse): void {
    this.sessionAccounts.remember(call, response);
  }

  private accountOf(headers: IncomingMessage['headers']): string {
    return this.sessionAccounts.accountOf(headers);
  }

  private forward(req: IncomingMessage, body: Buffer): Promise<SimResponse> {
    return forwardToMoto(this.motoUrl, this.agent, req, body);
  }

  private send(res: ServerResponse, response: SimResponse): void {
    sendResponse(res, response);
  }
}
