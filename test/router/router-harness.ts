import { Writable } from 'node:stream';
import type { Connection, WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import pino from 'pino';
import type { Logger } from '../../common/logger';
import { createRouter, type Router, type RouterOptions } from '../../router/app';
import type { TestWorld } from './fixtures';

/** An in-process router against the dev server, with its log lines captured for assertions. */
export const TEST_TOKEN = 'router-test-token-0123456789abcdef';

export interface TestRouter extends Router {
  url: string;
  logs: string[];
  post(body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  get(path: string): Promise<{ status: number; text: string }>;
}

export function captureLogger(lines: string[], level = 'info'): Logger {
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return pino({ level, redact: { paths: ['authorization', '*.authorization'], censor: '[redacted]' } }, sink);
}

/** Listens on a free port: tests talk real HTTP to it (fastify's inject cannot load under jest's CJS runtime). */
export async function startTestRouter(
  world: TestWorld,
  connection: Connection,
  extra: Partial<RouterOptions> = {},
): Promise<TestRouter> {
  const logs: string[] = [];
  const router = createRouter({ config: world.config, connection, namespace: 'default', token: TEST_TOKEN, log: captureLogger(logs), ...extra });
  const url = await router.http.listen({ host: '127.0.0.1', port: 0 });
  await router.start();
  return Object.assign(router, {
    url,
    logs,
    async post(body: unknown, headers: Record<string, string> = {}) {
      const res = await fetch(`${url}/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    async get(path: string) {
      const res = await fetch(`${url}${path}`);
      return { status: res.status, text: await res.text() };
    },
  });
}

/** Start input and signals of a workflow, decoded from its history. */
export async function startedWith(handle: WorkflowHandle): Promise<{ args: unknown[]; signals: { name: string; arg: unknown }[] }> {
  const history = await handle.fetchHistory();
  const events = history.events ?? [];
  const started = events[0]?.workflowExecutionStartedEventAttributes;
  const args = (started?.input?.payloads ?? []).map((p) => defaultPayloadConverter.fromPayload(p));
  const signals = events
    .map((e) => e.workflowExecutionSignaledEventAttributes)
    .filter((s): s is NonNullable<typeof s> => Boolean(s))
    .map((s) => ({ name: s.signalName ?? '', arg: defaultPayloadConverter.fromPayload(s.input?.payloads?.[0] ?? {}) }));
  return { args, signals };
}

export async function metricValue(router: Router, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = await router.metrics.registry.getSingleMetric(name)?.get();
  if (!metric) return 0;
  return metric.values
    .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
    .reduce((sum, v) => sum + v.value, 0);
}

export type { TestWorkflowEnvironment };

/** Observations of a histogram (its `_count`), optionally for some labels. */
export async function histogramCount(router: Router, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = await router.metrics.registry.getSingleMetric(name)?.get();
  if (!metric) return 0;
  return metric.values
    .filter((v) => (v as { metricName?: string }).metricName === `${name}_count`)
    .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
    .reduce((sum, v) => sum + v.value, 0);
}
