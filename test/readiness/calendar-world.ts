import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { parse as parseYaml } from 'yaml';
import { createReadinessCalendarActivities } from '../../activities/readiness-calendar';
import { TASK_QUEUE_DEFAULT } from '../../common/task-queues';
import { loadConfig } from '../../config/load';
import { statusQuery } from '../../contracts/controls';
import type { ReadinessStatus } from '../../contracts/readiness/messages';
import { ROOT } from '../../testkit/paths';
import { until } from '../../testkit/poll';
import { cli, writeCliConfig, type CliRun } from '../cli/helpers';
import { bundledWorkflows, connectDevServer } from '../harness/temporal';
import { createWorker } from '../harness/workers';

/**
 * Imported readiness windows on the dev server (the time-skipping server has no Schedules), in a
 * namespace of the file's own: its worker polls the `fleetops` queue the CLI and the Schedules start
 * on, with the real readiness, trigger and feed workflows and the calendar activities over the same
 * config as the CLI's. Notifications are recorded, not sent. Levels of the cluster: 2 (no floor, a
 * 5 s lead, so a window seconds away is quick and raises nothing) and 3 (a floor of 4 units, 10 min lead).
 */
export interface CalendarWorld {
  env: TestWorkflowEnvironment;
  /** A client of the world's namespace. */
  client: Client;
  cluster: string;
  dir: string;
  /** The CLI in the world's namespace, as `user`. */
  run(args: string[], user?: string): Promise<CliRun>;
  /** Writes `name` in the world's directory; returns its path. */
  file(name: string, text: string): string;
  status(workflowId: string): Promise<ReadinessStatus>;
  close(): Promise<void>;
}

export async function calendarWorld(name: string): Promise<CalendarWorld> {
  const env = await connectDevServer();
  const namespace = `fleetops-${name}-${process.pid}-${Date.now().toString(36)}`;
  await env.client.connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
  const dir = mkdtempSync(join(tmpdir(), `fleetops-${name}-`));
  const cluster = `cal${process.pid}${Date.now().toString(36)}`;
  const fixture = parseYaml(readFileSync(join(ROOT, 'test', 'fixtures', 'fleetops.valid.yaml'), 'utf8')) as { clusters: Record<string, object> };
  const readiness = { bootToActiveSeconds: 240, levels: { '2': { leadSeconds: 5 }, '3': { floor: { units: 4 }, leadSeconds: 600, freezeDeploys: true } } };
  const configPath = writeCliConfig(dir, [{ cluster, name: 'web' }], { clusters: { [cluster]: { ...fixture.clusters.demo, readiness } } });
  const cliEnv = { FLEETOPS_TEMPORAL_ADDRESS: process.env.FLEETOPS_TEST_TEMPORAL_ADDRESS, FLEETOPS_TEMPORAL_NAMESPACE: namespace, FLEETOPS_CONFIG: configPath };
  await until('setup in the new namespace', async () => ((await cli(['setup'], cliEnv)).code === 0 ? true : undefined), { timeoutMs: 30_000, intervalMs: 250 });
  const notify = async () => ({ sent: ['test'], skipped: [] });
  const worker: Worker = await createWorker({
    connection: env.nativeConnection,
    namespace,
    taskQueue: TASK_QUEUE_DEFAULT,
    ...bundledWorkflows(),
    activities: { notify, ...createReadinessCalendarActivities({ config: loadConfig(configPath) }) },
  });
  const workerRun = worker.run();
  const client = new Client({ connection: env.connection, namespace });
  return {
    env,
    client,
    cluster,
    dir,
    run: (args, user = 'alice') => cli(args, cliEnv, dir, user),
    file: (file, text) => {
      const path = join(dir, file);
      writeFileSync(path, text);
      return path;
    },
    status: async (workflowId) => (await client.workflow.getHandle(workflowId).query(statusQuery)) as ReadinessStatus,
    close: async () => {
      worker.shutdown();
      await workerRun;
      await env.teardown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const pad = (n: number) => String(n).padStart(2, '0');
/** An iCalendar UTC date-time (20251017T180000Z), to the second. */
export const icsUtc = (ms: number): string => {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
};

/** A VCALENDAR of the events (each a VEVENT's lines), with CRLF line ends as RFC 5545 writes them. */
export const icsCalendar = (...events: string[][]): string =>
  ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//fleetops tests//EN', ...events.flatMap((e) => ['BEGIN:VEVENT', ...e, 'END:VEVENT']), 'END:VCALENDAR', ''].join('\r\n');
