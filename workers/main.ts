/**
 * The fleetops worker process: one connection, a worker per task queue it polls (all three unless
 * FLEETOPS_WORKER_TASK_QUEUES names some, common/task-queues.ts).
 *  - `fleetops-critical` runs drain work only, with its own slots, so a backlog of deploys,
 *    capacity plans or incidents can never delay a two-minute drain;
 *  - `fleetops-drain-coordinator` runs the drain coordinator alone, so a storm's drains filling the
 *    critical slots cannot delay the call that sets the storm DRAINING;
 *  - `fleetops` runs everything else.
 * All load the same workflow bundle and activities; what runs where is decided by the task queue a
 * workflow is started on. SIGINT/SIGTERM: the SDK runtime stops polling, lets running activities
 * finish (up to the shutdown grace time), and run() resolves; the process then exits 0.
 *
 * Env: FLEETOPS_CONFIG (config path); Temporal connection settings as common/temporal-connection/
 * resolves them (FLEETOPS_TEMPORAL_*, TEMPORAL_* with TLS / API key / profile, then the config);
 * FLEETOPS_WORKER_METRICS_PORT (Prometheus, default 9464; 0 disables) on
 * FLEETOPS_WORKER_METRICS_HOST (default 127.0.0.1; 0.0.0.0 in a container so Prometheus can scrape it),
 * FLEETOPS_WORKFLOW_BUNDLE (a prebuilt workflow bundle, e.g. the local stack's cached one; the
 * worker bundles workflows/ itself when unset; either way common/workflow-bundle.ts's options),
 * OTEL_EXPORTER_OTLP_ENDPOINT (tracing on, common/tracing.ts), FLEETOPS_WORKER_TASK_QUEUES (the
 * queues to poll, separated by commas; all three when unset).
 */
import { Runtime, Worker, makeTelemetryFilterString, type WorkerOptions } from '@temporalio/worker';
import { Client } from '@temporalio/client';
import { createActivities } from '../activities';
import { createAwsClients } from '../activities/aws/clients';
import { AWS_APP_IDS } from '../common/aws-app-ids';
import { createClusterClients } from '../activities/aws/cluster-clients';
import { createLogger } from '../common/logger';
import { TASK_QUEUE_CRITICAL, TASK_QUEUE_DEFAULT, TASK_QUEUE_DRAIN_COORDINATOR, workerTaskQueues, type TaskQueue } from '../common/task-queues';
import { setupTracing } from '../common/tracing';
import { clientTracingInterceptors, workerTracingOptions } from '../common/worker-tracing';
import { buildWorkflowBundle } from '../common/workflow-bundle';
import { connectClient, connectNative, describeTarget, resolveProcessTarget, TemporalConnectError } from '../common/temporal-connection';
import { configPath, loadConfigOrExit } from '../config/load';
import { workerHistogramBuckets } from '../common/metric-names';
import { createOnDemandPrices } from '../common/pricing/on-demand';
import { startDomainGauges } from './domain-gauges';
import { startFleetMetrics } from './fleet-metrics';

async function main(): Promise<void> {
  const log = createLogger('worker');
  const tracing = setupTracing('worker');
  const loaded = loadConfigOrExit();
  const target = resolveProcessTarget(loaded, configPath());
  const { namespace } = target;
  // Notification links name the namespace the worker really runs in.
  const config = { ...loaded, temporal: { ...loaded.temporal, namespace } };
  const metricsPort = Number(process.env.FLEETOPS_WORKER_METRICS_PORT ?? 9464);
  const metricsHost = process.env.FLEETOPS_WORKER_METRICS_HOST ?? '127.0.0.1';
  let taskQueues: TaskQueue[];
  try {
    taskQueues = workerTaskQueues(process.env.FLEETOPS_WORKER_TASK_QUEUES);
  } catch (err) {
    process.stderr.write(`fleetops worker: ${(err as Error).message}\n`);
    process.exit(2);
  }

  Runtime.install({
    logger: {
      log: (level, message, meta) => log[level.toLowerCase() as 'info'](meta ?? {}, message),
      trace: (m, meta) => log.trace(meta ?? {}, m),
      debug: (m, meta) => log.debug(meta ?? {}, m),
      info: (m, meta) => log.info(meta ?? {}, m),
      warn: (m, meta) => log.warn(meta ?? {}, m),
      error: (m, meta) => log.error(meta ?? {}, m),
    },
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: 'WARN' }), forward: {} },
      // Names as common/metric-names.ts lists them (no `_total` or unit suffix added); its histograms' buckets.
      ...(metricsPort > 0 ? { metrics: { prometheus: { bindAddress: `${metricsHost}:${metricsPort}`, histogramBucketOverrides: workerHistogramBuckets() } } } : {}),
    },
  });

  const aws = createAwsClients({ region: config.aws.region, endpoint: config.aws.endpoint, sdkMaxAttempts: config.aws.sdkMaxAttempts, appId: AWS_APP_IDS.worker });
  // Clusters in other regions or accounts get their own clients (an assumed role's credentials, cached and refreshed).
  const clusterClients = createClusterClients(config, aws, { endpoint: config.aws.endpoint, sdkMaxAttempts: config.aws.sdkMaxAttempts, appId: AWS_APP_IDS.worker });
  // Activities that query visibility or start workflows (the deploy's incident freeze, incidents
  // opened by automations) and the domain gauges share one client.
  const client = new Client({ connection: await connectClient(target), namespace, interceptors: clientTracingInterceptors() });
  const activities = createActivities({ aws, clientsFor: clusterClients.clientsFor, config, temporal: { client, namespace } });
  const connection = await connectNative(target);
  // One bundle for both workers: given workflowsPath, each Worker.create would run webpack itself.
  const prebuilt = process.env.FLEETOPS_WORKFLOW_BUNDLE;
  const workflowBundle = prebuilt
    ? { codePath: prebuilt }
    : { code: await buildWorkflowBundle(require.resolve('../workflows'), Runtime.instance().logger) };
  const traced = workerTracingOptions(tracing);

  const options: Record<TaskQueue, Omit<WorkerOptions, 'connection' | 'namespace' | 'taskQueue' | 'workflowBundle' | 'activities'>> = {
    [TASK_QUEUE_CRITICAL]: {
      // A storm of thousands of drains is mostly waiting; slots are cheap and must not queue drains.
      maxConcurrentWorkflowTaskExecutions: 200,
      maxConcurrentLocalActivityExecutions: 1000,
      // Sized for a storm of 2,000 (bench/spot-storm): each drain on the deadline holds one slot
      // through its wait (moveWorkOff), and an activity the worker has no slot for is not handed
      // back with the workflow task's answer but waits in the queue for a poll.
      maxConcurrentActivityTaskExecutions: 2500,
      // Every drain of such a storm, the coordinator and the capacity workflows stay cached: an
      // evicted drain's next task is a full replay, its history fetched again.
      maxCachedWorkflows: 3000,
      // Each new drain's first task comes from the normal queue, everything after from this worker's
      // sticky queue. While the sticky queue has a backlog larger than its active pollers, sdk-core
      // holds the normal queue to a single poller, and in a storm that is exactly when new drains
      // arrive. A high limit lets the sticky side grow past its backlog when the worker has CPU to
      // spare; when it has none (bench/spot-storm on 2 cores, N = 500: 1 normal + 5 sticky pollers
      // active, p50) no poller setting helps, only fewer workflow tasks per drain. (A cacheless worker
      // would avoid the balance, but sdk-core drops local activities in flight when it evicts, and
      // the drain's first steps are local activities.)
      maxConcurrentWorkflowTaskPolls: 64,
      nonStickyToStickyPollRatio: 0.5,
      // A second workflow thread halves the time activations queue inside the worker.
      workflowThreadPoolSize: 2,
      // Most drain activities skip the queue (the server hands them back eagerly with the workflow
      // task's answer); retries and later wait slices still poll.
      maxConcurrentActivityTaskPolls: 16,
      shutdownGraceTime: '10s',
    },
    // The drain coordinator alone (one run per account and region): slots of its own, so the task
    // that sends a storm's DRAINING call never waits for the drains' slots, and a thread of its own.
    [TASK_QUEUE_DRAIN_COORDINATOR]: {
      maxConcurrentWorkflowTaskExecutions: 8,
      maxConcurrentActivityTaskExecutions: 16,
      maxCachedWorkflows: 16,
      workflowThreadPoolSize: 1,
      shutdownGraceTime: '10s',
    },
    [TASK_QUEUE_DEFAULT]: {
      shutdownGraceTime: '10s',
    },
  };
  const workers = await Promise.all(taskQueues.map((taskQueue) => Worker.create({ connection, namespace, taskQueue, workflowBundle, activities, ...traced, ...options[taskQueue] })));

  // Gauges computed from visibility (incidents open by severity) and from each cluster's capacity
  // workflow (the fleet, priced) go out on the same endpoint.
  const meter = Runtime.instance().metricMeter;
  const gauges = metricsPort > 0 ? startDomainGauges({ client, meter, log }) : undefined;
  const prices = createOnDemandPrices({
    api: config.pricing.priceListApi,
    ...(config.pricing.priceListApiRegion ? { apiRegion: config.pricing.priceListApiRegion } : {}),
    table: config.pricing.onDemandHourly,
    ...(config.aws.endpoint ? { endpoint: config.aws.endpoint } : {}),
    appId: AWS_APP_IDS.worker,
  });
  const fleet = metricsPort > 0 && Object.keys(config.clusters).length > 0 ? startFleetMetrics({ client, meter, config, prices, log }) : undefined;

  log.info({ temporal: describeTarget(target), taskQueues, metricsPort, tracing: tracing.enabled }, 'worker started');
  await Promise.all(workers.map((w) => w.run()));
  gauges?.stop();
  fleet?.stop();
  prices.destroy();
  await client.connection.close();
  await connection.close();
  clusterClients.destroy();
  aws.destroy();
  await tracing.shutdown();
  log.info('worker stopped');
}

main().catch((err) => {
  // A connection failure's message names the setting to change; its stack adds nothing.
  const text = err instanceof TemporalConnectError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`fleetops worker: ${text}\n`);
  process.exit(1);
});
