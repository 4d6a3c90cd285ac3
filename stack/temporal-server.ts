import { join } from 'node:path';
import { ALL_SEARCH_ATTRIBUTES } from '../common/search-attributes';
import { allocatePorts } from './ports';
import type { StackSettings } from './settings';

type DevServerSettings = Pick<StackSettings, 'host' | 'temporalPort' | 'temporalHttpPort' | 'temporalMetricsPort' | 'temporalUiPort' | 'namespace' | 'runDir'>;

/**
 * `temporal server start-dev`'s arguments for the local stack. Every port it would otherwise pick
 * itself is passed (HTTP API, metrics): its own pick could land on a port the stack had handed to
 * another of its parts, and then one of them fails to bind. Ports must be resolved (no 0) by now.
 */
export function temporalDevServerArgs(s: DevServerSettings): string[] {
  for (const key of ['temporalPort', 'temporalHttpPort', 'temporalMetricsPort', 'temporalUiPort'] as const) {
    if (!(s[key] > 0)) throw new Error(`${key} is ${s[key]}: the dev server's ports are picked before it starts (stack/ports.ts)`);
  }
  return [
    'server',
    'start-dev',
    '--ip',
    s.host,
    '--port',
    String(s.temporalPort),
    '--http-port',
    String(s.temporalHttpPort),
    '--metrics-port',
    String(s.temporalMetricsPort),
    '--ui-port',
    String(s.temporalUiPort),
    '--db-filename',
    join(s.runDir, 'temporal.sqlite'),
    // Persistent, but without an fsync per transaction (WAL + synchronous=NORMAL loses at most the last
    // commits on a power cut, never on a crash of the server): a drain storm writes thousands of them.
    '--sqlite-pragma',
    'journal_mode=wal',
    '--sqlite-pragma',
    'synchronous=normal',
    // Activities on the workflow's own task queue come back with the workflow task's answer instead of
    // waiting for a poller: a drain's steps are one activity each.
    '--dynamic-config-value',
    'system.enableActivityEagerExecution=true',
    // Task priority (the drain coordinator's call goes ahead of the drains' activities): the
    // priority-aware matcher, off by default in this server version.
    '--dynamic-config-value',
    'matching.useNewMatcher=true',
    // One partition per task queue: a single-process server gains nothing from four, and a storm's
    // first workflow tasks backlogged in a partition wait for a poll that happens to land there.
    '--dynamic-config-value',
    'matching.numTaskqueueReadPartitions=1',
    '--dynamic-config-value',
    'matching.numTaskqueueWritePartitions=1',
    '--namespace',
    s.namespace,
    ...ALL_SEARCH_ATTRIBUTES.flatMap((k) => ['--search-attribute', `${k.name}=Keyword`]),
    '--log-level',
    'warn',
  ];
}

/**
 * The same ports for a dev server the SDK starts (TestWorkflowEnvironment.createLocal's `extraArgs`):
 * the SDK passes --port itself but leaves the HTTP API and metrics ports to the CLI.
 */
export async function sdkDevServerPortArgs(host = '127.0.0.1'): Promise<string[]> {
  const p = await allocatePorts(['http', 'metrics'], { host });
  return ['--http-port', String(p.http), '--metrics-port', String(p.metrics)];
}
