import type { SQSClient } from '@aws-sdk/client-sqs';
import { Client, type Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../common/logger';
import type { FleetopsConfig } from '../config/schema';
import { Dispatcher } from './dispatch';
import type { RouterToken } from './authority';
import { createHttpServer, HTTP_TEMPORAL_DEADLINE_MS, type HttpLimits } from './http';
import { createListener, type HttpTimeouts } from './listener';
import { createRouterMetrics, type RouterMetrics } from './metrics';
import type { RouteOptions } from './routes';
import { mountSlackApp } from './slack/app';
import { SqsConsumer, type SqsConsumerOptions } from './sqs-consumer';

/** The router's parts wired together; main.ts adds the process (env, ports, signals), tests use it in-process. */
export interface RouterOptions {
  config: FleetopsConfig;
  connection: Connection;
  namespace: string;
  /** POST /events' bearer tokens: FLEETOPS_ROUTER_TOKEN as `default`, and the config's router.tokens (router/tokens.ts). */
  tokens: readonly RouterToken[];
  log: Logger;
  routeOptions?: RouteOptions;
  sqs?: Pick<SqsConsumerOptions, 'maxInFlight' | 'receivers' | 'waitTimeSeconds' | 'visibilityTimeoutSeconds' | 'probeIntervalMs' | 'maxProbeIntervalMs' | 'dlqPollMs' | 'onSettled'> & {
    client: SQSClient;
    /** The events queue: EventBridge envelopes. */
    queueUrl: string;
    /**
     * The lifecycle queue: ASG lifecycle notifications sent straight to SQS, consumed the same way. Its
     * dead-letter queue is the events queue's in the kit, watched by the events queue's consumer.
     */
    lifecycleQueueUrl?: string;
  };
  /** Deadline of one Temporal call for SQS messages (default 5 s; nobody waits on them). */
  callTimeoutMs?: number;
  /** Deadline of one Temporal call for an HTTP request (default HTTP_TEMPORAL_DEADLINE_MS, so a 503 comes within 2 s). */
  httpCallTimeoutMs?: number;
  /** HTTP header, request and idle deadlines (router/listener.ts has the defaults). */
  httpTimeouts?: Partial<HttpTimeouts>;
  /** Per-request fan-out and requests in flight on POST /events (router/http.ts has the defaults). */
  httpLimits?: Partial<HttpLimits>;
  /**
   * Serve Slack (/slack/*) on a listener of its own (`slackHttp`), the only one exposed to the
   * internet; the internal listener then serves no /slack/* route. Unset: Slack shares the internal
   * listener (the old layout; production should not).
   */
  separateSlackListener?: boolean;
}

export interface Router {
  /** The internal listener: /events, /healthz, /readyz, /metrics (and /slack/* without separateSlackListener). */
  http: FastifyInstance;
  /** The Slack listener (/slack/* only), with separateSlackListener and a `slack` config section. */
  slackHttp?: FastifyInstance;
  metrics: RouterMetrics;
  dispatcher: Dispatcher;
  consumer?: SqsConsumer;
  /** The lifecycle queue's consumer, with sqs.lifecycleQueueUrl. */
  lifecycleConsumer?: SqsConsumer;
  /** Starts the SQS consumers, if configured (the HTTP server is started by the caller: listen or inject). */
  start(): Promise<void>;
  /** Stop receiving, finish what is in flight, close the HTTP server. Does not close the connection. */
  stop(): Promise<void>;
}

export function createRouter(opts: RouterOptions): Router {
  const metrics = createRouterMetrics();
  const dispatcher = new Dispatcher({ connection: opts.connection, namespace: opts.namespace, metrics, callTimeoutMs: opts.callTimeoutMs });
  // HTTP senders wait on the answer: a Temporal that does not answer within 1.5 s gets them a 503
  // (with Retry-After) inside 2 s. Its own dispatcher, so the SQS consumer keeps its longer deadline;
  // both carry an event out at most once (the server dedupes by request id).
  const httpDispatcher = new Dispatcher({ connection: opts.connection, namespace: opts.namespace, metrics, callTimeoutMs: opts.httpCallTimeoutMs ?? HTTP_TEMPORAL_DEADLINE_MS });
  let accepting = true;
  const pipeline = { config: opts.config, dispatcher, metrics, log: opts.log, routeOptions: opts.routeOptions };
  const background = new Set<Promise<unknown>>();
  const http = createHttpServer({
    ...pipeline,
    dispatcher: httpDispatcher,
    tokens: opts.tokens,
    limits: opts.httpLimits,
    timeouts: opts.httpTimeouts,
    background,
    isAccepting: () => accepting,
  });
  // The Slack app (POST /slack/events) when the config has a `slack` section.
  let slackHttp: FastifyInstance | undefined;
  if (opts.config.slack) {
    const temporal = new Client({ connection: opts.connection, namespace: opts.namespace });
    if (opts.separateSlackListener) slackHttp = createListener(metrics, opts.httpTimeouts);
    mountSlackApp(slackHttp ?? http, { config: opts.config, slack: opts.config.slack, temporal, log: opts.log, metrics, callTimeoutMs: opts.callTimeoutMs });
  }
  const consumer = opts.sqs
    ? new SqsConsumer({
        ...pipeline,
        ...opts.sqs,
        sqs: opts.sqs.client,
        feed: 'eventbridge',
      })
    : undefined;
  const lifecycleConsumer = opts.sqs?.lifecycleQueueUrl
    ? new SqsConsumer({
        ...pipeline,
        ...opts.sqs,
        sqs: opts.sqs.client,
        queueUrl: opts.sqs.lifecycleQueueUrl,
        feed: 'asg-notifications',
        // Little traffic (one message per lifecycle action): one receiver is plenty.
        receivers: 1,
        dlqPollMs: 0,
      })
    : undefined;
  return {
    http,
    slackHttp,
    metrics,
    dispatcher,
    consumer,
    lifecycleConsumer,
    async start() {
      await Promise.all([consumer?.start(), lifecycleConsumer?.start()]);
    },
    async stop() {
      accepting = false;
      await Promise.all([consumer?.stop(), lifecycleConsumer?.stop(), http.close(), slackHttp?.close()]);
      // Calls of requests answered 503 at their deadline end within their own deadline (plus a retry backoff).
      // Loop: a batch's other lanes may start calls while earlier ones are being waited for.
      while (background.size > 0) await Promise.all([...background]);
    },
  };
}
