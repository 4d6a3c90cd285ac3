import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The router's Prometheus metrics (GET /metrics). One registry per router instance so tests can run
 * several routers in one process and read each one's counts.
 */
export type Transport = 'http' | 'sqs';

export function createRouterMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'fleetops_router_' });
  return {
    registry,
    received: new Counter({
      name: 'fleetops_router_events_received_total',
      help: 'Valid events received, by event kind (unknown kinds as "unknown") and transport.',
      labelNames: ['kind', 'transport'] as const,
      registers: [registry],
    }),
    routed: new Counter({
      name: 'fleetops_router_events_routed_total',
      help: 'Events carried out, by result action (started, signaled, duplicate, ignored) and event kind.',
      labelNames: ['action', 'kind', 'transport'] as const,
      registers: [registry],
    }),
    headStart: new Counter({
      name: 'fleetops_router_drain_head_start_total',
      help: 'Instances sent to a drain coordinator ahead of their drains (router/head-start.ts), by outcome (sent, duplicate, failed).',
      labelNames: ['outcome', 'transport'] as const,
      registers: [registry],
    }),
    ignored: new Counter({
      name: 'fleetops_router_events_ignored_total',
      help: 'Events no route matched or whose target workflow was not running, by event kind.',
      labelNames: ['kind', 'transport'] as const,
      registers: [registry],
    }),
    invalid: new Counter({
      name: 'fleetops_router_events_invalid_total',
      help: 'Requests or messages rejected before routing, by reason (json, validation, auth, too_large, content_type, ...).',
      labelNames: ['reason', 'transport'] as const,
      registers: [registry],
    }),
    failed: new Counter({
      name: 'fleetops_router_events_failed_total',
      help: 'Events not carried out because a Temporal call failed (sender retries), by reason.',
      labelNames: ['reason', 'transport'] as const,
      registers: [registry],
    }),
    temporalLatency: new Histogram({
      name: 'fleetops_router_temporal_call_seconds',
      help: 'Latency of the Temporal start / signal-with-start / signal call per event, by operation and outcome.',
      labelNames: ['operation', 'outcome'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    sqsMessages: new Counter({
      name: 'fleetops_router_sqs_messages_total',
      help: 'SQS messages by what became of them (received, deleted, poison, retry).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    sqsVisibilityExtensions: new Counter({
      name: 'fleetops_router_sqs_visibility_extensions_total',
      help: 'Visibility timeout extensions for messages whose start took long (or that wait for Temporal).',
      registers: [registry],
    }),
    eventAge: new Histogram({
      name: 'fleetops_router_event_age_seconds',
      help: "Event time (the envelope's `time`) to the event's workflow start or signal accepted by Temporal, by event kind and transport.",
      labelNames: ['kind', 'transport'] as const,
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600],
      registers: [registry],
    }),
    sqsQueueTime: new Histogram({
      name: 'fleetops_router_sqs_message_seconds',
      help: "SQS message SentTimestamp to the message deleted after its events were carried out: the queue's part of an event's age.",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300],
      registers: [registry],
    }),
    sqsCall: new Histogram({
      name: 'fleetops_router_sqs_call_seconds',
      help: 'SQS API call latency by operation (ReceiveMessage includes its long-poll wait) and outcome.',
      labelNames: ['operation', 'outcome'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20],
      registers: [registry],
    }),
    sqsReceivingPaused: new Gauge({
      name: 'fleetops_router_sqs_receiving_paused',
      help: '1 while the SQS consumer has stopped receiving because Temporal does not answer or refuses the router (credentials, namespace, cluster setup); events wait on the queue. Else 0.',
      registers: [registry],
    }),
    sqsReceivingPauses: new Counter({
      name: 'fleetops_router_sqs_receiving_pauses_total',
      help: 'Times the SQS consumer stopped receiving, by the gRPC status that made it (UNAVAILABLE, DEADLINE_EXCEEDED, UNAUTHENTICATED, PERMISSION_DENIED, NOT_FOUND, INVALID_ARGUMENT, ...).',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    httpResponses: new Counter({
      name: 'fleetops_router_http_responses_total',
      help: 'HTTP responses of both listeners, by route (the matched route pattern, "unmatched" for a 404 with none) and status code: 503s on /events are senders told to retry.',
      labelNames: ['route', 'code'] as const,
      registers: [registry],
    }),
    dlqDepth: new Gauge({
      name: 'fleetops_router_dlq_messages',
      help: "Messages in the events queue's dead-letter queue (visible and in flight), as SQS approximates them.",
      registers: [registry],
    }),
    dlqOldestAge: new Gauge({
      name: 'fleetops_router_dlq_oldest_message_age_seconds',
      help: "Age (from SentTimestamp) of the oldest message seen in the dead-letter queue; 0 when it is empty. Sampled: SQS returns a subset per receive.",
      registers: [registry],
    }),
  };
}

export type RouterMetrics = ReturnType<typeof createRouterMetrics>;
