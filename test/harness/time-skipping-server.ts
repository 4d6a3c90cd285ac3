import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { Socket } from 'node:net';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { ALL_SEARCH_ATTRIBUTES } from '../../common/search-attributes';
import { freePort } from '../../simulator/moto';
import { TEST_SERVER_WRAPPER } from '../../testkit/paths';
import { until } from '../../testkit/poll';

/**
 * Starts the Java time-skipping test server ourselves instead of through sdk-core, which gives a
 * server 5 s to come up: the JVM takes 2.2-3.4 s on two idle cores (measured) and more when the
 * machine is busy, so that limit flakes. The wrapper execs java, so the pid we hold is the JVM's and
 * stop() ends it for certain.
 */
export interface TimeSkippingServer {
  address: string;
  pid: number;
  startMs: number;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 60_000;

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    s.setTimeout(500);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => (s.destroy(), resolve(false)));
    s.once('timeout', () => (s.destroy(), resolve(false)));
    s.connect(port, '127.0.0.1');
  });
}

/**
 * Whether process `pid` holds the listening socket on `port`, read from Linux's /proc (the LISTEN
 * entries of /proc/net/tcp{,6} and the process's socket fds); undefined where /proc cannot tell.
 * A probed free port can be handed to two parallel suites: the second server fails to bind, and its
 * owner must not take the first suite's server, answering on that port, for its own.
 */
function listensOn(pid: number, port: number): boolean | undefined {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 9 && cols[1]!.endsWith(hex) && cols[3] === '0A') inodes.add(cols[9]!);
    }
  }
  if (inodes.size === 0) return undefined;
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return undefined;
  }
  for (const fd of fds) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
      if (inode && inodes.has(inode)) return true;
    } catch {
      // closed while we looked
    }
  }
  return false;
}

class PortTakenError extends Error {}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => (clearTimeout(kill), resolve()));
    child.kill('SIGTERM');
  });
}

export async function startTimeSkippingServer(): Promise<TimeSkippingServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnFreePort();
    } catch (err) {
      if (!(err instanceof PortTakenError) || attempt >= 3) throw err;
    }
  }
}

async function startOnFreePort(): Promise<TimeSkippingServer> {
  const started = Date.now();
  const port = await freePort();
  const child = spawn(TEST_SERVER_WRAPPER, [String(port), '--enable-time-skipping'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => void (stderr = (stderr + d.toString()).slice(-4_000)));
  try {
    await until(
      `the test server to listen on ${port}`,
      async () => {
        if (await portOpen(port)) {
          if (child.pid !== undefined && listensOn(child.pid, port) === false) throw new PortTakenError(`port ${port} answers, but not from this test server (pid ${child.pid})`);
          return true;
        }
        // A server that exited will not listen: that fails at once.
        if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}: ${stderr}`);
        return false;
      },
      { timeoutMs: START_TIMEOUT_MS, intervalMs: 100, failOnError: true, describe: () => `stderr: ${stderr}` },
    );
    const address = `127.0.0.1:${port}`;
    // The test server knows no custom search attributes until told; every workflow upserts FleetopsPhase.
    const connection = await Connection.connect({ address });
    try {
      await connection.operatorService.addSearchAttributes({
        namespace: 'default',
        searchAttributes: Object.fromEntries(
          ALL_SEARCH_ATTRIBUTES.map((k) => [k.name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
        ),
      });
    } finally {
      await connection.close();
    }
    return { address, pid: child.pid ?? -1, startMs: Date.now() - started, stop: () => stopChild(child) };
  } catch (err) {
    await stopChild(child);
    if (err instanceof PortTakenError) throw err;
    throw new Error(`temporal-test-server (${TEST_SERVER_WRAPPER}): ${(err as Error).message}`);
  }
}
