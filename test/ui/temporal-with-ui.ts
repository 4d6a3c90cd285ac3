import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Connection } from '@temporalio/client';
import { ALL_SEARCH_ATTRIBUTES } from '../../common/search-attributes';
import { TEMPORAL_CLI } from '../../testkit/paths';
import { until } from '../../testkit/poll';

/**
 * A Temporal dev server with its Web UI, for the browser test only: the shared test server runs
 * headless. Ports are free ones, so it can run beside the local stack and other suites; the
 * fleetops search attributes are registered at start, as the local stack does.
 */
export interface TemporalWithUi {
  address: string;
  uiUrl: string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolvePort(port));
    });
  });
}

/** Waits for `check` while the server runs; a server that exited fails the wait at once. */
async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>, child: ChildProcess, log: () => string): Promise<void> {
  await until(
    what,
    async () => {
      if (child.exitCode !== null) throw new Error(`temporal exited (${child.exitCode}) before ${what}:\n${log()}`);
      return check().catch(() => false);
    },
    { timeoutMs, intervalMs: 250, failOnError: true, describe: () => `server output:\n${log()}` },
  );
}

export async function startTemporalWithUi(): Promise<TemporalWithUi> {
  const [port, uiPort, httpPort, metricsPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--ui-port',
    String(uiPort),
    '--http-port',
    String(httpPort),
    '--metrics-port',
    String(metricsPort),
    '--log-level',
    'error',
    ...ALL_SEARCH_ATTRIBUTES.flatMap((k) => ['--search-attribute', `${k.name}=Keyword`]),
    '--dynamic-config-value',
    'system.forceSearchAttributesCacheRefreshOnRead=true',
  ];
  const child = spawn(TEMPORAL_CLI, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (b: Buffer) => void (output = (output + b.toString()).slice(-4000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
    }
  };
  try {
    const address = `127.0.0.1:${port}`;
    const uiUrl = `http://127.0.0.1:${uiPort}`;
    await waitUntil(
      'the frontend',
      30_000,
      async () => {
        const c = await Connection.connect({ address, connectTimeout: 1000 });
        await c.close();
        return true;
      },
      child,
      () => output,
    );
    await waitUntil('the Web UI', 30_000, async () => (await fetch(uiUrl)).ok, child, () => output);
    return { address, uiUrl, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
