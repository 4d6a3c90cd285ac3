import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { configSchema, type FleetopsConfig } from './schema';

/** A config that cannot be used; `message` names the file and the path of every bad field. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    message: string,
    readonly issues: { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

/** `clusters.demo.pools[2].kind` — the path a user can find in the YAML file. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || '(root)';
}

function issuesOf(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
}

/** Validates an already parsed document. */
export function parseConfig(doc: unknown, source = 'config'): FleetopsConfig {
  const result = configSchema.safeParse(doc);
  if (!result.success) {
    const issues = issuesOf(result.error);
    throw new ConfigError(`${source}: invalid config\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`, issues);
  }
  return result.data;
}

export function parseConfigText(text: string, source = 'config'): FleetopsConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    const detail = err instanceof YAMLParseError ? err.message : String(err);
    throw new ConfigError(`${source}: not valid YAML: ${detail}`);
  }
  if (doc === null || doc === undefined) throw new ConfigError(`${source}: the file is empty`);
  return parseConfig(doc, source);
}

/** The path from FLEETOPS_CONFIG, else ./fleetops.yaml. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.FLEETOPS_CONFIG ?? 'fleetops.yaml';
}

export function loadConfig(path = configPath()): FleetopsConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(`${path}: cannot read config (${code ?? String(err)}); set FLEETOPS_CONFIG to its path`);
  }
  return parseConfigText(text, path);
}

/**
 * For process entry points: load the config or print why not and exit 2 (PRODUCT.md, "What bad input gets").
 */
export function loadConfigOrExit(path = configPath()): FleetopsConfig {
  try {
    return loadConfig(path);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`fleetops: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
