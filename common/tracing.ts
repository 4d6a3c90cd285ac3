import { context, propagation, trace, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, NoopSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { Payload } from '@temporalio/common';
// The interceptors' own header codec (not re-exported from the package root), so the router's raw
// WorkflowService calls carry trace context exactly as the SDK client interceptor would.
import { headersWithContext } from '@temporalio/interceptors-opentelemetry/lib/instrumentation';

/**
 * OpenTelemetry tracing for the worker and the router: workflows, activities and the router's
 * starts and signals, one trace per event from the router's accept to the last activity. On when
 * OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, exported over
 * OTLP/HTTP (JSON) with the exporter's standard env (OTEL_EXPORTER_OTLP_HEADERS, …); off otherwise,
 * and off with OTEL_SDK_DISABLED=true. OTEL_SERVICE_NAME overrides `fleetops-<process>`.
 *
 * Propagation: W3C trace context, carried in Temporal headers under the interceptors' `_tracer-data`
 * key (@temporalio/interceptors-opentelemetry): router → workflow → activities.
 */
export interface Tracing {
  enabled: boolean;
  serviceName: string;
  resource: Resource;
  /** Where workflow spans (sent out of the sandbox through a sink) and all others end up. */
  spanProcessor: SpanProcessor;
  tracer: Tracer;
  /** Flushes what is buffered (tests, shutdown). */
  flush(): Promise<void>;
  /** Flushes and unregisters the global provider. */
  shutdown(): Promise<void>;
}

export function tracingEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  if ((env.OTEL_SDK_DISABLED ?? '').toLowerCase() === 'true') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/**
 * Sets up tracing for one process (call once, first thing). `spanProcessor` replaces the OTLP
 * exporter (a test's in-memory one) and turns tracing on regardless of the env.
 */
export function setupTracing(processName: string, opts: { env?: NodeJS.ProcessEnv; spanProcessor?: SpanProcessor } = {}): Tracing {
  const env = opts.env ?? process.env;
  const serviceName = env.OTEL_SERVICE_NAME || `fleetops-${processName}`;
  const resource = new Resource({ [ATTR_SERVICE_NAME]: serviceName });
  const enabled = opts.spanProcessor !== undefined || tracingEnabled(env);
  if (!enabled) {
    const spanProcessor = new NoopSpanProcessor();
    return {
      enabled,
      serviceName,
      resource,
      spanProcessor,
      tracer: trace.getTracer('fleetops'),
      flush: async () => undefined,
      shutdown: async () => undefined,
    };
  }
  // The exporter reads OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT and _HEADERS itself (from process.env).
  const spanProcessor = opts.spanProcessor ?? new BatchSpanProcessor(new OTLPTraceExporter());
  const provider = new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  provider.register({ contextManager, propagator: new W3CTraceContextPropagator() });
  return {
    enabled,
    serviceName,
    resource,
    spanProcessor,
    tracer: trace.getTracer('fleetops'),
    flush: () => provider.forceFlush(),
    async shutdown() {
      await provider.shutdown();
      contextManager.disable();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

/** The tracer for fleetops' own spans (the router's accept); a no-op tracer while tracing is off. */
export function fleetopsTracer(): Tracer {
  return trace.getTracer('fleetops');
}

/**
 * Temporal header fields carrying the active trace context, for requests made on the
 * WorkflowService directly (router/dispatch.ts); `undefined` when there is nothing to carry.
 */
export function traceHeaderFields(): Record<string, Payload> | undefined {
  const fields = headersWithContext({});
  const payload = Object.values(fields)[0];
  // An empty carrier ({}), i.e. no active span or tracing off, is not worth a header.
  return payload && payload.data && payload.data.length > 2 ? fields : undefined;
}
