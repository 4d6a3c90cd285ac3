import { isAbsolute, join, resolve } from 'node:path';
import { PORT_ENV, STACK_PORT_NAMES, STACK_PORTS, type StackPorts } from './ports';

/** Repository root: every child process runs here, so relative paths mean the same to all of them. */
export const ROOT = resolve(__dirname, '..');

/**
 * Where the local stack listens (stack/ports.ts) and keeps its state. Each port is overridable by env
 * so two stacks (or a test's stack beside a developer's) can run side by side; a port whose default
 * is `free` is 0 here until stack/up.ts picks it.
 */
export interface StackSettings extends StackPorts {
  host: '127.0.0.1';
  region: string;
  namespace: string;
  /** Run state: Temporal's SQLite file, logs, the rendered config, stack.json. Git-ignored. */
  runDir: string;
  logDir: string;
  /** The router's bearer token; generated per start unless FLEETOPS_ROUTER_TOKEN is set. */
  routerToken?: string;
  /** Print every child log line on the console, not only warnings and errors. */
  verbose: boolean;
  /** 1 (the demo's one account), or 2: a member account beside it (stack/member-demo.ts). FLEETOPS_STACK_ACCOUNTS. */
  accounts: 1 | 2;
  /** Start a Prometheus scraping the worker and router (stack/prometheus.ts). FLEETOPS_STACK_PROMETHEUS=1. */
  prometheus: boolean;
  /**
   * The config template the stack renders (stack/demo-config.ts): config/demo.fleetops.yaml unless
   * FLEETOPS_STACK_CONFIG_TEMPLATE names another, which must keep the demo's clusters and services and
   * may add its own (bench/release.ts adds a generated cluster of many services).
   */
  configTemplate?: string;
  /** Worker processes (FLEETOPS_STACK_WORKERS, default 1): several poll the same task queues, as in production. */
  workers: number;
  /** Router processes (FLEETOPS_STACK_ROUTERS, default 1): each its own ports, all consuming the same queues. */
  routers: number;
  /**
   * FLEETOPS_STACK_COORDINATOR_WORKER=1: one more worker process, polling the drain coordinator's queue
   * alone, and the others every queue but that one (docs/operating.md, Sizing).
   */
  coordinatorWorker: boolean;
}

/** At most this many workers or routers: each is a node process of a few hundred MB. */
export const MAX_REPLICAS = 8;

function replicas(env: NodeJS.ProcessEnv, name: string): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_REPLICAS) throw new Error(`${name}=${raw}: must be a whole number from 1 to ${MAX_REPLICAS}`);
  return n;
}

function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '' || raw === '0') return false;
  if (raw === '1') return true;
  throw new Error(`${name}=${raw}: must be 1 or 0`);
}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name}=${raw}: must be a TCP port number`);
  return n;
}

export function stackSettings(env: NodeJS.ProcessEnv = process.env): StackSettings {
  const runDir = env.FLEETOPS_RUN_DIR ? (isAbsolute(env.FLEETOPS_RUN_DIR) ? env.FLEETOPS_RUN_DIR : resolve(ROOT, env.FLEETOPS_RUN_DIR)) : join(ROOT, '.run');
  return {
    host: '127.0.0.1',
    ...portsFromEnv(env),
    region: env.FLEETOPS_AWS_REGION ?? 'us-east-1',
    namespace: 'default',
    runDir,
    logDir: join(runDir, 'logs'),
    routerToken: env.FLEETOPS_ROUTER_TOKEN || undefined,
    verbose: env.FLEETOPS_STACK_VERBOSE === '1',
    accounts: accountsOf(env.FLEETOPS_STACK_ACCOUNTS),
    prometheus: env.FLEETOPS_STACK_PROMETHEUS === '1',
    ...(env.FLEETOPS_STACK_CONFIG_TEMPLATE ? { configTemplate: resolve(ROOT, env.FLEETOPS_STACK_CONFIG_TEMPLATE) } : {}),
    workers: replicas(env, 'FLEETOPS_STACK_WORKERS'),
    routers: replicas(env, 'FLEETOPS_STACK_ROUTERS'),
    coordinatorWorker: flag(env, 'FLEETOPS_STACK_COORDINATOR_WORKER'),
  };
}

function portsFromEnv(env: NodeJS.ProcessEnv): StackPorts {
  const fallback = (d: number | 'free') => (d === 'free' ? 0 : d);
  return Object.fromEntries(STACK_PORT_NAMES.map((k) => [k, port(env, STACK_PORTS[k].env, fallback(STACK_PORTS[k].makeUp))])) as StackPorts;
}

function accountsOf(raw: string | undefined): 1 | 2 {
  if (raw === undefined || raw === '' || raw === '1') return 1;
  if (raw === '2') return 2;
  throw new Error(`FLEETOPS_STACK_ACCOUNTS=${raw}: must be 1 or 2`);
}

/** The env that points a `stack/up.ts` (or `make up`) at a run folder and its ports: tests and benches. */
export function stackEnv(runDir: string, ports: StackPorts): Record<string, string> {
  const env: Record<string, string> = { FLEETOPS_RUN_DIR: runDir };
  for (const key of STACK_PORT_NAMES) env[PORT_ENV[key]] = String(ports[key]);
  return env;
}
