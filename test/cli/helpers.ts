import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode, DefaultLogger, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { runCli } from '../../cli/program';
import { ROOT } from '../../testkit/paths';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI in this process (cheap: no tsx start), with its own env so nothing leaks between cases,
 * as OS user `user` (its identity `cli:<user>`; `bin/fleetops` is the real OS user).
 */
export async function cli(args: string[], env: NodeJS.ProcessEnv = {}, cwd = ROOT, user = 'test'): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    env: { PATH: process.env.PATH, ...env },
    cwd,
    user: () => user,
  });
  return { code, stdout, stderr };
}

/** Parses `--json` output, failing with the raw output when it is not JSON. */
export function parseJson<T = Record<string, unknown>>(text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`not JSON:\n${text}`);
  }
}

/** Runs `bin/fleetops` as an operator would (tsx in a checkout), for exit codes end to end. */
export function cliProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return new Promise((resolvePromise) => {
    execFile(
      join(ROOT, 'bin', 'fleetops'),
      args,
      { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolvePromise({ code, stdout, stderr });
      },
    );
  });
}

let fixtureBundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** The operator fixture workflow, bundled once per test file. */
export function operatorFixtureBundle(): Promise<WorkflowBundleWithSourceMap> {
  fixtureBundle ??= bundleWorkflowCode({
    workflowsPath: require.resolve('./fixtures/operator-workflow'),
    logger: new DefaultLogger('ERROR'),
  });
  return fixtureBundle;
}

/**
 * A config file for `fleetops deploy`, which reads the service's images and approvers from it: the
 * valid fixture with `services` (each on a copy of its demo cluster, images of registry.example/web and
 * the fixture's others), and any other top-level sections given (people, slack). Returns its path.
 */
export function writeCliConfig(dir: string, services: { cluster: string; name: string }[], extra: Record<string, unknown> = {}): string {
  const doc = parseYaml(readFileSync(join(ROOT, 'test', 'fixtures', 'fleetops.valid.yaml'), 'utf8')) as Record<string, any>;
  const base = doc.services[0];
  doc.clusters = Object.fromEntries(services.map((s) => [s.cluster, doc.clusters.demo]));
  doc.services = services.map((s) => ({ ...base, cluster: s.cluster, name: s.name }));
  doc.alarmRoutes = [];
  Object.assign(doc, extra);
  const path = join(dir, 'fleetops.yaml');
  writeFileSync(path, stringifyYaml(doc));
  return path;
}
