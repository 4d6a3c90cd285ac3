import { createHash } from 'node:crypto';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { isGrpcServiceError, type Connection } from '@temporalio/client';
import {
  defaultPayloadConverter,
  encodeWorkflowIdConflictPolicy,
  encodeWorkflowIdReusePolicy,
  toPayloads,
  type Payload,
  type WorkflowIdReusePolicy,
} from '@temporalio/common';
// Search attribute encoding is not re-exported from the package root; this is the module the SDK client uses.
import { encodeUnifiedSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes';
import { fleetopsTracer, traceHeaderFields } from '../common/tracing';
import type { RouteDecision } from './routes';
import { currentRunHandled, MEMO_EVENT_ID } from './run-memo';
import { classifyTemporalError, grpcCodeName, isTemporalOutage, TemporalRefusedError, TemporalUnavailableError } from './temporal-errors';

export { classifyTemporalError, isTemporalOutage, TemporalRefusedError, TemporalUnavailableError, type TemporalErrorClass } from './temporal-errors';
import type { RouterMetrics, Transport } from './metrics';

/**
 * Carries route decisions out against Temporal, exactly once per event id as far as the server can
 * tell. The SDK's high-level client gives signal-with-start a random request id and does not say
 * whether it started a workflow, so the calls are made on the WorkflowService directly:
 *  - the request id is derived from the event id, so the server itself drops a redelivered
 *    signal-with-start or start (also after a router restart, when the router's memory is gone);
 *  - signal-with-start's `started` tells `started` from `signaled`;
 *  - `ALREADY_EXISTS` (a start while the workflow runs, or a reuse policy refusing a closed id) is `duplicate`;
 *  - a plain start that the server dedupes by request id answers like a fresh start, so before a
 *    start the current run's memo `eventId` is read: the same event id there means `duplicate`.
 *  - a signal-with-start refused by a completed run (its reuse policy) starts a new run when the
 *    decision allows it (`handledEventsMemo`: a drain's instance may be interrupted again), unless
 *    that run's memo lists the event as handled: `duplicate`. Only this refused case reads the memo.
 * Events recently carried out are remembered, so a retry within that window answers `duplicate`
 * without a call. Copies of one event arriving together run one after the other (the first carries
 * it out, the rest are duplicates); different events run concurrently even for one workflow — the
 * server serialises them per workflow anyway, EventBridge promises no order, and every signal
 * carries its event time for the workflow to order by.
 */

export type DispatchAction = 'started' | 'signaled' | 'duplicate' | 'ignored';

export interface DispatchResult {
  eventId: string;
  action: DispatchAction;
  workflowId: string | null;
}

export { MEMO_EVENT_ID } from './run-memo';

export interface DispatcherOptions {
  connection: Connection;
  namespace: string;
  metrics: RouterMetrics;
  identity?: string;
  /** Deadline of one Temporal call; past it the event fails with TemporalUnavailableError. */
  callTimeoutMs?: number;
  /** How many recently carried-out event ids are remembered for `duplicate` answers. */
  rememberEvents?: number;
}

/** A request id the server dedupes on: a UUID-shaped digest of the event id and the target workflow. */
export function requestIdFor(eventId: string, workflowId: string): string {
  const h = createHash('sha256').update(`${workflowId}\u0000${eventId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export class Dispatcher {
  private readonly remembered = new Map<string, string | null>();
  private readonly tails = new Map<string, Promise<unknown>>();
  private readonly callTimeoutMs: number;
  private readonly rememberEvents: number;
  private readonly identity: string;

  constructor(private readonly opts: DispatcherOptions) {
    this.callTimeoutMs = opts.callTimeoutMs ?? 5_000;
    this.rememberEvents = opts.rememberEvents ?? 50_000;
    this.identity = opts.identity ?? `fleetops-router@${process.pid}`;
  }

  /** Carries out one event's decision. Throws TemporalUnavailableError when the sender should retry. */
  async dispatch(eventId: string, kind: string, decision: RouteDecision, transport: Transport): Promise<DispatchResult> {
    const result = await this.carryOut(eventId, decision, transport);
    this.opts.metrics.routed.inc({ action: result.action, kind, transport });
    if (result.action === 'ignored') this.opts.metrics.ignored.inc({ kind, transport });
    return result;
  }

  /** As dispatch, without counting an event: for calls that are not one event's (router/head-start.ts). */
  carryOut(eventId: string, decision: RouteDecision, transport: Transport): Promise<DispatchResult> {
    return this.serialized(`${decision.workflowId}\u0000${eventId}`, () => this.dispatchNow(eventId, decision, transport));
  }

  private async dispatchNow(eventId: string, decision: RouteDecision, transport: Transport): Promise<DispatchResult> {
    if (decision.action === 'ignore') return { eventId, action: 'ignored', workflowId: decision.workflowId };
    const key = `${decision.workflowId}\u0000${eventId}`;
    if (this.remembered.has(key)) return { eventId, action: 'duplicate', workflowId: decision.workflowId };

    const action = await this.call(decision, eventId, transport);
    if (action !== 'ignored') this.remember(key, decision.workflowId);
    return { eventId, action, workflowId: decision.workflowId };
  }

  private remember(key: string, workflowId: string): void {
    this.remembered.set(key, workflowId);
    if (this.remembered.size > this.rememberEvents) {
      // Maps iterate in insertion order: the first key is the oldest.
      const oldest = this.remembered.keys().next().value;
      if (oldest !== undefined) this.remembered.delete(oldest);
    }
  }

  private async serialized<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return run;
  }

  private async call(decision: Exclude<RouteDecision, { action: 'ignore' }>, eventId: string, transport: Transport): Promise<DispatchAction> {
    const started = process.hrtime.bigint();
    let outcome = 'error';
    try {
      const action = await this.opts.connection.withDeadline(Date.now() + this.callTimeoutMs, () => this.tracedRpc(decision, eventId));
      outcome = action;
      return action;
    } catch (err) {
      if (isTemporalOutage(err)) {
        // The describe before a start already classified its own failure.
        this.opts.metrics.failed.inc({ reason: err instanceof TemporalRefusedError ? 'temporal_refused' : 'temporal_unavailable', transport });
        throw err;
      }
      const { class: kind, code } = classifyTemporalError(err, decision.action);
      const details = isGrpcServiceError(err) ? err.details || err.message : '';
      if (kind === 'duplicate') return (outcome = 'duplicate');
      if (kind === 'not-running') return (outcome = 'ignored');
      if (kind === 'unavailable') {
        this.opts.metrics.failed.inc({ reason: 'temporal_unavailable', transport });
        throw new TemporalUnavailableError(`temporal unavailable: ${details}`, code);
      }
      if (kind === 'refused') {
        this.opts.metrics.failed.inc({ reason: 'temporal_refused', transport });
        throw new TemporalRefusedError(`temporal refused the router (${code}): ${details}`, code);
      }
      this.opts.metrics.failed.inc({ reason: 'temporal_error', transport });
      throw err;
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.opts.metrics.temporalLatency.observe({ operation: decision.action, outcome }, seconds);
    }
  }

  /**
   * The call in a client span named as the SDK's client interceptor names it (StartWorkflow:<type>,
   * SignalWithStartWorkflow:<type>, SignalWorkflow:<signal>), whose context goes into the request's
   * Temporal header as the interceptor would put it; the workflow's spans continue the trace.
   */
  private tracedRpc(decision: Exclude<RouteDecision, { action: 'ignore' }>, eventId: string): Promise<DispatchAction> {
    const name =
      decision.action === 'signal'
        ? `SignalWorkflow:${decision.signal.name}`
        : decision.action === 'start'
          ? `StartWorkflow:${decision.workflowType}`
          : `SignalWithStartWorkflow:${decision.workflowType}`;
    return fleetopsTracer().startActiveSpan(name, { kind: SpanKind.CLIENT, attributes: { temporalWorkflowId: decision.workflowId } }, async (span) => {
      try {
        const action = await this.rpc(decision, eventId, traceHeaderFields());
        span.setAttribute('fleetops.action', action);
        return action;
      } catch (err) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
        throw err;
      } finally {
        span.end();
      }
    });
  }

  private async rpc(
    decision: Exclude<RouteDecision, { action: 'ignore' }>,
    eventId: string,
    traceFields: Record<string, Payload> | undefined,
  ): Promise<DispatchAction> {
    const service = this.opts.connection.workflowService;
    const namespace = this.opts.namespace;
    const requestId = requestIdFor(eventId, decision.workflowId);
    const header = traceFields ? { header: { fields: traceFields } } : {};
    if (decision.action === 'signal') {
      await service.signalWorkflowExecution({
        namespace,
        identity: this.identity,
        requestId,
        workflowExecution: { workflowId: decision.workflowId },
        signalName: decision.signal.name,
        input: { payloads: toPayloads(defaultPayloadConverter, decision.signal.arg) },
        ...header,
      });
      return 'signaled';
    }
    const common = {
      namespace,
      identity: this.identity,
      requestId,
      workflowId: decision.workflowId,
      workflowType: { name: decision.workflowType },
      taskQueue: { name: decision.taskQueue },
      input: { payloads: toPayloads(defaultPayloadConverter, ...decision.args) },
      workflowIdReusePolicy: encodeWorkflowIdReusePolicy(decision.reusePolicy),
      workflowIdConflictPolicy: encodeWorkflowIdConflictPolicy('FAIL'),
      searchAttributes: { indexedFields: encodeUnifiedSearchAttributes(undefined, decision.searchAttributes) },
      userMetadata: { summary: defaultPayloadConverter.toPayload(decision.staticSummary) },
      // Which event started the run: shown to operators, and read back to recognise a redelivery.
      memo: { fields: { [MEMO_EVENT_ID]: defaultPayloadConverter.toPayload(eventId) } },
      ...(decision.priority ? { priority: { priorityKey: decision.priority.priorityKey } } : {}),
      // Trace context for the workflow (and, on signal-with-start, its signal handler).
      ...header,
    };
    if (decision.action === 'start') {
      if (await currentRunHandled(service, namespace, decision.workflowId, eventId)) return 'duplicate';
      await service.startWorkflowExecution(common);
      return 'started';
    }
    const signalWithStart = (reusePolicy: WorkflowIdReusePolicy) =>
      service.signalWithStartWorkflowExecution({
        ...common,
        workflowIdReusePolicy: encodeWorkflowIdReusePolicy(reusePolicy),
        // Signal-with-start ignores the conflict policy's FAIL: a running workflow is always signaled.
        workflowIdConflictPolicy: undefined,
        signalName: decision.signal.name,
        signalInput: { payloads: toPayloads(defaultPayloadConverter, decision.signal.arg) },
      });
    let res;
    try {
      res = await signalWithStart(decision.reusePolicy);
    } catch (err) {
      const memoKey = decision.handledEventsMemo;
      if (!memoKey || classifyTemporalError(err, 'signalWithStart').class !== 'duplicate') throw err;
      // A completed run holds the id. The server's request-id dedup does not reach a closed run, so the
      // run's own list of the events it handled tells a redelivery from the next real event.
      if (await currentRunHandled(service, namespace, decision.workflowId, eventId, memoKey)) return 'duplicate';
      res = await signalWithStart('ALLOW_DUPLICATE');
    }
    return res.started ? 'started' : 'signaled';
  }

  /**
   * Whether the router may call Temporal again: DescribeNamespace, a cheap call that needs what a
   * start needs (an answer, valid credentials, the namespace) where GetSystemInfo needs only an answer.
   */
  async probe(timeoutMs = 2_000): Promise<{ ok: true } | { ok: false; code: string; error: string }> {
    try {
      await this.opts.connection.withDeadline(Date.now() + timeoutMs, () =>
        this.opts.connection.workflowService.describeNamespace({ namespace: this.opts.namespace }),
      );
      return { ok: true };
    } catch (err) {
      return isGrpcServiceError(err) ? { ok: false, code: grpcCodeName(err.code), error: err.details || err.message } : { ok: false, code: 'NONE', error: String(err) };
    }
  }

  /** Whether Temporal answers now (GET /readyz). */
  async ready(timeoutMs = 2_000): Promise<{ ok: true } | { ok: false; error: string }> {
    try {
      await this.opts.connection.withDeadline(Date.now() + timeoutMs, () =>
        this.opts.connection.workflowService.getSystemInfo({}),
      );
      return { ok: true };
    } catch (err) {
      return { ok: false, error: isGrpcServiceError(err) ? err.details || err.message : String(err) };
    }
  }
}
