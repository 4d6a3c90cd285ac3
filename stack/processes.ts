import { spawn, type ChildProcess, type ChildProcessByStdio } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';

/**
 * Runs the stack's child processes. Each child gets its own process group (so a stop reaches
 * everything it spawned: moto under the simulator, node under tsx) and a log file; warnings and
 * errors are also echoed on the console with a `[name]` prefix.
 *
 * A child that exits while the stack is not stopping is started again if its spec has a restart
 * policy and it has not used up its restarts (as systemd's Restart=on-failure or an orchestrator
 * would bring back a crashed worker); otherwise it is reported through `onUnexpectedExit`, and the
 * caller brings the stack down. If this process itself is killed without a chance to clean up
 * (SIGKILL, a crash in native code), a small watchdog shell, fed the process groups over a pipe,
 * sees the pipe close and kills them, so no temporal, java, python or node process is orphaned.
 */

export interface ChildSpec {
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Milliseconds between SIGTERM and SIGKILL on stop. */
  stopTimeoutMs?: number;
  /**
   * Stop order: higher tiers stop first, the children of one tier together (the worker and router
   * before the servers they talk to, so they can finish in-flight work).
   */
  stopTier?: number;
  /** Start the child again when it dies, up to `max` times within `windowMs`; one more takes the stack down. */
  restart?: { max: number; windowMs: number; delayMs?: number };
}

export interface ManagedChild {
  name: string;
  pid: number;
  logFile: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  isRunning(): boolean;
}

export interface SupervisorOptions {
  logDir: string;
  verbose: boolean;
  /** Called once per child that exits while the stack is running and is not restarted. */
  onUnexpectedExit: (child: ManagedChild, code: number | null, signal: NodeJS.Signals | null) => void;
  print?: (line: string) => void;
}

// Reads process-group ids, one per line; when the pipe closes (our process is gone or done), kills
// whatever is left of them: SIGTERM, up to 5 s grace, then SIGKILL. No `--` before the negative ids:
// dash's kill (Debian's /bin/sh) rejects it.
const WATCHDOG = `
pgs=""
while read -r pg; do pgs="$pgs -$pg"; done
alive() { for p in $pgs; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }
alive || exit 0
kill -TERM $pgs 2>/dev/null
i=0
while alive && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
kill -KILL $pgs 2>/dev/null
exit 0
`;

const TAIL_LINES = 15;

/** A console line for one log line, or undefined when it is routine (pino JSON below warn). */
function consoleLine(line: string, verbose: boolean): string | undefined {
  if (!line.trim()) return undefined;
  if (verbose) return line;
  if (line.startsWith('{')) {
    try {
      const rec = JSON.parse(line) as { level?: number | string; msg?: string; err?: { message?: string } };
      const lvl = typeof rec.level === 'number' ? rec.level : ['warn', 'error', 'fatal'].includes(String(rec.level).toLowerCase()) ? 50 : 30;
      if (lvl < 40) return undefined;
      return `${rec.msg ?? line}${rec.err?.message ? `: ${rec.err.message}` : ''}`;
    } catch {
      return line;
    }
  }
  // Temporal's text logs: only its warnings and errors are worth a console line.
  if (/level=(INFO|DEBUG)/.test(line)) return undefined;
  return line;
}

export class Supervisor {
  private readonly children: { managed: ManagedChild; proc: ChildProcess; spec: ChildSpec; log: WriteStream }[] = [];
  /** Each child's last output lines, kept in memory: the log file may not be flushed when a child dies. */
  private readonly lastLines = new Map<ManagedChild, string[]>();
  private readonly watchdog: ChildProcessByStdio<Writable, null, null>;
  private stopping = false;
  /** Restart times per child name, for the restart policy's window. */
  private readonly restarts = new Map<string, number[]>();
  private readonly print: (line: string) => void;

  constructor(private readonly opts: SupervisorOptions) {
    this.print = opts.print ?? ((l) => process.stdout.write(`${l}\n`));
    this.watchdog = spawn('sh', ['-c', WATCHDOG], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    this.watchdog.stdin.on('error', () => {});
    // The watchdog must not keep this process alive, and must outlive it if it is killed.
    this.watchdog.unref();
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  start(spec: ChildSpec): ManagedChild {
    const logFile = join(this.opts.logDir, `${spec.name}.log`);
    const log = createWriteStream(logFile, { flags: 'a' });
    log.write(`\n=== ${new Date().toISOString()} ${spec.command} ${spec.args.join(' ')}\n`);
    const proc = spawn(spec.command, spec.args, { cwd: spec.cwd, env: spec.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const pid = proc.pid;
    if (pid === undefined) throw new Error(`stack: could not start ${spec.name} (${spec.command})`);
    this.watchdog.stdin.write(`${pid}\n`);

    const recent: string[] = [];
    const outputDone: Promise<void>[] = [];
    for (const stream of [proc.stdout, proc.stderr]) {
      stream?.pipe(log, { end: false });
      if (stream) {
        outputDone.push(new Promise((r) => stream.once('close', () => r())));
        createInterface({ input: stream }).on('line', (line) => {
          recent.push(line);
          if (recent.length > TAIL_LINES) recent.shift();
          // Shutdown chatter (connection refused while peers stop) stays in the log file.
          if (this.stopping) return;
          const shown = consoleLine(line, this.opts.verbose);
          if (shown !== undefined) this.print(`[${spec.name}] ${shown.slice(0, 500)}`);
        });
      }
    }

    let running = true;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      proc.once('exit', (code, signal) => {
        running = false;
        resolve({ code, signal });
      });
      proc.once('error', (err) => {
        log.write(`spawn error: ${err.message}\n`);
        running = false;
        resolve({ code: null, signal: null });
      });
    });
    const managed: ManagedChild = { name: spec.name, pid, logFile, exited, isRunning: () => running };
    this.lastLines.set(managed, recent);
    void exited.then(async ({ code, signal }) => {
      log.write(`=== ${new Date().toISOString()} exited (code ${code}, signal ${signal})\n`);
      if (this.stopping) return;
      // Its last words are still in the pipes; a grandchild holding them open must not delay the report.
      await Promise.race([Promise.all(outputDone), new Promise((r) => setTimeout(r, 500))]);
      if (this.stopping) return;
      if (this.restartAllowed(spec)) {
        this.print(`[${spec.name}] exited (${signal ? `signal ${signal}` : `exit code ${code}`}); starting it again`);
        this.children.splice(this.children.findIndex((c) => c.managed === managed), 1);
        this.lastLines.delete(managed);
        await new Promise((r) => setTimeout(r, spec.restart?.delayMs ?? 500));
        if (!this.stopping) this.start(spec);
        return;
      }
      this.opts.onUnexpectedExit(managed, code, signal);
    }).catch((err: unknown) => this.print(`[${spec.name}] handling its exit failed: ${err instanceof Error ? err.message : String(err)}`));
    this.children.push({ managed, proc, spec, log });
    return managed;
  }

  private restartAllowed(spec: ChildSpec): boolean {
    if (!spec.restart) return false;
    const now = Date.now();
    const recent = (this.restarts.get(spec.name) ?? []).filter((t) => now - t < spec.restart!.windowMs);
    if (recent.length >= spec.restart.max) return false;
    this.restarts.set(spec.name, [...recent, now]);
    return true;
  }

  /** The child running under `name` now (a restarted child is a new process). */
  current(name: string): ManagedChild | undefined {
    return this.children.find((c) => c.managed.name === name)?.managed;
  }

  /** The last lines a child wrote, for a message saying why it died. */
  tail(child: ManagedChild): string {
    const lines = this.lastLines.get(child) ?? [];
    return lines.length > 0 ? lines.join('\n') : '(no output)';
  }

  /** Stops every child, tier by tier (highest first), each whole process group: SIGTERM, then SIGKILL after its timeout. */
  async stopAll(): Promise<void> {
    this.stopping = true;
    const tiers = [...new Set(this.children.map((c) => c.spec.stopTier ?? 0))].sort((a, b) => b - a);
    for (const tier of tiers) {
      await Promise.all(this.children.filter((c) => (c.spec.stopTier ?? 0) === tier).map((c) => stopChild(c.managed, c.spec, c.log)));
    }
    this.watchdog.stdin.end();
  }
}

async function stopChild(managed: ManagedChild, spec: ChildSpec, log: WriteStream): Promise<void> {
  if (managed.isRunning()) {
    signalGroup(managed.pid, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(managed.pid, 'SIGKILL'), spec.stopTimeoutMs ?? 15_000);
    await managed.exited;
    clearTimeout(timer);
  }
  // The leader is gone; anything it left in its group goes too.
  signalGroup(managed.pid, 'SIGKILL');
  // A signal is only queued when kill() returns: wait until the group is really gone, so "stopped"
  // means no process of it is left (a grandchild SIGKILLed a moment ago can still be running).
  await groupGone(managed.pid, GROUP_GONE_WAIT_MS);
  await new Promise<void>((r) => log.end(r));
}

/** How long a stop waits for a SIGKILLed process group to disappear. */
const GROUP_GONE_WAIT_MS = 5_000;

async function groupGone(pid: number, waitMs: number): Promise<void> {
  const until = Date.now() + waitMs;
  while (Date.now() < until) {
    try {
      process.kill(-pid, 0);
    } catch {
      return; // ESRCH: no process left in the group
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}
