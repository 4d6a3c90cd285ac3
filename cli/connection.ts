import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { Client, type Connection } from '@temporalio/client';
import { z } from 'zod';
import { connectClient, resolveTemporalTarget, TemporalConnectError, TemporalSettingsError, type TemporalLayer, type TemporalTarget } from '../common/temporal-connection';
import { ConfigError, loadConfig } from '../config/load';
import { failedError, usageError } from './errors';

/**
 * Which Temporal the CLI talks to: common/temporal-connection/ resolves it by the precedence stated
 * there (and in docs/operating.md), the same as for the worker and the router. The CLI adds its flags on
 * top (--address / --namespace) and, as fallbacks below Temporal's own configuration, the config file
 * (--config, else FLEETOPS_CONFIG, else ./fleetops.yaml if present), then .run/stack.json written by
 * the local stack (in the working directory or this checkout). Address and namespace are resolved
 * separately, so a flag can override one and keep the other.
 */
export interface ConnectionTarget {
  address: string;
  namespace: string;
  /** Web UI base URL, for links in human output. */
  uiUrl: string;
  /** Where the address came from, shown in error messages. */
  source: string;
  /** Everything the connection needs (TLS, API key); holds secrets, never printed. */
  temporal: TemporalTarget;
}

export interface ConnectionFlags {
  address?: string;
  namespace?: string;
  config?: string;
}

const stackFileSchema = z.object({
  temporal: z.object({
    address: z.string().min(1),
    namespace: z.string().min(1).default('default'),
    ui: z.string().optional(),
  }),
});

interface Candidate extends TemporalLayer {
  uiUrl?: string;
}

/** The checkout this CLI runs from (cli/ under tsx, dist/cli/ when built), for its .run/stack.json. */
export function checkoutRoot(): string | undefined {
  let dir = __dirname;
  for (let i = 0; i < 4; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'fleetops') return dir;
      } catch {
        return undefined;
      }
    }
    dir = dirname(dir);
  }
  return undefined;
}

function fromConfigFile(flags: ConnectionFlags, env: NodeJS.ProcessEnv, cwd: string): Candidate | undefined {
  const explicit = flags.config ?? env.FLEETOPS_CONFIG;
  const path = explicit ? (isAbsolute(explicit) ? explicit : resolve(cwd, explicit)) : join(cwd, 'fleetops.yaml');
  if (!explicit && !existsSync(path)) return undefined;
  try {
    const config = loadConfig(path);
    return {
      address: config.temporal.address,
      namespace: config.temporal.namespace,
      uiUrl: config.temporal.uiUrl,
      source: `config ${path}`,
    };
  } catch (err) {
    if (err instanceof ConfigError) throw usageError(err.message);
    throw err;
  }
}

function fromStackFile(cwd: string): Candidate | undefined {
  const root = checkoutRoot();
  const paths = [join(cwd, '.run', 'stack.json'), ...(root ? [join(root, '.run', 'stack.json')] : [])];
  for (const path of paths) {
    if (!existsSync(path)) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw usageError(`${path}: not valid JSON (${(err as Error).message}); remove it or pass --address`);
    }
    const result = stackFileSchema.safeParse(parsed);
    if (!result.success) throw usageError(`${path}: no temporal.address in it; remove it or pass --address`);
    const t = result.data.temporal;
    return { address: t.address, namespace: t.namespace, uiUrl: t.ui, source: `local stack ${path}` };
  }
  return undefined;
}

export function resolveTarget(flags: ConnectionFlags, env: NodeJS.ProcessEnv, cwd: string): ConnectionTarget {
  const overrides: TemporalLayer = { address: flags.address, namespace: flags.namespace, source: 'flags' };
  const resolve = (fallbacks: Candidate[]): TemporalTarget => {
    try {
      return resolveTemporalTarget({ env, overrides, fallbacks });
    } catch (err) {
      if (err instanceof TemporalSettingsError) throw usageError(err.message);
      throw err;
    }
  };
  // Files are read only when flags and env leave something open, so a broken file cannot block --address.
  let temporal = resolve([]);
  let file: Candidate | undefined;
  if (temporal.sources.address === 'defaults' || temporal.sources.namespace === 'defaults') {
    file = fromConfigFile(flags, env, cwd) ?? fromStackFile(cwd);
    if (file) temporal = resolve([file]);
  }
  const uiUrl = env.FLEETOPS_TEMPORAL_UI_URL || file?.uiUrl || 'http://127.0.0.1:8233';
  return {
    address: temporal.address,
    namespace: temporal.namespace,
    uiUrl: uiUrl.replace(/\/$/, ''),
    source: temporal.sources.address,
    temporal,
  };
}

export interface TemporalSession {
  client: Client;
  connection: Connection;
  close(): Promise<void>;
}

export async function openSession(target: ConnectionTarget, connectTimeoutSeconds = 5): Promise<TemporalSession> {
  let connection: Connection;
  try {
    connection = await connectClient(target.temporal, { connectTimeout: connectTimeoutSeconds * 1000 });
  } catch (err) {
    if (err instanceof TemporalConnectError) throw failedError(err.message);
    throw err;
  }
  const client = new Client({ connection, namespace: target.namespace });
  return { client, connection, close: () => connection.close() };
}
