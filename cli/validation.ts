import type { z } from 'zod';
import { usageError } from './errors';

/**
 * The CLI's command-line values are checked with the schemas of common/operator-input.ts, the ones the
 * Slack app uses too; a value that fails exits 2 with a message naming it.
 */

/** Parses one command-line value or fails with exit code 2 and a message naming it. */
export function parseArg<S extends z.ZodType>(schema: S, value: unknown, label: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const shown = typeof value === 'string' ? ` "${value.length > 80 ? `${value.slice(0, 77)}...` : value}"` : '';
  throw usageError(`invalid ${label}${shown}: ${issue?.message ?? 'not valid'}`);
}
