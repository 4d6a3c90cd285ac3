import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { ReplicaPorts } from './ports';
import type { ChildSpec } from './processes';
import { ROOT, type StackSettings } from './settings';

/**
 * The local stack's Prometheus (FLEETOPS_STACK_PROMETHEUS=1): Debian's prometheus package
 * (scripts/install-prometheus.sh), scraping every worker's and router's /metrics every second and
 * evaluating the shipped alert rules (deploy/prometheus/rules.yml), so the dashboards
 * (deploy/grafana/) and the rules can be tried, and checked by a test, against what the stack exports.
 * A short interval because the stack is short-lived: a test reads what a scenario did seconds later.
 */

export const PROMETHEUS_BIN = '/usr/bin/prometheus';
export const ALERT_RULES_FILE = join(ROOT, 'deploy', 'prometheus', 'rules.yml');
export const SCRAPE_INTERVAL = '1s';

/** The scrape jobs' names, the `job` label of every series they bring. */
export const PROMETHEUS_JOBS = { worker: 'fleetops-worker', router: 'fleetops-router' } as const;

type PrometheusSettings = Pick<StackSettings, 'host' | 'runDir' | 'prometheusPort'>;

/**
 * prometheus.yml for the stack: one job per kind of process that exports metrics, with a target per
 * process (FLEETOPS_STACK_WORKERS/ROUTERS: a sum over the job is the fleet's, as with several replicas
 * in production); a worker with metrics off has none.
 */
export function prometheusConfig(s: PrometheusSettings, replicas: ReplicaPorts): Record<string, unknown> {
  const job = (name: string, ports: number[]) => ({ job_name: name, static_configs: [{ targets: ports.map((port) => `${s.host}:${port}`) }] });
  const workerPorts = replicas.workerMetricsPorts.filter((port) => port > 0);
  return {
    global: { scrape_interval: SCRAPE_INTERVAL, scrape_timeout: SCRAPE_INTERVAL, evaluation_interval: SCRAPE_INTERVAL },
    rule_files: [ALERT_RULES_FILE],
    scrape_configs: [...(workerPorts.length ? [job(PROMETHEUS_JOBS.worker, workerPorts)] : []), job(PROMETHEUS_JOBS.router, replicas.routers.map((r) => r.routerPort))],
  };
}

/** Writes the config under <run>/prometheus/ and returns the child to start; its data stays there between starts. */
export function prometheusSpec(s: PrometheusSettings, replicas: ReplicaPorts, env: NodeJS.ProcessEnv): ChildSpec {
  if (!(s.prometheusPort > 0)) throw new Error(`prometheusPort is ${s.prometheusPort}: the stack's ports are picked before it starts (stack/ports.ts)`);
  if (!existsSync(PROMETHEUS_BIN)) throw new Error(`${PROMETHEUS_BIN} is missing: run scripts/install-tools.sh prometheus (make up does when FLEETOPS_STACK_PROMETHEUS=1)`);
  const dir = join(s.runDir, 'prometheus');
  mkdirSync(join(dir, 'data'), { recursive: true });
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, `# Written by stack/up.ts for this run of the local stack (stack/prometheus.ts); overwritten on the next start.\n${stringify(prometheusConfig(s, replicas))}`);
  return {
    name: 'prometheus',
    command: PROMETHEUS_BIN,
    args: [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      // A local stack's history is worth a day or two, not the default fortnight.
      '--storage.tsdb.retention.time=2d',
      `--web.listen-address=${s.host}:${s.prometheusPort}`,
      '--log.level=warn',
    ],
    env,
    cwd: ROOT,
    // Stops with the servers (tier 0), after the worker and router it scrapes.
    stopTimeoutMs: 10_000,
  };
}
