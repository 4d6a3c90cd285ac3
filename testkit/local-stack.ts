import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allocateStackPorts } from '../stack/ports';
import { stackEnv } from '../stack/settings';
import { readStackFile, type StackFile } from '../stack/stack-file';
import { ROOT } from './paths';
import { until } from './poll';

/**
 * Runs the real `stack/up.ts` (what `make up` runs) on free ports in a scratch run directory, for the
 * suites that test the local stack itself (test/stack/) and end to end through it (test/e2e/), and for
 * benches on the stack (bench/spot-storm.ts). Every
 * process of the stack inherits a marker env var, which is how what it left behind is found.
 */

// The emulator accepts any credentials; the SDK's default chain in the test process reads these.
process.env.AWS_ACCESS_KEY_ID ??= 'testing';
process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';

export const STACK_READY_TIMEOUT_MS = 150_000;

/** The ports a test reaches the stack on (all of them are allocated together, stack/ports.ts). */
export type StackPorts = Record<'temporal' | 'ui' | 'aws' | 'router' | 'metrics' | 'prometheus', number>;

export interface LocalStack {
  /** `<runDir>/stack.json` as the stack wrote it. */
  stack: StackFile;
  runDir: string;
  ports: StackPorts;
  /** From spawn to the ready line. */
  readyMs: number;
  /** Everything the stack printed so far. */
  output(): string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Live processes the stack started (and the stack itself). */
  processes(): { pid: number; cmd: string }[];
  /** SIGINT, as Ctrl-C on `make up`; resolves with the stack's exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILLs whatever of the stack is still running and removes the run directory. */
  cleanup(): void;
}

/** Pids of live processes whose environment carries `FLEETOPS_STACK_TEST_ID=<id>`. */
export function processesMarked(id: string): { pid: number; cmd: string }[] {
  const found: { pid: number; cmd: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const env = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      if (!env.includes(`FLEETOPS_STACK_TEST_ID=${id}`)) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (/\) Z /.test(stat)) continue; // a zombie has already exited
      found.push({ pid: Number(entry), cmd: readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').slice(0, 160) });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

export interface LocalStackOptions {
  readyTimeoutMs?: number;
  env?: Record<string, string>;
  /** Called once the stack is ready with its workers' log folder; returns how to stop watching it. */
  watchLogs?: (dir: string) => () => void;
}

export async function startLocalStack(opts: LocalStackOptions = {}): Promise<LocalStack> {
  const marker = randomUUID();
  const runDir = mkdtempSync(join(tmpdir(), 'fleetops-stack-'));
  const all = await allocateStackPorts();
  const ports: StackPorts = { temporal: all.temporalPort, ui: all.temporalUiPort, aws: all.awsPort, router: all.routerPort, metrics: all.workerMetricsPort, prometheus: all.prometheusPort };
  const started = Date.now();
  const up = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'stack', 'up.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      FLEETOPS_STACK_TEST_ID: marker,
      ...stackEnv(runDir, all),
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  up.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  up.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => up.once('exit', (code, signal) => resolve({ code, signal })));
  let exited = false;
  void exit.then(() => (exited = true));

  let unwatch = (): void => {};
  const cleanup = () => {
    unwatch();
    for (const p of processesMarked(marker)) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    // FLEETOPS_KEEP_STACK_RUN=1 keeps the run folder (its logs, its Temporal database) to read after a failure.
    if (process.env.FLEETOPS_KEEP_STACK_RUN === '1') process.stderr.write(`stack run folder kept: ${runDir}\n`);
    else rmSync(runDir, { recursive: true, force: true });
  };

  try {
    await until(
      'fleetops stack ready',
      () => {
        if (exited) throw new Error(`stack/up.ts exited before it was ready:\n${output}`);
        return output.includes('fleetops stack ready') ? true : undefined;
      },
      // A stack that exited will not become ready: that fails at once.
      { timeoutMs: opts.readyTimeoutMs ?? STACK_READY_TIMEOUT_MS, intervalMs: 200, failOnError: true },
    );
  } catch (err) {
    cleanup();
    throw err;
  }
  if (opts.watchLogs) unwatch = opts.watchLogs(join(runDir, 'logs'));
  return {
    stack: readStackFile(join(runDir, 'stack.json')),
    runDir,
    ports,
    readyMs: Date.now() - started,
    output: () => output,
    exit,
    processes: () => processesMarked(marker),
    stop: () => {
      up.kill('SIGINT');
      return exit;
    },
    cleanup,
  };
}
