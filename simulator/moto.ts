import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';

/**
 * Runs moto_server as a child process for the simulator (tests and the local stack).
 *
 * moto runs under a small `sh` guard that kills it when our end of the guard's stdin closes. That
 * happens on `stop()` and also when this Node process dies in any way (jest kills workers with
 * forceExit, a crash, SIGKILL), so no moto outlives its owner even when no exit handler runs.
 */

export const DEFAULT_MOTO_BIN = resolve(__dirname, '..', '.tools', 'bin', 'moto_server');
/** Put on moto's PYTHONPATH: its sitecustomize.py patches costs of moto's SQS away (same answers). */
export const MOTO_PATCHES = resolve(__dirname, 'moto-patches');

export interface MotoOptions {
  /** moto_server executable; default `FLEETOPS_MOTO_BIN` or .tools/bin/moto_server. */
  bin?: string;
  host?: string;
  /** 0 (default): a free port. */
  port?: number;
  /** Append moto's request log here; otherwise only its last lines are kept for error messages. */
  logFile?: string;
  readyTimeoutMs?: number;
}

export interface MotoServer {
  url: string;
  port: number;
  pid: number;
  /** How long moto took from spawn to answering. */
  startMs: number;
  stop(): Promise<void>;
}

// fd 3 carries our pipe into the background reader (a background job's stdin is /dev/null); the guard
// exits with moto, and the reader kills moto as soon as the pipe closes.
const GUARD = 'exec 3<&0; "$0" "$@" </dev/null & pid=$!; (read _ <&3; kill $pid 2>/dev/null) & wait $pid';

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/moto-api/`, { signal: AbortSignal.timeout(1_000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

export async function startMoto(opts: MotoOptions = {}): Promise<MotoServer> {
  const bin = opts.bin ?? process.env.FLEETOPS_MOTO_BIN ?? DEFAULT_MOTO_BIN;
  if (!existsSync(bin)) throw new Error(`moto_server not found at ${bin}: run scripts/install-tools.sh (or set FLEETOPS_MOTO_BIN)`);
  const host = opts.host ?? '127.0.0.1';
  // A free port can be taken between probing and binding by a parallel suite: retry on a new one.
  const attempts = opts.port ? 1 : 3;
  let lastError: Error | undefined;
  for (let i = 0; i < attempts; i++) {
    const port = opts.port || (await freePort(host));
    try {
      return await startOn(bin, host, port, opts);
    } catch (err) {
      lastError = err as Error;
    }
  }
  throw lastError ?? new Error('moto did not start');
}

async function startOn(bin: string, host: string, port: number, opts: MotoOptions): Promise<MotoServer> {
  const started = Date.now();
  const child: ChildProcessByStdio<Writable, Readable, Readable> = spawn('sh', ['-c', GUARD, bin, '-H', host, '-p', String(port)], {
    stdio: ['pipe', 'pipe', 'pipe'],
    // Own process group, so the fallback below can kill the guard, its reader and moto together.
    detached: true,
    // moto-patches/sitecustomize.py removes two costs of moto's SQS that AWS does not have (it says which).
    env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONPATH: [MOTO_PATCHES, process.env.PYTHONPATH].filter(Boolean).join(':') },
  });
  let tail = '';
  const log = opts.logFile ? createWriteStream(opts.logFile, { flags: 'a' }) : undefined;
  const keep = (chunk: Buffer) => {
    log?.write(chunk);
    tail = (tail + chunk.toString('utf8')).slice(-4_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.stdin.on('error', () => {});
  let exited = false;
  const exitedPromise = new Promise<void>((r) =>
    child.once('exit', () => {
      exited = true;
      log?.end();
      r();
    }),
  );

  const stop = async () => {
    child.stdin.end();
    if (exited) return;
    const timer = setTimeout(() => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, 5_000);
    await exitedPromise;
    clearTimeout(timer);
  };

  const url = `http://${host}:${port}`;
  const deadline = started + (opts.readyTimeoutMs ?? 30_000);
  while (!(await answers(url))) {
    if (exited) throw new Error(`moto_server exited before answering on ${url}:\n${tail}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`moto_server did not answer on ${url} within ${opts.readyTimeoutMs ?? 30_000} ms:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url, port, pid: child.pid ?? -1, startMs: Date.now() - started, stop };
}

/** The moto log location the local stack uses. */
export function motoLogPath(runDir: string): string {
  return join(runDir, 'moto.log');
}
