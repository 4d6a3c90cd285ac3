import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startMoto } from '../../simulator/moto';
import { until } from '../../testkit/poll';

/**
 * moto must never outlive its owner: `make test` fails on any leftover process, and jest's forceExit
 * kills workers without running exit handlers.
 */

/** pid and all its descendants (Linux /proc). */
function processTree(pid: number): number[] {
  const out = [pid];
  for (const task of existsSync(`/proc/${pid}/task`) ? readdirSync(`/proc/${pid}/task`) : []) {
    let children = '';
    try {
      children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const c of children.split(/\s+/).filter(Boolean)) out.push(...processTree(Number(c)));
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    // Zombies have no cmdline; they are gone for every purpose here.
    return readFileSync(`/proc/${pid}/cmdline`).length > 0;
  } catch {
    return false;
  }
}

const isMoto = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('moto_server');
  } catch {
    return false;
  }
};

describe('moto process lifecycle', () => {
  it('answers on a free port and stop() ends moto and its guard', async () => {
    const moto = await startMoto();
    const tree = processTree(moto.pid);
    expect(tree.filter(isMoto).length).toBeGreaterThanOrEqual(1);
    expect((await fetch(`${moto.url}/moto-api/`)).ok).toBe(true);
    await moto.stop();
    expect(tree.filter(alive)).toEqual([]);
  });

  it('dies with its owner when the owner is killed with SIGKILL', async () => {
    const owner = spawn(process.execPath, ['--require', 'tsx/cjs', join(__dirname, 'fixtures', 'moto-owner.ts')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve, reject) => {
      let buf = '';
      owner.stdout.on('data', (c: Buffer) => {
        buf += c.toString('utf8');
        if (buf.includes('\n')) resolve(buf.split('\n')[0]);
      });
      owner.once('exit', (code) => reject(new Error(`owner exited early (${code})`)));
    });
    const { guard } = JSON.parse(line) as { guard: number };
    const tree = processTree(guard);
    expect(tree.filter(isMoto).length).toBeGreaterThanOrEqual(1);
    owner.kill('SIGKILL');
    // A timeout is a false for the expectation below.
    const gone = await until('moto and its guard to exit', () => tree.every((p) => !alive(p)), { timeoutMs: 10_000, intervalMs: 50 }).catch(() => false);
    expect(gone).toBe(true);
  });
});
