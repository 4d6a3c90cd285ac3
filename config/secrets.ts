import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';

/**
 * Secrets stay out of fleetops.yaml: a secret field holds either a `${ENV_VAR}` reference (the whole
 * value) or, in its `…File` twin, the path of a file holding the value (a mounted Docker/Kubernetes
 * secret; relative paths are relative to the config file). Both are resolved once, while the config
 * is validated, so a missing variable or unreadable file stops the process at start; messages name
 * the field, the variable or the path, never the value.
 */

export interface SecretContext {
  env: NodeJS.ProcessEnv;
  /** Directory `…File` paths are relative to: the config file's. */
  baseDir: string;
}

let context: SecretContext = { env: process.env, baseDir: process.cwd() };

/** Runs a (synchronous) parse with the env and base directory secrets are resolved from. */
export function withSecretContext<T>(ctx: Partial<SecretContext>, fn: () => T): T {
  const previous = context;
  context = { env: ctx.env ?? process.env, baseDir: ctx.baseDir ?? process.cwd() };
  try {
    return fn();
  } finally {
    context = previous;
  }
}

/** The environment secrets are resolved from in the current parse. */
export function secretEnv(): NodeJS.ProcessEnv {
  return context.env;
}

const REFERENCE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

/** `${NAME}` → NAME; anything else → undefined. */
export function referencedVariable(value: string): string | undefined {
  return REFERENCE.exec(value)?.[1];
}

type Ctx = z.RefinementCtx<unknown>;

function issue(ctx: Ctx, path: string, message: string): void {
  // No `input`: the value may be the secret, and nothing that formats issues should see it.
  ctx.addIssue({ code: 'custom', path: [path], message });
}

/**
 * Resolves `obj[field]` (literal or `${VAR}`) or `obj[field + 'File']` into the value, adding an
 * issue (naming `field`, the variable or the file) when it cannot. `literal`: whether a literal value
 * is accepted (a webhook URL) or only a reference (a token).
 */
export function resolveSecret(
  obj: Record<string, unknown>,
  field: string,
  ctx: Ctx,
  opts: { literal: boolean; required: boolean },
): string | undefined {
  const fileField = `${field}File`;
  const value = obj[field] as string | undefined;
  const file = obj[fileField] as string | undefined;
  if (value !== undefined && file !== undefined) {
    issue(ctx, field, `set ${field} or ${fileField}, not both`);
    return undefined;
  }
  if (file !== undefined) {
    const path = isAbsolute(file) ? file : resolve(context.baseDir, file);
    try {
      const text = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
      if (text === '') issue(ctx, fileField, `${path} is empty`);
      return text;
    } catch (err) {
      issue(ctx, fileField, `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      return undefined;
    }
  }
  if (value === undefined) {
    if (opts.required) issue(ctx, field, `set ${field} (a \${ENV_VAR} reference${opts.literal ? ' or the value' : ''}) or ${fileField}`);
    return undefined;
  }
  const name = referencedVariable(value);
  if (name === undefined) {
    if (opts.literal) return value;
    issue(ctx, field, `must be a \${ENV_VAR} reference (or use ${fileField}): secrets do not belong in the config file`);
    return undefined;
  }
  const resolved = context.env[name];
  if (resolved === undefined || resolved === '') {
    issue(ctx, field, `\${${name}} is not set in the environment`);
    return undefined;
  }
  return resolved;
}

/** Where a secret field's value came from, for messages that must not show it. */
export function secretSource(obj: Record<string, unknown>, field: string): string {
  const file = obj[`${field}File`];
  if (typeof file === 'string') return `the file in ${field}File`;
  const name = typeof obj[field] === 'string' ? referencedVariable(obj[field] as string) : undefined;
  return name ? `\${${name}}` : 'the value';
}

/** Schema of a secret field's raw value: a string; resolution happens in the owning object's transform. */
export const secretValue = z.string().min(1);
/** Schema of a `…File` field. */
export const secretFile = z.string().min(1);
