import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { METRICS } from '../common/metric-names';

/**
 * The router's Prometheus metrics (GET /metrics). One registry per router instance so tests can run
 * several routers in one process and read each one's counts. Names, help, labels and buckets are in
 * the table every exported metric is listed in (common/metric-names.ts), which dashboards read too.
 */
export type Transport = 'http' | 'sqs';

interface Spec<L extends string> {
  name: string;
  help: string;
  labels: readonly L[];
  buckets?: readonly number[];
}

export function createRouterMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'fleetops_router_' });
  const counter = <L extends string>(m: Spec<L>) => new Counter<L>({ name: m.name, help: m.help, labelNames: m.labels, registers: [registry] });
  const gauge = <L extends string>(m: Spec<L>) => new Gauge<L>({ name: m.name, help: m.help, labelNames: m.labels, registers: [registry] });
  const histogram = <L extends string>(m: Spec<L>) =>
    new Histogram<L>({ name: m.name, help: m.help, labelNames: m.labels, buckets: [...(m.buckets ?? [])], registers: [registry] });
  return {
    registry,
    received: counter(METRICS.routerEventsReceived),
    routed: counter(METRICS.routerEventsRouted),
    headStart: counter(METRICS.routerDrainHeadStart),
    ignored: counter(METRICS.routerEventsIgnored),
    invalid: counter(METRICS.routerEventsInvalid),
    failed: counter(METRICS.routerEventsFailed),
    temporalLatency: histogram(METRICS.routerTemporalCall),
    sqsMessages: counter(METRICS.routerSqsMessages),
    sqsVisibilityExtensions: counter(METRICS.routerSqsVisibilityExtensions),
    eventAge: histogram(METRICS.routerEventAge),
    sqsQueueTime: histogram(METRICS.routerSqsMessageSeconds),
    sqsCall: histogram(METRICS.routerSqsCall),
    sqsReceivingPaused: gauge(METRICS.routerSqsReceivingPaused),
    sqsReceivingPauses: counter(METRICS.routerSqsReceivingPauses),
    httpResponses: counter(METRICS.routerHttpResponses),
    dlqDepth: gauge(METRICS.routerDlqMessages),
    dlqOldestAge: gauge(METRICS.routerDlqOldestAge),
  };
}

export type RouterMetrics = ReturnType<typeof createRouterMetrics>;
