import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { z } from 'zod';
import { ConfigError, loadConfig } from '../config/load';
import { failedError, usageError } from './errors';

/**
 * Which Temporal the CLI talks to, first match wins:
 *   1. --address / --namespace flags;
 *   2. FLEETOPS_TEMPORAL_ADDRESS / FLEETOPS_TEMPORAL_NAMESPACE;
 *   3. the config file: --config, else FLEETOPS_CONFIG, else ./fleetops.yaml if present;
 *   4. .run/stack.json written by the local stack (in the working directory or this checkout);
 *   5. 127.0.0.1:7233, namespace default (PRODUCT.md defaults).
 * Address and namespace are resolved separately, so a flag can override one and keep the other.
 */
export interface ConnectionTarget {
  address: string;
  namespace: string;
  /** Web UI base URL, for links in human output. */
  uiUrl: string;
  /** Where the address came from, shown by `--verbose`-style output and error messages. */
  source: string;
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

interface Candidate {
  address?: string;
  namespace?: string;
  uiUrl?: string;
  source: string;
}

/** The checkout this CLI runs from (cli/ under tsx, dist/cli/ when built), for its .run/stack.json. */
function checkoutRoot(): string | undefined {
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
  const candidates: Candidate[] = [
    { address: flags.address, namespace: flags.namespace, source: 'flags' },
    {
      address: env.FLEETOPS_TEMPORAL_ADDRESS,
      namespace: env.FLEETOPS_TEMPORAL_NAMESPACE,
      uiUrl: env.FLEETOPS_TEMPORAL_UI_URL,
      source: 'environment',
    },
  ];
  const first = (pick: (c: Candidate) => string | undefined) => candidates.find((c) => pick(c));
  // Files are read only when flags and env leave something open, so a broken file cannot block --address.
  if (!first((c) => c.address) || !first((c) => c.namespace)) {
    const file = fromConfigFile(flags, env, cwd) ?? fromStackFile(cwd);
    if (file) candidates.push(file);
  }
  candidates.push({ address: '127.0.0.1:7233', namespace: 'default', uiUrl: 'http://127.0.0.1:8233', source: 'defaults' });

  const addressFrom = first((c) => c.address)!;
  const address = addressFrom.address!;
  if (!/^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(address)) {
    throw usageError(`invalid Temporal address "${address}" (from ${addressFrom.source}): expected host:port`);
  }
  return {
    address,
    namespace: first((c) => c.namespace)!.namespace!,
    uiUrl: (first((c) => c.uiUrl)!.uiUrl ?? 'http://127.0.0.1:8233').replace(/\/$/, ''),
    source: addressFrom.source,
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
    connection = await Connection.connect({ address: target.address, connectTimeout: connectTimeoutSeconds * 1000 });
  } catch (err) {
    throw failedError(`cannot reach Temporal at ${target.address} (from ${target.source}): ${(err as Error).message}`);
  }
  const client = new Client({ connection, namespace: target.namespace });
  return { client, connection, close: () => connection.close() };
}
