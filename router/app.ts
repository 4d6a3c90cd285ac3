import type { SQSClient } from '@aws-sdk/client-sqs';
import { Client, type Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../common/logger';
import type { FleetopsConfig } from '../config/schema';
import { Dispatcher } from './dispatch';
import { createHttpServer } from './http';
import { createRouterMetrics, type RouterMetrics } from './metrics';
import type { RouteOptions } from './routes';
import { mountSlackApp } from './slack/app';
import { SqsConsumer, type SqsConsumerOptions } from './sqs-consumer';

/** The router's parts wired together; main.ts adds the process (env, ports, signals), tests use it in-process. */
export interface RouterOptions {
  config: FleetopsConfig;
  connection: Connection;
  namespace: string;
  token: string;
  log: Logger;
  routeOptions?: RouteOptions;
  sqs?: Pick<SqsConsumerOptions, 'maxInFlight' | 'waitTimeSeconds' | 'visibilityTimeoutSeconds' | 'onSettled'> & { client: SQSClient; queueUrl: string };
  callTimeoutMs?: number;
}

export interface Router {
  http: FastifyInstance;
  metrics: RouterMetrics;
  dispatcher: Dispatcher;
  consumer?: SqsConsumer;
  /** Starts the SQS consumer, if configured (the HTTP server is started by the caller: listen or inject). */
  start(): Promise<void>;
  /** Stop receiving, finish what is in flight, close the HTTP server. Does not close the connection. */
  stop(): Promise<void>;
}

export function createRouter(opts: RouterOptions): Router {
  const metrics = createRouterMetrics();
  const dispatcher = new Dispatcher({ connection: opts.connection, namespace: opts.namespace, metrics, callTimeoutMs: opts.callTimeoutMs });
  let accepting = true;
  const pipeline = { config: opts.config, dispatcher, metrics, log: opts.log, routeOptions: opts.routeOptions };
  const http = createHttpServer({ ...pipeline, token: opts.token, isAccepting: () => accepting });
  // The Slack app (POST /slack/events) when the config has a `slack` section.
  if (opts.config.slack) {
    const temporal = new Client({ connection: opts.connection, namespace: opts.namespace });
    mountSlackApp(http, { config: opts.config, slack: opts.config.slack, temporal, log: opts.log, metrics, callTimeoutMs: opts.callTimeoutMs });
  }
  const consumer = opts.sqs
    ? new SqsConsumer({
        ...pipeline,
        sqs: opts.sqs.client,
        queueUrl: opts.sqs.queueUrl,
        maxInFlight: opts.sqs.maxInFlight,
        waitTimeSeconds: opts.sqs.waitTimeSeconds,
        visibilityTimeoutSeconds: opts.sqs.visibilityTimeoutSeconds,
        onSettled: opts.sqs.onSettled,
      })
    : undefined;
  return {
    http,
    metrics,
    dispatcher,
    consumer,
    async start() {
      await consumer?.start();
    },
    async stop() {
      accepting = false;
      await Promise.all([consumer?.stop(), http.close()]);
    },
  };
}
