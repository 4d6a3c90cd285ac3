import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Supervisor, type ManagedChild } from '../../stack/processes';
import { ROOT } from '../../testkit/paths';
import { until } from '../../testkit/poll';

/**
 * The stack's process supervision with plain shell children: a child that dies is reported, a stop
 * reaches grandchildren through the process group, and when the supervising process is SIGKILLed
 * the watchdog still takes every child down.
 */

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) Z /.test(stat);
  } catch {
    return false;
  }
}

/** A shell child that starts a grandchild `sleep` in its own group and prints the grandchild's pid. */
const PARENT_WITH_GRANDCHILD = 'sleep 300 & echo "grandchild $!"; wait';

describe('stack process supervision', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fleetops-supervisor-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const grandchildOf = async (child: ManagedChild): Promise<number> => {
    let pid = 0;
    await until(`${child.name} to start its grandchild`, () => {
      let log = '';
      try {
        log = readFileSync(child.logFile, 'utf8');
      } catch {
        return false; // the log file is opened asynchronously
      }
      const m = /grandchild (\d+)/.exec(log);
      pid = m ? Number(m[1]) : 0;
      return pid > 0;
    }, { timeoutMs: 10_000, intervalMs: 50 });
    return pid;
  };

  it('reports a child that exits while the stack runs, with its exit code and log', async () => {
    const exits: { name: string; code: number | null }[] = [];
    const sup = new Supervisor({ logDir: dir, verbose: false, print: () => {}, onUnexpectedExit: (c, code) => exits.push({ name: c.name, code }) });
    const steady = sup.start({ name: 'steady', command: 'sh', args: ['-c', PARENT_WITH_GRANDCHILD], env: process.env, cwd: dir });
    const dying = sup.start({ name: 'dying', command: 'sh', args: ['-c', 'echo "out of luck" >&2; exit 3'], env: process.env, cwd: dir });
    await dying.exited;
    await until('the exit report', () => exits.length > 0, { timeoutMs: 10_000, intervalMs: 50 });
    expect(exits).toEqual([{ name: 'dying', code: 3 }]);
    expect(sup.tail(dying)).toContain('out of luck');
    expect(steady.isRunning()).toBe(true);
    await sup.stopAll();
    expect(exits).toHaveLength(1);
  });

  it('starts a child with a restart policy again when it dies, and reports it once the restarts are used up', async () => {
    const exits: string[] = [];
    const lines: string[] = [];
    const sup = new Supervisor({ logDir: dir, verbose: false, print: (l) => lines.push(l), onUnexpectedExit: (c) => exits.push(c.name) });
    // Each start appends a line to a file, then dies: three starts allowed within the window, a fourth exit is reported.
    const starts = join(dir, 'starts');
    const first = sup.start({
      name: 'crashy',
      command: 'sh',
      args: ['-c', `echo start >> ${starts}; sleep 0.2; exit 7`],
      env: process.env,
      cwd: dir,
      restart: { max: 2, windowMs: 60_000, delayMs: 50 },
    });
    await first.exited;
    await until('the restarts to be used up', () => exits.length > 0, { timeoutMs: 10_000, intervalMs: 50 });
    expect(readFileSync(starts, 'utf8').trim().split('\n')).toHaveLength(3);
    expect(exits).toEqual(['crashy']);
    expect(lines.filter((l) => l.includes('[crashy] exited (exit code 7); starting it again'))).toHaveLength(2);
    const last = sup.current('crashy');
    expect(last).toBeDefined();
    expect(last!.pid).not.toBe(first.pid);
    await sup.stopAll();
  });

  it('stops whole process groups, tier by tier, without reporting them as unexpected', async () => {
    const exits: string[] = [];
    const order: string[] = [];
    const sup = new Supervisor({ logDir: dir, verbose: false, print: () => {}, onUnexpectedExit: (c) => exits.push(c.name) });
    const server = sup.start({ name: 'server', command: 'sh', args: ['-c', PARENT_WITH_GRANDCHILD], env: process.env, cwd: dir });
    const client = sup.start({ name: 'client', command: 'sh', args: ['-c', PARENT_WITH_GRANDCHILD], env: process.env, cwd: dir, stopTier: 1 });
    const grandchildren = [await grandchildOf(server), await grandchildOf(client)];
    void server.exited.then(() => order.push('server'));
    void client.exited.then(() => order.push('client'));
    await sup.stopAll();
    expect(order).toEqual(['client', 'server']);
    expect(grandchildren.filter(alive)).toEqual([]);
    expect(exits).toEqual([]);
  });

  it('takes every child down when the supervising process is killed with SIGKILL', async () => {
    const script = join(dir, 'owner.ts');
    writeFileSync(
      script,
      `import { Supervisor } from ${JSON.stringify(join(ROOT, 'stack', 'processes'))};
const sup = new Supervisor({ logDir: ${JSON.stringify(dir)}, verbose: true, onUnexpectedExit: () => {} });
for (const name of ['a', 'b']) {
  const c = sup.start({ name, command: 'sh', args: ['-c', ${JSON.stringify(PARENT_WITH_GRANDCHILD)}], env: process.env, cwd: ${JSON.stringify(dir)} });
  console.log('child ' + c.pid);
}
setInterval(() => {}, 1000);
`,
    );
    const owner = spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    owner.stdout.on('data', (c: Buffer) => (out += c.toString()));
    await until('the owner to start two children, each with a grandchild', () => (out.match(/grandchild \d+/g) ?? []).length === 2, { timeoutMs: 30_000, intervalMs: 50 });
    const pids = [...out.matchAll(/(?:child|grandchild) (\d+)/g)].map((m) => Number(m[1]));
    expect(pids).toHaveLength(4);
    expect(pids.every(alive)).toBe(true);

    owner.kill('SIGKILL');
    await until('every child and grandchild to be gone', () => pids.every((p) => !alive(p)), { timeoutMs: 10_000, intervalMs: 50 });
  });
});
