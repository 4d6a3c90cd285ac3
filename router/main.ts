/**
 * The fleetops router process: HTTP API on FLEETOPS_ROUTER_HOST:FLEETOPS_ROUTER_PORT (127.0.0.1:8787)
 * and, when FLEETOPS_EVENTS_QUEUE_URL is set, the SQS consumer.
 *
 * Env (router/env.ts validates it; a bad value exits 2 naming the variable): FLEETOPS_CONFIG (config
 * path), FLEETOPS_ROUTER_TOKEN (required bearer token), Temporal connection settings as
 * common/temporal-connection.ts resolves them (FLEETOPS_TEMPORAL_*, TEMPORAL_* with TLS / API key /
 * profile, then the config), FLEETOPS_ROUTER_DRY_RUN=1 (every workflow starts with dryRun),
 * FLEETOPS_AWS_ENDPOINT (override config.aws.endpoint for SQS), FLEETOPS_ROUTER_SQS_MAX_IN_FLIGHT
 * (messages worked on at once, default 40), OTEL_EXPORTER_OTLP_ENDPOINT (tracing on, common/tracing.ts).
 *
 * SIGTERM/SIGINT: stop receiving, finish in-flight requests and messages, exit 0 — within 10 s; what
 * is still unfinished then was not deleted from the queue and is redelivered.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { createLogger } from '../common/logger';
import { describeTarget, explainConnectError, lazyClientConnection, resolveProcessTarget } from '../common/temporal-connection';
import { setupTracing } from '../common/tracing';
import { configPath, loadConfigOrExit } from '../config/load';
import { createRouter } from './app';
import { parseRouterEnv } from './env';

const SHUTDOWN_BUDGET_MS = 9_000;

async function main(): Promise<void> {
  const log = createLogger('router');
  // First: spans need the context manager and propagator before anything runs.
  const tracing = setupTracing('router');
  const config = loadConfigOrExit();
  const parsedEnv = parseRouterEnv(process.env);
  if (!parsedEnv.ok) {
    for (const e of parsedEnv.errors) process.stderr.write(`fleetops router: ${e}\n`);
    process.exit(2);
  }
  const env = parsedEnv.env;
  const token = env.FLEETOPS_ROUTER_TOKEN;
  const target = resolveProcessTarget(config, configPath());
  const { namespace } = target;
  const host = env.FLEETOPS_ROUTER_HOST;
  const port = env.FLEETOPS_ROUTER_PORT;
  const queueUrl = env.FLEETOPS_EVENTS_QUEUE_URL;
  const dryRun = env.FLEETOPS_ROUTER_DRY_RUN === '1';

  // Lazy: the router comes up while Temporal is down (/readyz says so, /events answers 503).
  // Reconnects within 2 s of Temporal coming back (gRPC's own backoff grows to 120 s): the SQS consumer
  // resumes receiving, and /readyz turns 200, that soon after an outage.
  const connection = lazyClientConnection(target, { channelArgs: { 'grpc.initial_reconnect_backoff_ms': 250, 'grpc.max_reconnect_backoff_ms': 2_000 } });
  const endpoint = process.env.FLEETOPS_AWS_ENDPOINT ?? config.aws.endpoint;
  const sqsClient = queueUrl ? new SQSClient({ region: config.aws.region, ...(endpoint ? { endpoint } : {}) }) : undefined;
  const router = createRouter({
    config,
    connection,
    namespace,
    token,
    log,
    routeOptions: { dryRun },
    sqs: sqsClient && queueUrl ? { client: sqsClient, queueUrl, maxInFlight: env.FLEETOPS_ROUTER_SQS_MAX_IN_FLIGHT } : undefined,
  });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'router stopping');
    const force = setTimeout(() => {
      log.warn('in-flight work did not finish in time; unfinished SQS messages will be redelivered');
      process.exit(0);
    }, SHUTDOWN_BUDGET_MS);
    force.unref();
    router
      .stop()
      .then(() => connection.close())
      .then(() => tracing.shutdown())
      .then(() => {
        sqsClient?.destroy();
        log.info('router stopped');
        process.exit(0);
      })
      .catch((err: unknown) => {
        log.error({ err: String(err) }, 'error while stopping');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  await router.http.listen({ host, port });
  await router.start();
  log.info({ url: `http://${host}:${port}`, temporal: describeTarget(target), sqs: queueUrl ?? null, dryRun, tracing: tracing.enabled }, 'router listening');
  // Say once, at start, why Temporal cannot be reached (a TLS or API key setting), not only "503".
  const ready = await router.dispatcher.ready();
  if (!ready.ok) log.warn({ temporal: describeTarget(target) }, `temporal not reachable yet: ${await explainConnectError(new Error(ready.error), target)}`);
}

main().catch((err) => {
  process.stderr.write(`fleetops router: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
