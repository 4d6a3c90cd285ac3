/**
 * How long `make up` takes to print `fleetops stack ready`: cold (a new run directory, so no Temporal
 * SQLite file yet) and then warm (the same directory again: existing database, search attributes
 * already registered), and how long Ctrl-C takes to stop it. Tools and node_modules are assumed
 * installed (make up's install step is then a cache check, and is included in the figures).
 *
 *   npx tsx bench/stack-up.ts [runs=1]
 *
 * Runs on free ports in a scratch run directory, so it does not disturb a stack already running.
 * Ctrl-C is sent as a terminal does: SIGINT to make's whole process group.
 * Prints the figures and writes them to artifacts/bench/stack-up.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { allocateStackPorts, type StackPorts } from '../stack/ports';
import { ROOT, stackEnv } from '../stack/settings';

interface Run {
  kind: 'cold' | 'warm';
  readyMs: number;
  stopMs: number;
  /** How make ended after Ctrl-C: a terminal's SIGINT ends make by that signal. */
  exit: string;
}

async function makeUp(kind: Run['kind'], runDir: string, ports: StackPorts): Promise<Run> {
  const started = Date.now();
  const child = spawn('make', ['--no-print-directory', 'up'], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      ...stackEnv(runDir, ports),
    },
  });
  let out = '';
  const exited = new Promise<string>((r) => child.once('exit', (code, signal) => r(signal ?? `code ${code}`)));
  const ready = new Promise<number>((resolve, reject) => {
    const onData = (c: Buffer) => {
      out += c.toString();
      if (out.includes('fleetops stack ready')) resolve(Date.now() - started);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then(() => reject(new Error(`make up exited before it was ready:\n${out}`)));
  });
  const readyMs = await ready;
  const stopAt = Date.now();
  process.kill(-(child.pid ?? 0), 'SIGINT');
  const exit = await exited;
  const stopMs = Date.now() - stopAt;
  for (const line of out.split('\n').filter((l) => l.startsWith('stack:'))) process.stdout.write(`    ${line}\n`);
  return { kind, readyMs, stopMs, exit };
}

async function main(): Promise<void> {
  const repeats = Number(process.argv[2] ?? 1);
  const results: Run[] = [];
  for (let i = 0; i < repeats; i++) {
    const runDir = mkdtempSync(join(tmpdir(), 'fleetops-bench-up-'));
    const ports = await allocateStackPorts();
    try {
      for (const kind of ['cold', 'warm'] as const) {
        const run = await makeUp(kind, runDir, ports);
        results.push(run);
        process.stdout.write(`make up ${kind}: ready in ${(run.readyMs / 1000).toFixed(1)} s, Ctrl-C stopped it in ${(run.stopMs / 1000).toFixed(1)} s (make ended by ${run.exit})\n`);
      }
    } finally {
      rmSync(runDir, { recursive: true, force: true });
    }
  }
  const report = { at: new Date().toISOString(), cpus: cpus().length, loadavg1m: loadavg()[0], results };
  const dir = join(ROOT, 'artifacts', 'bench');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'stack-up.json'), `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`load average at the end: ${loadavg()[0].toFixed(1)} on ${cpus().length} cores; written to artifacts/bench/stack-up.json\n`);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
