import { Writable } from 'node:stream';
import type { Connection, WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import pino from 'pino';
import type { Logger } from '../../common/logger';
import { createRouter, type Router, type RouterOptions } from '../../router/app';
import { DEFAULT_TOKEN_NAME, DEFAULT_TOKEN_SCOPES, SCOPES, type RouterToken } from '../../router/authority';
import type { TestWorld } from './fixtures';

/** An in-process router against the dev server, with its log lines captured for assertions. */
/** FLEETOPS_ROUTER_TOKEN's part: the token named `default`, scopes deploy and incident. */
export const TEST_TOKEN = 'router-test-token-0123456789abcdef';
/** A token with the aws-events scope only (as the local stack's router.awsEventsToken). */
export const AWS_EVENTS_TEST_TOKEN = 'router-test-aws-events-0123456789';
/** Every scope: what `post` sends with unless told otherwise, for tests of routing rather than authority. */
export const ALL_SCOPES_TEST_TOKEN = 'router-test-all-scopes-0123456789';

export const TEST_TOKENS: readonly RouterToken[] = [
  { name: DEFAULT_TOKEN_NAME, secret: TEST_TOKEN, scopes: DEFAULT_TOKEN_SCOPES },
  { name: 'aws-events', secret: AWS_EVENTS_TEST_TOKEN, scopes: ['aws-events'] },
  { name: 'ops', secret: ALL_SCOPES_TEST_TOKEN, scopes: SCOPES },
];

export const bearer = (token: string): { authorization: string } => ({ authorization: `Bearer ${token}` });

export interface TestRouter extends Router {
  url: string;
  /** The Slack listener's URL, when the router has one (separateSlackListener and a slack section). */
  slackUrl?: string;
  logs: string[];
  /** POST /events with ALL_SCOPES_TEST_TOKEN unless `headers` has another authorization. */
  post(body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
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
  const router = createRouter({ config: world.config, connection, namespace: 'default', tokens: TEST_TOKENS, log: captureLogger(logs), ...extra });
  const url = await router.http.listen({ host: '127.0.0.1', port: 0 });
  const slackUrl = router.slackHttp ? await router.slackHttp.listen({ host: '127.0.0.1', port: 0 }) : undefined;
  await router.start();
  return Object.assign(router, {
    url,
    slackUrl,
    logs,
    async post(body: unknown, headers: Record<string, string> = {}) {
      const res = await fetch(`${url}/events`, {
        method: 'POST',
        headers: { ...bearer(ALL_SCOPES_TEST_TOKEN), 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
      });
      const text = await res.text();
      // Not enumerable: tests compare { status, body } with toEqual.
      return Object.defineProperty({ status: res.status, body: text ? JSON.parse(text) : undefined }, 'headers', { value: res.headers, enumerable: false }) as { status: number; body: any; headers: Headers };
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
