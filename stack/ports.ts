import { createConnection, createServer, type AddressInfo, type Server } from 'node:net';

/**
 * Every TCP port the local stack listens on, with its env var and what `make up` uses when the var is
 * unset: a fixed port (docs/contract.md, Ports and the local stack), or `free` for one it picks at start
 * with `allocatePorts`, so that every port a child gets is known and passed to it before it starts.
 *
 * The ports of the second and later workers and routers (FLEETOPS_STACK_WORKERS, FLEETOPS_STACK_ROUTERS)
 * are not listed either: `replicaPorts` picks them at start, away from these.
 *
 * Not listed, because nothing can take them between the pick and the bind: the webhook sink and the
 * Slack stand-in, which listen on port 0 inside stack/up.ts. Not listed, because the Temporal CLI has
 * no flag for them: the dev server's history, matching and worker services, whose ports it picks with
 * bind(0) at start; the reservation below keeps those picks off the ports allocated here.
 */
export const STACK_PORTS = {
  /** Temporal frontend gRPC. */
  temporalPort: { env: 'FLEETOPS_TEMPORAL_PORT', makeUp: 7233 },
  /** Temporal frontend HTTP API (`--http-port`; the CLI would pick one itself). */
  temporalHttpPort: { env: 'FLEETOPS_TEMPORAL_HTTP_PORT', makeUp: 'free' },
  /** The dev server's Prometheus endpoint (`--metrics-port`; the CLI would pick one itself). */
  temporalMetricsPort: { env: 'FLEETOPS_TEMPORAL_METRICS_PORT', makeUp: 'free' },
  temporalUiPort: { env: 'FLEETOPS_TEMPORAL_UI_PORT', makeUp: 8233 },
  /** The simulator, the AWS endpoint everything talks to. */
  awsPort: { env: 'FLEETOPS_AWS_PORT', makeUp: 4566 },
  /** moto, behind the simulator (simulator/main.ts). */
  motoPort: { env: 'FLEETOPS_MOTO_PORT', makeUp: 'free' },
  routerPort: { env: 'FLEETOPS_ROUTER_PORT', makeUp: 8787 },
  /** The router's Slack listener (/slack/* only): the one a tunnel from Slack would point at. */
  slackPort: { env: 'FLEETOPS_SLACK_PORT', makeUp: 8788 },
  /** The worker's Prometheus port; 0 set explicitly disables it. */
  workerMetricsPort: { env: 'FLEETOPS_WORKER_METRICS_PORT', makeUp: 9464 },
  /** The stack's Prometheus (stack/prometheus.ts), when FLEETOPS_STACK_PROMETHEUS=1; Prometheus's own default. */
  prometheusPort: { env: 'FLEETOPS_PROMETHEUS_PORT', makeUp: 9090 },
} as const satisfies Record<string, { env: string; makeUp: number | 'free' }>;

export type StackPortName = keyof typeof STACK_PORTS;
export type StackPorts = Record<StackPortName, number>;
export const STACK_PORT_NAMES = Object.keys(STACK_PORTS) as StackPortName[];

/** Names of the env vars, for stackEnv and for messages that tell the user what to change. */
export const PORT_ENV = Object.fromEntries(STACK_PORT_NAMES.map((k) => [k, STACK_PORTS[k].env])) as { [K in StackPortName]: (typeof STACK_PORTS)[K]['env'] };

const listenOnAnyPort = (host: string): Promise<Server> =>
  new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => resolve(srv));
  });

/**
 * Leaves the port in TIME_WAIT on the listening side (the accepted socket closes first). For the next
 * minute the kernel hands it to no bind(0) (the Temporal CLI's own picks, moto's, other suites'), while
 * the child it is meant for binds it as usual: node, Go and Python's HTTP servers all set SO_REUSEADDR.
 * The Temporal CLI reserves its own picks the same way (devserver/freeport.go).
 */
function reserve(srv: Server, host: string): Promise<void> {
  const { port } = srv.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    srv.once('connection', (accepted) => accepted.destroy());
    const client = createConnection({ host, port });
    client.once('error', reject);
    client.once('close', () => resolve());
  });
}

/**
 * Free ports for `names`, distinct from each other and from `avoid`. All are held open until every one
 * is picked, so the kernel cannot hand out one twice (separate probe-and-close calls can, and did).
 */
export async function allocatePorts<K extends string>(names: readonly K[], opts: { host?: string; avoid?: Iterable<number> } = {}): Promise<Record<K, number>> {
  const host = opts.host ?? '127.0.0.1';
  const avoid = new Set(opts.avoid);
  const held: Server[] = [];
  const picked: Server[] = [];
  const ports: number[] = [];
  try {
    while (picked.length < names.length) {
      if (held.length >= names.length + 32) throw new Error(`could not find ${names.length} free ports on ${host} outside ${[...avoid].join(', ')}`);
      const srv = await listenOnAnyPort(host);
      held.push(srv);
      const { port } = srv.address() as AddressInfo;
      if (avoid.has(port)) continue;
      picked.push(srv);
      ports.push(port);
    }
    await Promise.all(picked.map((srv) => reserve(srv, host)));
  } finally {
    await Promise.all(held.map((srv) => new Promise<void>((r) => srv.close(() => r()))));
  }
  return Object.fromEntries(names.map((name, i) => [name, ports[i]])) as Record<K, number>;
}

/** Every port a stack binds, for a test's or a bench's stack beside any other. */
export function allocateStackPorts(host = '127.0.0.1'): Promise<StackPorts> {
  return allocatePorts(STACK_PORT_NAMES, { host });
}

/** `make up`: the `free` ports the env left unset (or 0) get one each, away from the ports already set. */
export async function withFreePorts(ports: StackPorts, host: string): Promise<StackPorts> {
  const unset = STACK_PORT_NAMES.filter((k) => STACK_PORTS[k].makeUp === 'free' && ports[k] === 0);
  const avoid = STACK_PORT_NAMES.map((k) => ports[k]).filter((p) => p > 0);
  const picked: Partial<StackPorts> = unset.length ? await allocatePorts(unset, { host, avoid }) : {};
  return Object.fromEntries(STACK_PORT_NAMES.map((k) => [k, picked[k] ?? ports[k]])) as StackPorts;
}

/** The ports of each worker and router process: the first's are the listed ones, the others' picked free. */
export interface ReplicaPorts {
  routers: { routerPort: number; slackPort: number }[];
  /** 0 for every worker when the first's is 0 (metrics disabled). */
  workerMetricsPorts: number[];
}

export async function replicaPorts(ports: StackPorts, host: string, counts: { workers: number; routers: number }): Promise<ReplicaPorts> {
  const metrics = ports.workerMetricsPort > 0;
  const extraRouters = Array.from({ length: counts.routers - 1 }, (_, i) => i + 2);
  const extraWorkers = metrics ? Array.from({ length: counts.workers - 1 }, (_, i) => i + 2) : [];
  const names = [...extraRouters.flatMap((n) => [`router${n}`, `slack${n}`]), ...extraWorkers.map((n) => `metrics${n}`)];
  const avoid = STACK_PORT_NAMES.map((k) => ports[k]).filter((p) => p > 0);
  const picked: Record<string, number> = names.length ? await allocatePorts(names, { host, avoid }) : {};
  return {
    routers: [{ routerPort: ports.routerPort, slackPort: ports.slackPort }, ...extraRouters.map((n) => ({ routerPort: picked[`router${n}`]!, slackPort: picked[`slack${n}`]! }))],
    workerMetricsPorts: [ports.workerMetricsPort, ...Array.from({ length: counts.workers - 1 }, (_, i) => (metrics ? picked[`metrics${i + 2}`]! : 0))],
  };
}
