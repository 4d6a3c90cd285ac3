/**
 * The fleetops router process: HTTP API on FLEETOPS_ROUTER_HOST:FLEETOPS_ROUTER_PORT (127.0.0.1:8787)
 * and, when FLEETOPS_EVENTS_QUEUE_URL is set, the SQS consumer (and FLEETOPS_LIFECYCLE_QUEUE_URL: the
 * lifecycle queue's, for ASG lifecycle notifications sent straight to SQS). With a `slack` config section and
 * FLEETOPS_SLACK_PORT, Slack (/slack/*) is served on a listener of its own (FLEETOPS_SLACK_HOST,
 * default FLEETOPS_ROUTER_HOST): the only one to expose to the internet. Without FLEETOPS_SLACK_PORT
 * Slack shares the internal listener with /events and /metrics (the old layout: production should
 * set it).
 *
 * Env (router/env.ts validates it; a bad value exits 2 naming the variable): FLEETOPS_CONFIG (config
 * path), FLEETOPS_ROUTER_TOKEN (required: the bearer token named `default`, scopes deploy and
 * incident; more tokens in the config's router.tokens), FLEETOPS_ROUTER_MAX_WORKFLOWS_PER_REQUEST
 * (default 1000: more is 413), FLEETOPS_ROUTER_MAX_REQUESTS_IN_FLIGHT (default 32: more is 503
 * with Retry-After), Temporal connection settings as
 * common/temporal-connection/ resolves them (FLEETOPS_TEMPORAL_*, TEMPORAL_* with TLS / API key /
 * profile, then the config), FLEETOPS_ROUTER_DRY_RUN=1 (every workflow starts with dryRun),
 * FLEETOPS_AWS_ENDPOINT (override config.aws.endpoint for SQS), FLEETOPS_ROUTER_SQS_MAX_IN_FLIGHT
 * (messages worked on at once, default 40), OTEL_EXPORTER_OTLP_ENDPOINT (tracing on, common/tracing.ts).
 *
 * SIGTERM/SIGINT: stop receiving, finish in-flight requests and messages, exit 0 — within 10 s; what
 * is still unfinished then was not deleted from the queue and is redelivered.
 */
import { AWS_APP_IDS } from '../common/aws-app-ids';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createLogger } from '../common/logger';
import { describeTarget, explainConnectError, lazyClientConnection, resolveProcessTarget } from '../common/temporal-connection';
import { setupTracing } from '../common/tracing';
import { configPath, loadConfigOrExit } from '../config/load';
import { createRouter } from './app';
import { parseRouterEnv } from './env';
import { routerTokens } from './tokens';

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
  const tokens = routerTokens(env.FLEETOPS_ROUTER_TOKEN, config);
  if (!tokens.ok) {
    process.stderr.write(`fleetops router: ${tokens.error}\n`);
    process.exit(2);
  }
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
  const sqsClient = queueUrl ? new SQSClient({ region: config.aws.region, ...(endpoint ? { endpoint } : {}), userAgentAppId: AWS_APP_IDS.router }) : undefined;
  const router = createRouter({
    config,
    connection,
    namespace,
    tokens: tokens.tokens,
    log,
    routeOptions: { dryRun },
    httpLimits: { maxWorkflowsPerRequest: env.FLEETOPS_ROUTER_MAX_WORKFLOWS_PER_REQUEST, maxRequestsInFlight: env.FLEETOPS_ROUTER_MAX_REQUESTS_IN_FLIGHT },
    separateSlackListener: env.FLEETOPS_SLACK_PORT !== undefined,
    sqs: sqsClient && queueUrl ? { client: sqsClient, queueUrl, lifecycleQueueUrl: env.FLEETOPS_LIFECYCLE_QUEUE_URL, maxInFlight: env.FLEETOPS_ROUTER_SQS_MAX_IN_FLIGHT } : undefined,
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
  const slackHost = env.FLEETOPS_SLACK_HOST ?? host;
  if (router.slackHttp) await router.slackHttp.listen({ host: slackHost, port: env.FLEETOPS_SLACK_PORT });
  else if (env.FLEETOPS_SLACK_PORT !== undefined) log.info('FLEETOPS_SLACK_PORT is set but the config has no slack section: no Slack listener');
  else if (config.slack) log.warn({ port }, 'Slack is served on the internal listener, beside /events and /metrics: set FLEETOPS_SLACK_PORT to give it a listener of its own');
  await router.start();
  log.info(
    {
      url: `http://${host}:${port}`,
      slack: router.slackHttp ? `http://${slackHost}:${env.FLEETOPS_SLACK_PORT}` : null,
      tokens: tokens.tokens.map((t) => ({ name: t.name, scopes: t.scopes })),
      temporal: describeTarget(target),
      sqs: queueUrl ?? null,
      lifecycleQueue: (queueUrl && env.FLEETOPS_LIFECYCLE_QUEUE_URL) || null,
      dryRun,
      tracing: tracing.enabled,
    },
    'router listening',
  );
  // Say once, at start, why Temporal cannot be reached (a TLS or API key setting), not only "503".
  const ready = await router.dispatcher.ready();
  if (!ready.ok) log.warn({ temporal: describeTarget(target) }, `temporal not reachable yet: ${await explainConnectError(new Error(ready.error), target)}`);
}

main().catch((err) => {
  process.stderr.write(`fleetops router: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
