import { join } from 'node:path';
import type { ChildSpec } from './processes';
import { ROOT, type StackSettings } from './settings';
import { temporalDevServerArgs } from './temporal-server';

/** How `make up` starts its children (stack/up.ts): their commands and the environment they share. */

export const TEMPORAL_CLI = join(ROOT, '.tools', 'bin', 'temporal');

/** A TypeScript entry point run by node with tsx's loader: one process per child, so its pid is the worker's identity. */
export function tsEntry(name: string, file: string, env: NodeJS.ProcessEnv, opts: Pick<ChildSpec, 'stopTier' | 'stopTimeoutMs' | 'restart'> = {}): ChildSpec {
  // FLEETOPS_STACK_NODE_ARGS: extra node flags for the stack's node children, e.g. `--cpu-prof
  // --cpu-prof-dir=/tmp/prof` to profile a benchmark run (node refuses those in NODE_OPTIONS).
  const extra = (process.env.FLEETOPS_STACK_NODE_ARGS ?? '').split(' ').filter(Boolean);
  return { name, command: process.execPath, args: [...extra, '--import', 'tsx', file], env, cwd: ROOT, ...opts };
}

export function temporalSpec(s: StackSettings, env: NodeJS.ProcessEnv): ChildSpec {
  return { name: 'temporal', command: TEMPORAL_CLI, args: temporalDevServerArgs(s), env, cwd: ROOT };
}

/**
 * The environment of this process and every child: fake AWS credentials, the config's path and every
 * address the children find each other by.
 */
export function stackChildEnv(s: StackSettings, opts: { configPath: string; temporalAddress: string; routerToken: string }): NodeJS.ProcessEnv {
  // The emulator accepts any credentials; fixed fake ones keep a developer's real AWS credentials
  // (env or profile) away from every process of the stack, this one included.
  const awsEnv = {
    AWS_ACCESS_KEY_ID: 'fleetops-local',
    AWS_SECRET_ACCESS_KEY: 'fleetops-local',
    AWS_REGION: s.region,
    AWS_DEFAULT_REGION: s.region,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  // The stack runs on the Node 20 the project pins; the SDK's notice about future Node versions would
  // print once per process on the console.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  for (const k of ['AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE']) delete process.env[k];
  Object.assign(process.env, awsEnv);
  return {
    ...process.env,
    FLEETOPS_CONFIG: opts.configPath,
    FLEETOPS_TEMPORAL_ADDRESS: opts.temporalAddress,
    FLEETOPS_TEMPORAL_NAMESPACE: s.namespace,
    FLEETOPS_AWS_PORT: String(s.awsPort),
    FLEETOPS_MOTO_PORT: String(s.motoPort),
    FLEETOPS_ROUTER_PORT: String(s.routerPort),
    FLEETOPS_ROUTER_HOST: s.host,
    FLEETOPS_ROUTER_TOKEN: opts.routerToken,
    FLEETOPS_SLACK_PORT: String(s.slackPort),
    FLEETOPS_WORKER_METRICS_PORT: String(s.workerMetricsPort),
    FLEETOPS_RUN_DIR: s.runDir,
    FLEETOPS_MOTO_LOG: join(s.logDir, 'moto.log'),
  };
}
