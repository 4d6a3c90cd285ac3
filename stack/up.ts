/**
 * `make up`: the whole of fleetops on one machine, in the foreground (docs/contract.md, Processes).
 *
 *   temporal   Temporal dev server + Web UI, state in <run>/temporal.sqlite (survives a restart)
 *   aws        moto behind the fleetops simulator (simulator/main.ts), seeded with the demo (stack/seed.ts)
 *   worker     workers/main.ts, polling fleetops-critical and fleetops
 *   router     router/main.ts, HTTP events API with generated tokens, consuming the events queue; Slack on a listener of its own
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
 * FLEETOPS_ROUTER_PORT, FLEETOPS_SLACK_PORT, FLEETOPS_WORKER_METRICS_PORT), FLEETOPS_RUN_DIR (default .run),
 * FLEETOPS_ROUTER_TOKEN (else generated), FLEETOPS_AWS_REGION (default us-east-1),
 * FLEETOPS_STACK_VERBOSE=1 (every child log line on the console).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { createAwsClients } from '../activities/aws/clients';
import { TASK_QUEUE_CRITICAL, TASK_QUEUE_DEFAULT } from '../common/task-queues';
import { writeDemoConfig } from './demo-config';
import { deployEventsKit } from './events-kit';
import { sessionEnv, workerRoleSession } from './worker-role';
import { MEMBER_DEMO, memberClusterConfig, memberRoleArn, seedMemberDemo } from './member-demo';
import { DEFAULT_ACCOUNT } from '../simulator/events';
import {
  assertPortFree,
  awsAnswers,
  connectTemporal,
  ensureSearchAttributes,
  httpStatus,
  waitFor,
  workerPolls,
} from './health';
import { Supervisor, type ChildSpec, type ManagedChild } from './processes';
import { DEMO, seedDemo, type ConfigInputs } from './seed';
import { PORT_ENV, STACK_PORT_NAMES, withFreePorts } from './ports';
import { ROOT, stackSettings, type StackSettings } from './settings';
import { writeStackFile, type StackFile } from './stack-file';
import { DEMO_SLACK, demoPeople, demoSlackSection, demoSlackWorkspace } from './demo-slack';
import { startSlackStandIn, type SlackStandIn } from './slack-stand-in';
import { temporalDevServerArgs } from './temporal-server';
import { startWebhookSink, type WebhookSink } from './webhook-sink';
import { cachedWorkflowBundle } from './workflow-bundle';

export const READY_MARKER = 'fleetops stack ready';
const TEMPORAL_CLI = join(ROOT, '.tools', 'bin', 'temporal');

const print = (line: string) => process.stdout.write(`${line}\n`);
const say = (line: string) => print(`stack: ${line}`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** A TypeScript entry point run by node with tsx's loader: one process per child, so its pid is the worker's identity. */
function tsEntry(name: string, file: string, env: NodeJS.ProcessEnv, opts: Pick<ChildSpec, 'stopTier' | 'stopTimeoutMs' | 'restart'> = {}): ChildSpec {
  // FLEETOPS_STACK_NODE_ARGS: extra node flags for the stack's node children, e.g. `--cpu-prof
  // --cpu-prof-dir=/tmp/prof` to profile a benchmark run (node refuses those in NODE_OPTIONS).
  const extra = (process.env.FLEETOPS_STACK_NODE_ARGS ?? '').split(' ').filter(Boolean);
  return { name, command: process.execPath, args: [...extra, '--import', 'tsx', file], env, cwd: ROOT, ...opts };
}

function temporalSpec(s: StackSettings, env: NodeJS.ProcessEnv): ChildSpec {
  return { name: 'temporal', command: TEMPORAL_CLI, args: temporalDevServerArgs(s), env, cwd: ROOT };
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  const settings = stackSettings();
  // Every port is known before any child starts, so none of them picks one another was handed.
  const s: StackSettings = { ...settings, ...(await withFreePorts(settings, settings.host)) };
  mkdirSync(s.logDir, { recursive: true });
  if (!existsSync(TEMPORAL_CLI)) throw new Error(`${TEMPORAL_CLI} is missing: run scripts/install-tools.sh (make up does)`);
  for (const key of STACK_PORT_NAMES) {
    if (s[key] > 0) await assertPortFree(s.host, s[key], PORT_ENV[key]);
  }

  const temporalAddress = `${s.host}:${s.temporalPort}`;
  const temporalUi = `http://${s.host}:${s.temporalUiPort}`;
  const awsEndpoint = `http://${s.host}:${s.awsPort}`;
  const routerUrl = `http://${s.host}:${s.routerPort}`;
  const slackUrl = `http://${s.host}:${s.slackPort}`;
  const routerToken = s.routerToken ?? randomBytes(24).toString('base64url');
  // A second token, with the aws-events scope only: AWS-source envelopes over HTTP (replays, tests).
  // In a file beside the config (0600), which names it with tokenFile, as the Slack secrets are.
  const awsEventsToken = randomBytes(24).toString('base64url');
  const awsEventsTokenFile = join(s.runDir, 'router-aws-events-token');
  const configPath = join(s.runDir, 'fleetops.yaml');

  // The emulator accepts any credentials; fixed fake ones keep a developer's real AWS credentials
  // (env or profile) away from every process of the stack, this one included.
  const awsEnv = {
    AWS_ACCESS_KEY_ID: 'fleetops-local',
    AWS_SECRET_ACCESS_KEY: 'fleetops-local',
    AWS_REGION: s.region,
    AWS_DEFAULT_REGION: s.region,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  // The stack runs on the Node 20 the project pins; the SDK's notice about future Node versions would
  // print once per process on the console.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  for (const k of ['AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE']) delete process.env[k];
  Object.assign(process.env, awsEnv);
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    FLEETOPS_CONFIG: configPath,
    FLEETOPS_TEMPORAL_ADDRESS: temporalAddress,
    FLEETOPS_TEMPORAL_NAMESPACE: s.namespace,
    FLEETOPS_AWS_PORT: String(s.awsPort),
    FLEETOPS_MOTO_PORT: String(s.motoPort),
    FLEETOPS_ROUTER_PORT: String(s.routerPort),
    FLEETOPS_ROUTER_HOST: s.host,
    FLEETOPS_ROUTER_TOKEN: routerToken,
    FLEETOPS_SLACK_PORT: String(s.slackPort),
    FLEETOPS_WORKER_METRICS_PORT: String(s.workerMetricsPort),
    FLEETOPS_RUN_DIR: s.runDir,
    FLEETOPS_MOTO_LOG: join(s.logDir, 'moto.log'),
  };

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

    const temporalReady = (async () => {
      const connection = await waitFor('Temporal gRPC', async () => connectTemporal(temporalAddress), { timeoutMs: 60_000, child: temporal });
      try {
        const added = await ensureSearchAttributes(connection, s.namespace);
        if (added.length) say(`registered search attributes ${added.join(', ')}`);
        await waitFor('Temporal Web UI', async () => ((await httpStatus(temporalUi)) === 200 ? true : undefined), { timeoutMs: 30_000, child: temporal });
        say(
          `temporal ready at ${temporalAddress}, Web UI ${temporalUi}, HTTP API ${s.host}:${s.temporalHttpPort}, ` +
            `metrics ${s.host}:${s.temporalMetricsPort} (${seconds(Date.now() - startedAt)})`,
        );
        return connection;
      } catch (err) {
        await connection.close();
        throw err;
      }
    })();

    const aws = createAwsClients({ region: s.region, endpoint: awsEndpoint, sdkMaxAttempts: 3 });
    let configInputsKnown: (inputs: ConfigInputs) => void = () => {};
    const configInputs = new Promise<ConfigInputs>((resolve) => (configInputsKnown = resolve));
    const demoReady = (async () => {
      await waitFor('AWS emulator', async () => ((await awsAnswers(aws)) ? true : undefined), { timeoutMs: 60_000, intervalMs: 200, child: simulator });
      const t = Date.now();
      const seeded = await seedDemo(aws, { region: s.region, endpoint: awsEndpoint, onConfigInputs: configInputsKnown });
      say(
        `aws emulator at ${awsEndpoint}: cluster ${DEMO.cluster} with ${seeded.instances.length} container instances ` +
          `(EC2 Fleet ${seeded.instancesByPool.ec2Fleet.length}, Spot Fleet ${seeded.instancesByPool.spotFleet.length}, ` +
          `ASG ${seeded.instancesByPool.asg.length}), service ${DEMO.service} with ${seeded.taskArns.length} tasks (seeded in ${seconds(Date.now() - t)}; ${seconds(Date.now() - startedAt)})`,
      );
      return seeded;
    })();

    // The events path, deployed as into an account. A shorter visibility timeout and receive count than
    // the template's defaults (30 s, 5): a message a crashed router held comes back sooner, and an outage
    // longer than maxReceiveCount × visibility (the end-to-end test makes one) takes 15 s, not 150. The
    // router extends a held message's visibility every half timeout (router/sqs-consumer.ts).
    const kitReady = (async () => {
      await waitFor('AWS emulator', async () => ((await awsAnswers(aws)) ? true : undefined), { timeoutMs: 60_000, intervalMs: 200, child: simulator });
      const t = Date.now();
      const cfn = new CloudFormationClient({ region: s.region, endpoint: awsEndpoint, maxAttempts: 3 });
      try {
        const members: Record<string, string> = s.accounts === 2 ? { MemberAccountIds: MEMBER_DEMO.account, MemberRoleArns: memberRoleArn } : {};
        // The worker's ECS actions are allowed in the configured clusters only (EcsClusterArns): the demo's.
        const clusters = { EcsClusterArns: `arn:aws:ecs:${s.region}:${DEFAULT_ACCOUNT}:cluster/${DEMO.cluster}` };
        const kit = await deployEventsKit(cfn, { stackName: 'fleetops', parameters: { VisibilityTimeout: '5', MaxReceiveCount: '3', ...clusters, ...members } });
        // The emulator's own form of the queue URLs (CloudFormation answers with the AWS host name).
        const local = (url: string) => new URL(new URL(url).pathname, awsEndpoint).href;
        const queues = {
          eventsQueueUrl: local(kit.EventsQueueUrl),
          lifecycleQueueUrl: local(kit.LifecycleQueueUrl),
          deadLetterQueueUrl: local(kit.DeadLetterQueueUrl),
          commandBusName: kit.CommandBusName,
        };
        say(`events path: CloudFormation stack fleetops (EventBridge rules → ${queues.eventsQueueUrl}) in ${seconds(Date.now() - t)}`);
        if (s.accounts === 2) {
          const instances = await seedMemberDemo(awsEndpoint, DEFAULT_ACCOUNT, s.region);
          say(`member account ${MEMBER_DEMO.account} (${MEMBER_DEMO.region}): kit fleetops-member, cluster ${MEMBER_DEMO.cluster} with ${instances.join(', ')}`);
        }
        // The worker acts as the kit's WorkerRole, as in production (the member kit's trust admits that
        // role only): a session of it, which the stack asks moto for as ECS would hand it to the task.
        const workerSession = await workerRoleSession(`http://127.0.0.1:${s.motoPort}`, kit.WorkerRoleArn);
        return { queues, workerSession };
      } finally {
        cfn.destroy();
      }
    })();

    const bundleReady = (async () => {
      const t = Date.now();
      const bundle = await cachedWorkflowBundle(join(s.runDir, 'cache'));
      say(`workflow bundle ${bundle.built ? `built in ${seconds(Date.now() - t)}` : 'unchanged, reused'}`);
      return bundle.path;
    })();

    // The worker and router start once the config can be rendered; the seed finishes meanwhile.
    // A seed that fails before that point rejects here rather than leaving the wait hanging.
    const seedFailedEarly = demoReady.then(() => new Promise<never>(() => {}));
    const [connection, inputs, bundlePath, { queues, workerSession }] = await Promise.all([temporalReady, Promise.race([configInputs, seedFailedEarly]), bundleReady, kitReady]);
    sink = await startWebhookSink({ host: s.host, logFile: join(s.runDir, 'notifications.log'), print });
    // Slack: a Web API stand-in in this process, and fresh secrets in files beside the config (0600).
    const slackSecrets = { signingSecret: randomBytes(24).toString('hex'), botToken: `xoxb-local-${randomBytes(16).toString('hex')}` };
    const slackFiles = { signingSecretFile: join(s.runDir, 'slack-signing-secret'), botTokenFile: join(s.runDir, 'slack-bot-token') };
    writeFileSync(slackFiles.signingSecretFile, slackSecrets.signingSecret, { mode: 0o600 });
    writeFileSync(slackFiles.botTokenFile, slackSecrets.botToken, { mode: 0o600 });
    writeFileSync(awsEventsTokenFile, awsEventsToken, { mode: 0o600 });
    slack = await startSlackStandIn({ host: s.host, ...demoSlackWorkspace(slackSecrets.botToken) });
    writeDemoConfig(configPath, {
      awsEndpoint,
      temporalAddress,
      temporalUi,
      namespace: s.namespace,
      webhookUrl: sink.url,
      postmortemDir: join(s.runDir, 'postmortems'),
      seeded: inputs,
      slack: demoSlackSection({ apiUrl: slack.apiUrl, ...slackFiles }),
      router: { tokens: [{ name: 'aws-events', scopes: ['aws-events'], tokenFile: awsEventsTokenFile }] },
      people: demoPeople(userInfo().username),
      ...(s.accounts === 2 ? { member: { ownAccount: DEFAULT_ACCOUNT, name: MEMBER_DEMO.cluster, cluster: memberClusterConfig() } } : {}),
    });

    // Worker shutdown grace is 10 s (workers/main.ts); router's budget is 9 s (router/main.ts).
    // A crashed worker or router comes back, as an orchestrator would bring it back: Temporal hands
    // the dead worker's tasks to the new one (that is what bench/spot-storm's worker-kill run measures).
    // A crash loop (a fourth exit within a minute) takes the stack down with the child's last words.
    const restart = { max: 3, windowMs: 60_000 };
    const workerEnv = { ...childEnv, ...sessionEnv(workerSession), FLEETOPS_WORKFLOW_BUNDLE: bundlePath };
    const worker = supervisor.start(tsEntry('worker', join(ROOT, 'workers', 'main.ts'), workerEnv, { stopTier: 1, stopTimeoutMs: 15_000, restart }));
    const routerEnv = { ...childEnv, FLEETOPS_EVENTS_QUEUE_URL: queues.eventsQueueUrl, FLEETOPS_LIFECYCLE_QUEUE_URL: queues.lifecycleQueueUrl };
    const router = supervisor.start(tsEntry('router', join(ROOT, 'router', 'main.ts'), routerEnv, { stopTier: 1, stopTimeoutMs: 12_000, restart }));
    const [seeded] = await Promise.all([
      demoReady.finally(() => aws.destroy()),
      waitForWorker(connection, s.namespace, worker).then(() => say(`worker polling (${seconds(Date.now() - startedAt)})`)),
      waitFor('router /readyz', async () => ((await httpStatus(`${routerUrl}/readyz`)) === 200 ? true : undefined), { timeoutMs: 90_000, child: router }).then(() =>
        say(`router ready at ${routerUrl} (${seconds(Date.now() - startedAt)})`),
      ),
    ]);
    await connection.close();

    const stackFile: StackFile = {
      temporal: { address: temporalAddress, namespace: s.namespace, ui: temporalUi },
      aws: { endpoint: awsEndpoint, region: s.region, ...queues },
      router: { url: routerUrl, token: routerToken, awsEventsToken },
      demo: { cluster: DEMO.cluster, service: DEMO.service, instances: seeded.instances, alarms: seeded.alarms },
      slack: { url: slackUrl, signingSecret: slackSecrets.signingSecret, messagesUrl: slack.messagesUrl, teamId: DEMO_SLACK.team.id, users: { ...DEMO_SLACK.users } },
    };
    const stackPath = join(s.runDir, 'stack.json');
    writeStackFile(stackPath, stackFile);

    print('');
    print(`${READY_MARKER} in ${seconds(Date.now() - startedAt)}`);
    print(`  Temporal Web UI  ${temporalUi}   (gRPC ${temporalAddress}, namespace ${s.namespace})`);
    print(`  AWS endpoint     ${awsEndpoint}   (${s.region}; cluster ${DEMO.cluster}, service ${DEMO.service})`);
    print(`  router           ${routerUrl}   (tokens in ${stackPath}); consumes ${queues.eventsQueueUrl} and ${queues.lifecycleQueueUrl}`);
    print(`  slack app        ${slackUrl}/slack/events   (its own listener; signing secret in stack.json; Web API stand-in's record: ${slack.messagesUrl})`);
    print(`  config           ${configPath}`);
    print(`  logs             ${s.logDir}/<name>.log; notifications in ${join(s.runDir, 'notifications.log')}`);
    print('  Ctrl-C stops everything.');
    print('');
  } catch (err) {
    if (shuttingDown) return;
    await shutdown(1, `could not start: ${(err as Error).message}`);
  }
}

async function waitForWorker(connection: Awaited<ReturnType<typeof connectTemporal>>, namespace: string, worker: ManagedChild): Promise<void> {
  // The worker bundles the workflow code before it polls; that is most of its start time.
  await waitFor(
    `worker polling ${TASK_QUEUE_CRITICAL} and ${TASK_QUEUE_DEFAULT}`,
    async () => {
      const polls = await Promise.all([TASK_QUEUE_CRITICAL, TASK_QUEUE_DEFAULT].map((q) => workerPolls(connection, namespace, q, worker.pid)));
      return polls.every(Boolean) ? true : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 250, child: worker },
  );
}

main().catch((err) => {
  process.stderr.write(`stack: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
