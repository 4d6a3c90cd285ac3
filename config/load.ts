import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { configSchema, type FleetopsConfig } from './schema';
import { withSecretContext, type SecretContext } from './secrets';

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

/**
 * Validates an already parsed document and resolves its secrets (`${ENV_VAR}` references and
 * `…File` paths, config/secrets.ts) from `secrets.env` (process.env) and `secrets.baseDir`.
 */
export function parseConfig(doc: unknown, source = 'config', secrets: Partial<SecretContext> = {}): FleetopsConfig {
  const result = withSecretContext(secrets, () => configSchema.safeParse(doc));
  if (!result.success) {
    const issues = issuesOf(result.error);
    throw new ConfigError(`${source}: invalid config\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`, issues);
  }
  return result.data;
}

/**
 * A YAML error by position and kind only. The parser's own message quotes the offending line, and
 * that line may hold a secret (a webhook URL, a token pasted where it does not belong).
 */
function yamlErrorText(err: unknown, text: string): string {
  if (!(err instanceof YAMLParseError)) return 'the file could not be parsed';
  // linePos is only filled in by prettyErrors, which also adds the source excerpt: computed here.
  const offset = err.pos[0];
  const before = text.slice(0, offset).split('\n');
  const start = offset >= 0 ? { line: before.length, col: before[before.length - 1].length + 1 } : undefined;
  // The description is the parser's fixed text before " at line ..." (it never quotes the source);
  // anything after a colon could be source text, so it is cut.
  const description = err.message.split(/ at line \d+/)[0].split(':')[0].trim();
  return `${description}${start ? ` at line ${start.line}, column ${start.col}` : ''} (${err.code})`;
}

export function parseConfigText(text: string, source = 'config', secrets: Partial<SecretContext> = {}): FleetopsConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: false, uniqueKeys: true });
  } catch (err) {
    throw new ConfigError(`${source}: not valid YAML: ${yamlErrorText(err, text)}`);
  }
  if (doc === null || doc === undefined) throw new ConfigError(`${source}: the file is empty`);
  return parseConfig(doc, source, secrets);
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
  return parseConfigText(text, path, { baseDir: dirname(resolve(path)) });
}

/**
 * For process entry points: load the config or print why not and exit 2 (docs/contract.md, What bad input gets).
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
