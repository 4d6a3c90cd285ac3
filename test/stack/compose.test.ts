import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { TASK_QUEUE_CRITICAL, TASK_QUEUE_DEFAULT, TASK_QUEUE_DRAIN_COORDINATOR } from '../../common/task-queues';
import { PORT_ENV } from '../../stack/ports';
import { stackSettings } from '../../stack/settings';
import { ROOT } from '../../testkit/paths';
import { sources } from './iam-actions';

/**
 * There is no Docker engine here, so docker-compose.yml, the Dockerfile and the operator docs (README, docs/operating.md) are checked
 * against the code instead: names, ports, commands and env vars must agree. (The IAM policies are in
 * the CloudFormation kit, checked by test/stack/aws-kit.test.ts.)
 */

const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

const serviceSchema = z
  .object({
    image: z.string().optional(),
    build: z.union([z.string(), z.object({ context: z.string(), dockerfile: z.string().optional() })]).optional(),
    command: z.array(z.string()).optional(),
    environment: z.record(z.string(), z.union([z.string(), z.number(), z.null()])).optional(),
    ports: z.array(z.string()).optional(),
    volumes: z.array(z.string()).optional(),
    depends_on: z.record(z.string(), z.object({ condition: z.string() })).optional(),
  })
  .passthrough();
const composeSchema = z.object({ services: z.record(z.string(), serviceSchema) }).passthrough();

const compose = composeSchema.parse(parse(read('docker-compose.yml'), { merge: true }));
const services = compose.services;
/** The operator-facing docs: the README's quick start and docs/operating.md's production settings. */
const readme = ['README.md', 'docs/operating.md'].map(read).join('\n');
const dockerfile = read('Dockerfile');

const productionCode = sources(['activities', 'workers', 'router', 'cli', 'config', 'common', 'contracts', 'workflows'])
  .map((f) => readFileSync(f, 'utf8'))
  .join('\n');

const env = (service: string) => services[service]?.environment ?? {};
/** What compose makes of `${VAR:-default}` when VAR is unset. */
const withDefaults = (text: string) => text.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');
/** `[hostIp?, hostPort, containerPort]` as published with every variable unset. */
const portMapping = (service: string) =>
  (services[service]?.ports ?? []).map((p) => withDefaults(p).split(':').map((part) => (/^\d+$/.test(part) ? Number(part) : part)));
/** The version the test suite runs on (scripts/install-tools.sh). */
const suiteNodeVersion = /^NODE_VERSION=(\d+\.\d+\.\d+)$/m.exec(read('scripts/install-tools.sh'))?.[1];

describe('docker-compose.yml', () => {
  it('runs Temporal on PostgreSQL, the Web UI, setup, the worker and the router', () => {
    expect(Object.keys(services).sort()).toEqual(['fleetops-setup', 'postgresql', 'router', 'temporal', 'temporal-ui', 'worker']);
    expect(services.postgresql.image).toMatch(/^postgres:/);
    expect(services.temporal.image).toMatch(/^temporalio\/auto-setup:/);
    expect(env('temporal')).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql', DEFAULT_NAMESPACE: 'default' });
    expect(services.temporal.depends_on?.postgresql?.condition).toBe('service_healthy');
    expect(services['temporal-ui'].image).toMatch(/^temporalio\/ui:/);
    expect(env('temporal-ui').TEMPORAL_ADDRESS).toBe('temporal:7233');
  });

  it('has no default database password: compose stops with a message naming TEMPORAL_DB_PASSWORD when it is unset', () => {
    const required = /^\$\{TEMPORAL_DB_PASSWORD:\?[^}]*TEMPORAL_DB_PASSWORD[^}]*\}$/;
    expect(String(env('postgresql').POSTGRES_PASSWORD)).toMatch(required);
    expect(String(env('temporal').POSTGRES_PWD)).toMatch(required);
    expect(read('docker-compose.yml')).not.toMatch(/TEMPORAL_DB_PASSWORD:-/);
    expect(readme).toContain('TEMPORAL_DB_PASSWORD=');
  });

  it('gives the server the dynamic config the local stack gives its dev server (eager activity execution, task priority)', () => {
    const mount = (services.temporal.volumes ?? []).find((v) => v.startsWith('./deploy/temporal/dynamicconfig.yaml:'));
    expect(mount).toBe('./deploy/temporal/dynamicconfig.yaml:/etc/temporal/config/dynamicconfig/fleetops.yaml:ro');
    expect(env('temporal').DYNAMIC_CONFIG_FILE_PATH).toBe('/etc/temporal/config/dynamicconfig/fleetops.yaml');
    const dynamic = z.record(z.string(), z.array(z.object({ value: z.unknown() }))).parse(parse(read('deploy/temporal/dynamicconfig.yaml')));
    expect(dynamic['system.enableActivityEagerExecution']).toEqual([{ value: true }]);
    expect(read('stack/temporal-server.ts')).toContain(`'system.enableActivityEagerExecution=true'`);
    // Task priority (the drain coordinator's call ahead of the drains'): the priority matcher, also in the test harness's dev server.
    expect(dynamic['matching.useNewMatcher']).toEqual([{ value: true }]);
    expect(read('stack/temporal-server.ts')).toContain(`'matching.useNewMatcher=true'`);
    expect(read('test/harness/global-setup.ts')).toContain(`'matching.useNewMatcher=true'`);
  });

  it('publishes the ports the local stack and README use: gRPC 7233, Web UI 8233 (container 8080), router 8787, Slack 8788, all on loopback', () => {
    const defaults = stackSettings({});
    // Temporal's gRPC and Web UI on the host's loopback unless deliberately bound elsewhere.
    expect(portMapping('temporal')).toEqual([['127.0.0.1', defaults.temporalPort, 7233]]);
    expect(portMapping('temporal-ui')).toEqual([['127.0.0.1', defaults.temporalUiPort, 8080]]);
    expect(services.temporal.ports).toEqual([`\${TEMPORAL_BIND_ADDRESS:-127.0.0.1}:${defaults.temporalPort}:7233`]);
    expect(services['temporal-ui'].ports).toEqual([`\${TEMPORAL_UI_BIND_ADDRESS:-127.0.0.1}:${defaults.temporalUiPort}:8080`]);
    // The internal listener (events, metrics) on loopback, always; Slack's on loopback unless SLACK_BIND_ADDRESS is set.
    expect(portMapping('router')).toEqual([
      ['127.0.0.1', defaults.routerPort, Number(env('router').FLEETOPS_ROUTER_PORT)],
      ['127.0.0.1', defaults.slackPort, Number(env('router').FLEETOPS_SLACK_PORT)],
    ]);
    expect(services.router.ports).toEqual([`127.0.0.1:${defaults.routerPort}:8787`, `\${SLACK_BIND_ADDRESS:-127.0.0.1}:${defaults.slackPort}:8788`]);
    // The router's own default port is the one compose sets.
    expect(read('router/env.ts')).toMatch(new RegExp(`FLEETOPS_ROUTER_PORT: .*\\.default\\(${defaults.routerPort}\\)`));
    expect(readme).toContain(`http://localhost:${defaults.temporalUiPort}`);
    expect(readme).toContain(`http://localhost:${defaults.routerPort}`);
    expect(readme).toContain(`http://localhost:${defaults.slackPort}`);
  });

  it('builds fleetops-setup, worker and router from the Dockerfile and runs the compiled entry points', () => {
    const built = Object.entries(services).filter(([, s]) => s.image === 'fleetops:local');
    expect(built.map(([n]) => n).sort()).toEqual(['fleetops-setup', 'router', 'worker']);
    expect(built.filter(([, s]) => s.build !== undefined).map(([n]) => n)).toEqual(['fleetops-setup']);
    expect(services['fleetops-setup'].build).toBe('.');
    const commands = Object.fromEntries(built.map(([n, s]) => [n, s.command]));
    expect(commands).toEqual({
      'fleetops-setup': ['node', 'dist/cli/main.js', 'setup'],
      worker: ['node', 'dist/workers/main.js'],
      router: ['node', 'dist/router/main.js'],
    });
    const buildIncludes = (JSON.parse(read('tsconfig.build.json')) as { include: string[] }).include;
    for (const cmd of Object.values(commands)) {
      const source = cmd?.[1].replace(/^dist\//, '').replace(/\.js$/, '.ts') ?? '';
      expect(existsSync(join(ROOT, source))).toBe(true);
      expect(buildIncludes).toContain(source.split('/')[0]);
      expect(dockerfile).toContain(`COPY ${source.split('/')[0]} ./${source.split('/')[0]}`);
    }
    expect(services.worker.depends_on?.['fleetops-setup']?.condition).toBe('service_completed_successfully');
    expect(services.router.depends_on?.['fleetops-setup']?.condition).toBe('service_completed_successfully');
  });

  it('mounts the config where FLEETOPS_CONFIG points, and points the processes at the compose Temporal', () => {
    for (const name of ['worker', 'router']) {
      const configPath = String(env(name).FLEETOPS_CONFIG);
      // `<host path>:<container path>:ro`; the host path may hold `${VAR:-default}`.
      const targets = (services[name].volumes ?? []).map((v) => /:(\/[^:]+):ro$/.exec(v)?.[1]);
      expect(targets).toContain(configPath);
      expect(env(name).FLEETOPS_TEMPORAL_ADDRESS).toBe('temporal:7233');
      expect(env(name).FLEETOPS_TEMPORAL_NAMESPACE).toBe('default');
    }
    expect(env('fleetops-setup').FLEETOPS_TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(dockerfile).toContain(`FLEETOPS_CONFIG=${String(env('worker').FLEETOPS_CONFIG)}`);
    // The router must listen beyond the container's loopback to be reachable through the port mapping.
    expect(env('router').FLEETOPS_ROUTER_HOST).toBe('0.0.0.0');
    expect(String(env('router').FLEETOPS_ROUTER_TOKEN)).toMatch(/^\$\{FLEETOPS_ROUTER_TOKEN:\?/);
  });

  it('sets only env vars the code reads (FLEETOPS_*, OTEL_EXPORTER_OTLP_ENDPOINT) or the AWS SDK reads (AWS_*)', () => {
    const fleetopsVars = new Set<string>();
    for (const name of ['fleetops-setup', 'worker', 'router']) {
      for (const key of Object.keys(env(name))) {
        if (key === 'OTEL_EXPORTER_OTLP_ENDPOINT') {
          // Tracing: passed through, empty (off) unless set; common/tracing.ts reads it.
          expect(env(name)[key]).toBe('${OTEL_EXPORTER_OTLP_ENDPOINT:-}');
          expect(productionCode).toContain(key);
        } else if (key.startsWith('AWS_')) {
          expect(['AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']).toContain(key);
        } else {
          expect(key).toMatch(/^FLEETOPS_/);
          fleetopsVars.add(key);
        }
      }
    }
    const unread = [...fleetopsVars].filter((v) => !productionCode.includes(v));
    expect(unread).toEqual([]);
    // And the README documents each of them.
    expect([...fleetopsVars].filter((v) => !readme.includes(v))).toEqual([]);
  });
});

describe('Dockerfile', () => {
  const stages = (dockerfile.match(/^FROM .+$/gm) ?? []).map((l) => l.replace(/^FROM /, ''));
  const stage = (name: string) => dockerfile.split(/^FROM /m).find((part) => part.includes(` AS ${name}\n`)) ?? '';
  const image = /^ARG NODE_IMAGE=(.+)$/m.exec(dockerfile)?.[1] ?? '';

  it('builds from one base image, the Node LTS the suite runs on, pinned by digest with a note on updating it', () => {
    expect(stages).toEqual(['${NODE_IMAGE} AS build', '${NODE_IMAGE} AS prod-deps', '${NODE_IMAGE} AS runtime']);
    const m = /^node:(\d+\.\d+\.\d+)-trixie-slim@sha256:[0-9a-f]{64}$/.exec(image);
    expect(m).not.toBeNull();
    const version = m![1];
    expect(version).toBe(suiteNodeVersion);
    const major = Number(version.split('.')[0]);
    const pkg = JSON.parse(read('package.json')) as { engines: { node: string }; devDependencies: Record<string, string> };
    expect(pkg.engines.node).toBe(`>=${version} <${major + 1}`);
    expect(Number(pkg.devDependencies['@types/node'].split('.')[0])).toBe(major);
    expect(dockerfile).toContain('docker buildx imagetools inspect');
    expect(read('scripts/install-tools.sh')).toMatch(/^NODE_INTEGRITY=sha512-/m);
  });

  it('installs exactly the lockfile with npm ci, compiles with tsconfig.build.json and bundles workflows with the tracing interceptors', () => {
    expect(dockerfile).not.toMatch(/npm install/);
    expect(stage('build')).toMatch(/COPY package\.json package-lock\.json \.npmrc/);
    expect(stage('build')).toMatch(/^RUN npm ci /m);
    expect(stage('build')).toContain('RUN npm run build');
    expect(stage('prod-deps')).toMatch(/^RUN npm ci --omit=dev /m);
    expect((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.build).toBe('tsc -p tsconfig.build.json');
    expect(stage('build')).toContain("require('./dist/common/workflow-bundle').writeWorkflowBundle(");
    expect(read('common/workflow-bundle.ts')).toContain('workflowInterceptorModules');
  });

  it('ships a runtime image without the simulator and the local stack: production dependencies, dist/, the worker as default', () => {
    const build = JSON.parse(read('tsconfig.build.json')) as { include: string[]; exclude: string[] };
    expect(build.include).not.toContain('simulator');
    expect(build.include).not.toContain('stack');
    expect(build.exclude).toEqual(expect.arrayContaining(['simulator', 'stack']));
    expect(dockerfile).not.toMatch(/COPY (simulator|stack)\b/);
    // Nothing the runtime code loads may come from simulator/ or stack/.
    expect(productionCode).not.toMatch(/from '(\.\.\/)+(simulator|stack)\//);
    const runtime = stage('runtime');
    expect(runtime).toContain('COPY --from=prod-deps /app/node_modules ./node_modules');
    expect(runtime).toContain('COPY --from=build /app/dist ./dist');
    expect(runtime.match(/^COPY .*$/gm)).toHaveLength(4);
    expect(runtime).toContain('CMD ["node", "dist/workers/main.js"]');
    expect(runtime).toMatch(/^USER node$/m);
  });
});

describe('README', () => {
  it('starts from exactly `make up` and `make test`, which the Makefile defines', () => {
    expect(readme).toMatch(/```sh\nmake up[^\n]*\nmake test[^\n]*\n```/);
    const makefile = read('Makefile');
    expect(makefile).toMatch(/^up: /m);
    expect(makefile).toMatch(/^test:/m);
    expect(makefile).toContain('stack/up.ts');
    // Both install what they need first, from the lockfile without rewriting it.
    expect(makefile).toMatch(/^test:[\s\S]*?install-tools\.sh/m);
    expect(read('scripts/install-tools.sh')).toMatch(/npm ci /);
  });

  it('names every task queue and every port variable of the local stack', () => {
    for (const q of [TASK_QUEUE_CRITICAL, TASK_QUEUE_DRAIN_COORDINATOR, TASK_QUEUE_DEFAULT]) expect(readme).toContain(`\`${q}\``);
    for (const v of Object.values(PORT_ENV)) expect(readme).toContain(`\`${v}\``);
  });

  it('sends real-AWS users to the CloudFormation kit and its outputs, not to hand-written IAM policies', () => {
    expect(readme).toContain('deploy/aws/fleetops-events.yaml');
    for (const output of ['EventsQueueUrl', 'WorkerRoleArn', 'RouterRoleArn', 'OperatorPolicyArn']) expect(readme).toContain(output);
    // The policies live in the template only (test/stack/aws-kit.test.ts keeps them in step with the code).
    expect(readme).not.toMatch(/"Sid": "FleetopsWorker"/);
  });
});
