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
  // Without a port, moto binds port 0 itself and says which port it got. Probing a free port first
  // and passing it on raced with parallel suites: two could be handed the same port, the second moto
  // failed to bind, and its owner, polling the port, took the first suite's moto for its own (then
  // lost its queues and roles to the other suite's reset, and its connection when that suite ended).
  return startOn(bin, host, opts.port ?? 0, opts);
}

/** The port werkzeug reports it bound (" * Running on http://127.0.0.1:45713"). */
const RUNNING_ON = /Running on https?:\/\/[^\s:]+:(\d+)/;

async function startOn(bin: string, host: string, requestedPort: number, opts: MotoOptions): Promise<MotoServer> {
  let port = requestedPort;
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

  const deadline = started + (opts.readyTimeoutMs ?? 30_000);
  // Our moto's own port: the one asked for, or the one it reports for port 0. Only then is the URL
  // polled, so what answers is this moto.
  while (port === 0) {
    const bound = RUNNING_ON.exec(tail)?.[1];
    if (bound) port = Number(bound);
    else if (exited) throw new Error(`moto_server exited before binding a port:\n${tail}`);
    else if (Date.now() > deadline) {
      await stop();
      throw new Error(`moto_server did not report its port within ${opts.readyTimeoutMs ?? 30_000} ms:\n${tail}`);
    } else await new Promise((r) => setTimeout(r, 50));
  }
  const url = `http://${host}:${port}`;
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
