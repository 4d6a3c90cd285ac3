/**
 * `make up`: the whole of fleetops on one machine, in the foreground (docs/contract.md, Processes).
 *
 *   temporal   Temporal dev server + Web UI, state in <run>/temporal.sqlite (survives a restart)
 *   aws        moto behind the fleetops simulator (simulator/main.ts), seeded with the demo (stack/seed.ts)
 *   worker     workers/main.ts, polling fleetops-critical, fleetops-drain-coordinator and fleetops (FLEETOPS_STACK_WORKERS=N: N of them, worker, worker-2, …;
 *              FLEETOPS_STACK_COORDINATOR_WORKER=1: one more, worker-coordinator, polling the coordinator's queue alone, the others not)
 *   router     router/main.ts, HTTP events API with generated tokens, consuming the events queue; Slack on a listener of its own
 *              (FLEETOPS_STACK_ROUTERS=N: N of them, router, router-2, …, each on ports of its own, all consuming the same queues)
 *   prometheus with FLEETOPS_STACK_PROMETHEUS=1: scrapes every worker and router, evaluates the alert rules (stack/prometheus.ts)
 *
 * The AWS-side kit (deploy/aws/fleetops-events.yaml) is deployed into the emulator with CloudFormation,
 * as into an account: EventBridge rules deliver what the simulator publishes (interruption warnings,
 * alarm changes, state changes) to the events queue the router consumes (FLEETOPS_EVENTS_QUEUE_URL).
 *
 * Temporal and the emulator start together; the demo is seeded, and the workflow bundle built (or
 * reused from <run>/cache when the sources are unchanged), while Temporal comes up. The worker and
 * router load the rendered config, so they start as soon as it can be rendered (Temporal up, bundle
 * ready, the seed past the Spot Fleet request), while the seed finishes the cluster and service. When every part answers, the stack writes <run>/stack.json and prints `fleetops stack
 * ready`. Ctrl-C or SIGTERM stops every process it started; a child that dies brings the stack down
 * with the end of its log.
 *
 * Env: the ports in stack/ports.ts (FLEETOPS_TEMPORAL_PORT, FLEETOPS_TEMPORAL_HTTP_PORT,
 * FLEETOPS_TEMPORAL_METRICS_PORT, FLEETOPS_TEMPORAL_UI_PORT, FLEETOPS_AWS_PORT, FLEETOPS_MOTO_PORT,
 * FLEETOPS_ROUTER_PORT, FLEETOPS_SLACK_PORT, FLEETOPS_WORKER_METRICS_PORT, FLEETOPS_PROMETHEUS_PORT), FLEETOPS_RUN_DIR (default .run),
 * FLEETOPS_ROUTER_TOKEN (else generated), FLEETOPS_AWS_REGION (default us-east-1),
 * FLEETOPS_STACK_VERBOSE=1 (every child log line on the console), FLEETOPS_STACK_PROMETHEUS=1,
 * FLEETOPS_STACK_CONFIG_TEMPLATE (a config template of your own instead of config/demo.fleetops.yaml),
 * FLEETOPS_STACK_WORKERS and FLEETOPS_STACK_ROUTERS (default 1; the second and later get free ports,
 * stack/ports.ts replicaPorts), FLEETOPS_STACK_COORDINATOR_WORKER=1.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { createAwsClients } from '../activities/aws/clients';
import { sessionEnv } from './worker-role';
import { DEFAULT_ACCOUNT } from '../simulator/events';
import { stackChildEnv, temporalSpec, TEMPORAL_CLI, tsEntry } from './child-specs';
import { print, say, seconds } from './console';
import { writeDemoConfig } from './demo-config';
import { DEMO_SLACK, demoPeople, demoSlackSection, demoSlackWorkspace } from './demo-slack';
import { deployEventsPath } from './events-path';
import { assertPortFree, awsAnswers, httpStatus, waitFor } from './health';
import { localSecrets, writeSecretFiles } from './local-secrets';
import { MEMBER_DEMO, memberClusterConfig } from './member-demo';
import { PORT_ENV, replicaPorts, STACK_PORT_NAMES, withFreePorts } from './ports';
import { Supervisor } from './processes';
import { prometheusSpec } from './prometheus';
import { printReadyBanner } from './ready-banner';
import { DEMO } from './demo-seed/demo';
import { seedDemo, type ConfigInputs } from './seed';
import { ROOT, stackSettings, type StackSettings } from './settings';
import { startSlackStandIn, type SlackStandIn } from './slack-stand-in';
import { writeStackFile, type StackFile } from './stack-file';
import { temporalReady, waitForWorker } from './temporal-ready';
import { TASK_QUEUE_DRAIN_COORDINATOR, TASK_QUEUES, type TaskQueue } from '../common/task-queues';
import { startWebhookSink, type WebhookSink } from './webhook-sink';
import { cachedWorkflowBundle } from './workflow-bundle';

async function main(): Promise<void> {
  const startedAt = Date.now();
  const settings = stackSettings();
  // Every port is known before any child starts, so none of them picks one another was handed.
  const s: StackSettings = { ...settings, ...(await withFreePorts(settings, settings.host)) };
  mkdirSync(s.logDir, { recursive: true });
  if (!existsSync(TEMPORAL_CLI)) throw new Error(`${TEMPORAL_CLI} is missing: run scripts/install-tools.sh (make up does)`);
  for (const key of STACK_PORT_NAMES) {
    // Without its Prometheus the stack leaves that port to whoever has it (another Prometheus, likely).
    if (key === 'prometheusPort' && !s.prometheus) continue;
    if (s[key] > 0) await assertPortFree(s.host, s[key], PORT_ENV[key]);
  }

  const temporalAddress = `${s.host}:${s.temporalPort}`;
  const temporalUi = `http://${s.host}:${s.temporalUiPort}`;
  const awsEndpoint = `http://${s.host}:${s.awsPort}`;
  const replicas = await replicaPorts(s, s.host, { workers: s.workers + (s.coordinatorWorker ? 1 : 0), routers: s.routers });
  const routerUrls = replicas.routers.map((p) => `http://${s.host}:${p.routerPort}`);
  const slackUrl = `http://${s.host}:${s.slackPort}`;
  const prometheusUrl = s.prometheus ? `http://${s.host}:${s.prometheusPort}` : undefined;
  const secrets = localSecrets(s.runDir, s.routerToken);
  const configPath = join(s.runDir, 'fleetops.yaml');
  const childEnv = stackChildEnv(s, { configPath, temporalAddress, routerToken: secrets.routerToken });

  let sink: WebhookSink | undefined;
  let slack: SlackStandIn | undefined;
  let shuttingDown: Promise<never> | undefined;
  const supervisor = new Supervisor({
    logDir: s.logDir,
    verbose: s.verbose,
    print,
    onUnexpectedExit: (child, code, signal) => {
      void shutdown(
        1,
        `${child.name} exited unexpectedly (${signal ? `signal ${signal}` : `exit code ${code}`}); the stack is going down.\n` +
          `--- its last output (whole log: ${child.logFile}):\n${supervisor.tail(child)}`,
      );
    },
  });

  const shutdown = (exitCode: number, message?: string): Promise<never> => {
    shuttingDown ??= (async () => {
      if (message) say(message);
      say('stopping every process the stack started ...');
      const t = Date.now();
      await supervisor.stopAll();
      await sink?.close();
      await slack?.close();
      say(`stopped in ${seconds(Date.now() - t)}`);
      process.exit(exitCode);
    })().catch((err: unknown): never => {
      // Signal handlers and the supervisor call this without waiting: a failed stop still ends the process.
      say(`stopping failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exit(1);
    });
    return shuttingDown;
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void shutdown(0));

  try {
    say(`starting in ${s.runDir} (logs in ${s.logDir})`);
    const temporal = supervisor.start(temporalSpec(s, childEnv));
    const simulator = supervisor.start(tsEntry('aws', join(ROOT, 'simulator', 'main.ts'), childEnv));

    const temporalUp = temporalReady({ address: temporalAddress, namespace: s.namespace, ui: temporalUi, temporal }).then((connection) => {
      say(
        `temporal ready at ${temporalAddress}, Web UI ${temporalUi}, HTTP API ${s.host}:${s.temporalHttpPort}, ` +
          `metrics ${s.host}:${s.temporalMetricsPort} (${seconds(Date.now() - startedAt)})`,
      );
      return connection;
    });

    const aws = createAwsClients({ region: s.region, endpoint: awsEndpoint, sdkMaxAttempts: 3 });
    const awsUp = () => waitFor('AWS emulator', async () => ((await awsAnswers(aws)) ? true : undefined), { timeoutMs: 60_000, intervalMs: 200, child: simulator });
    let configInputsKnown: (inputs: ConfigInputs) => void = () => {};
    const configInputs = new Promise<ConfigInputs>((resolve) => (configInputsKnown = resolve));
    const demoReady = (async () => {
      await awsUp();
      const t = Date.now();
      const seeded = await seedDemo(aws, { region: s.region, endpoint: awsEndpoint, onConfigInputs: configInputsKnown });
      say(
        `aws emulator at ${awsEndpoint}: cluster ${DEMO.cluster} with ${seeded.instances.length} container instances ` +
          `(EC2 Fleet ${seeded.instancesByPool.ec2Fleet.length}, Spot Fleet ${seeded.instancesByPool.spotFleet.length}, ` +
          `ASG ${seeded.instancesByPool.asg.length}), service ${DEMO.service} with ${seeded.taskArns.length} tasks; cluster ${seeded.shop.cluster} with ` +
          `${seeded.shop.instancesByPool.spot.length + seeded.shop.instancesByPool.onDemand.length} and ${seeded.shop.services.length} services ` +
          `(seeded in ${seconds(Date.now() - t)}; ${seconds(Date.now() - startedAt)})`,
      );
      return seeded;
    })();
    const kitReady = awsUp().then(() => deployEventsPath({ endpoint: awsEndpoint, motoUrl: `http://127.0.0.1:${s.motoPort}`, region: s.region, accounts: s.accounts }));
    const bundleReady = (async () => {
      const t = Date.now();
      const bundle = await cachedWorkflowBundle(join(s.runDir, 'cache'));
      say(`workflow bundle ${bundle.built ? `built in ${seconds(Date.now() - t)}` : 'unchanged, reused'}`);
      return bundle.path;
    })();

    // The worker and router start once the config can be rendered; the seed finishes meanwhile.
    // A seed that fails before that point rejects here rather than leaving the wait hanging.
    const seedFailedEarly = demoReady.then(() => new Promise<never>(() => {}));
    const [connection, inputs, bundlePath, { queues, workerSession }] = await Promise.all([temporalUp, Promise.race([configInputs, seedFailedEarly]), bundleReady, kitReady]);
    sink = await startWebhookSink({ host: s.host, logFile: join(s.runDir, 'notifications.log'), print });
    // Slack: a Web API stand-in in this process; its secrets, and the aws-events token, in files the config names.
    writeSecretFiles(secrets);
    slack = await startSlackStandIn({ host: s.host, ...demoSlackWorkspace(secrets.slack.botToken) });
    writeDemoConfig(configPath, {
      awsEndpoint,
      temporalAddress,
      temporalUi,
      namespace: s.namespace,
      webhookUrl: sink.url,
      postmortemDir: join(s.runDir, 'postmortems'),
      seeded: inputs,
      slack: demoSlackSection({ apiUrl: slack.apiUrl, ...secrets.slackFiles }),
      router: { tokens: [{ name: 'aws-events', scopes: ['aws-events'], tokenFile: secrets.awsEventsTokenFile }] },
      people: demoPeople(userInfo().username),
      ...(s.accounts === 2 ? { member: { ownAccount: DEFAULT_ACCOUNT, name: MEMBER_DEMO.cluster, cluster: memberClusterConfig() } } : {}),
    }, s.configTemplate);

    // Worker shutdown grace is 10 s (workers/main.ts); router's budget is 9 s (router/main.ts).
    // A crashed worker or router comes back, as an orchestrator would bring it back: Temporal hands
    // the dead worker's tasks to the new one (that is what bench/spot-storm's worker-kill run measures).
    // A crash loop (a fourth exit within a minute) takes the stack down with the child's last words.
    const restart = { max: 3, windowMs: 60_000 };
    const workerEnv = { ...childEnv, ...sessionEnv(workerSession), FLEETOPS_WORKFLOW_BUNDLE: bundlePath };
    // N workers poll the same task queues and N routers consume the same queues, as in production:
    // what must hold across processes (one drain per instance, the disruption budget) is tested so.
    // With a coordinator worker (FLEETOPS_STACK_COORDINATOR_WORKER=1) the last process polls the
    // coordinator's queue alone, and the others every other queue.
    const workers = replicas.workerMetricsPorts.map((metricsPort, i) => {
      const coordinatorOnly = s.coordinatorWorker && i === s.workers;
      const queues: TaskQueue[] = coordinatorOnly ? [TASK_QUEUE_DRAIN_COORDINATOR] : TASK_QUEUES.filter((q) => !s.coordinatorWorker || q !== TASK_QUEUE_DRAIN_COORDINATOR);
      const name = coordinatorOnly ? 'worker-coordinator' : replicaName('worker', i);
      const env = { ...workerEnv, FLEETOPS_WORKER_METRICS_PORT: String(metricsPort), FLEETOPS_WORKER_TASK_QUEUES: queues.join(',') };
      return { queues, child: supervisor.start(tsEntry(name, join(ROOT, 'workers', 'main.ts'), env, { stopTier: 1, stopTimeoutMs: 15_000, restart })) };
    });
    const routerEnv = { ...childEnv, FLEETOPS_EVENTS_QUEUE_URL: queues.eventsQueueUrl, FLEETOPS_LIFECYCLE_QUEUE_URL: queues.lifecycleQueueUrl };
    const routers = replicas.routers.map((p, i) =>
      supervisor.start(
        tsEntry(replicaName('router', i), join(ROOT, 'router', 'main.ts'), { ...routerEnv, FLEETOPS_ROUTER_PORT: String(p.routerPort), FLEETOPS_SLACK_PORT: String(p.slackPort) }, { stopTier: 1, stopTimeoutMs: 12_000, restart }),
      ),
    );
    // Started with its targets: it scrapes them as they come up.
    const prometheus = prometheusUrl ? supervisor.start(prometheusSpec(s, replicas, childEnv)) : undefined;
    const [seeded] = await Promise.all([
      demoReady.finally(() => aws.destroy()),
      ...workers.map(({ queues, child }) => waitForWorker(connection, s.namespace, child, queues).then(() => say(`${child.name} polling (${seconds(Date.now() - startedAt)})`))),
      ...routers.map((router, i) =>
        waitFor(`${router.name} /readyz`, async () => ((await httpStatus(`${routerUrls[i]}/readyz`)) === 200 ? true : undefined), { timeoutMs: 90_000, child: router }).then(() =>
          say(`${router.name} ready at ${routerUrls[i]} (${seconds(Date.now() - startedAt)})`),
        ),
      ),
      prometheus &&
        waitFor('prometheus /-/ready', async () => ((await httpStatus(`${prometheusUrl}/-/ready`)) === 200 ? true : undefined), { timeoutMs: 30_000, child: prometheus }).then(() =>
          say(`prometheus ready at ${prometheusUrl} (${seconds(Date.now() - startedAt)})`),
        ),
    ]);
    await connection.close();

    const stack: StackFile = {
      temporal: { address: temporalAddress, namespace: s.namespace, ui: temporalUi },
      aws: { endpoint: awsEndpoint, region: s.region, ...queues },
      router: { url: routerUrls[0]!, urls: routerUrls, token: secrets.routerToken, awsEventsToken: secrets.awsEventsToken },
      demo: { cluster: DEMO.cluster, service: DEMO.service, instances: seeded.instances, alarms: seeded.alarms },
      slack: { url: slackUrl, signingSecret: secrets.slack.signingSecret, messagesUrl: slack.messagesUrl, teamId: DEMO_SLACK.team.id, users: { ...DEMO_SLACK.users } },
      ...(prometheusUrl ? { prometheus: { url: prometheusUrl } } : {}),
    };
    const stackPath = join(s.runDir, 'stack.json');
    writeStackFile(stackPath, stack);
    printReadyBanner({ stack, settings: s, stackPath, configPath, startedAt });
  } catch (err) {
    if (shuttingDown) return;
    await shutdown(1, `could not start: ${(err as Error).message}`);
  }
}

/** `worker`, `worker-2`, …: the first keeps the name (and log file) a single one always had. */
const replicaName = (base: string, i: number): string => (i === 0 ? base : `${base}-${i + 1}`);

main().catch((err) => {
  process.stderr.write(`stack: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
