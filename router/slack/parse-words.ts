import type { z } from 'zod';

/**
 * The pieces every `/fleetops …` parser shares (parse.ts, parse-schedules.ts): the error that says
 * what to fix, a schema check that words it, and the words of a command as the user wrote them.
 */

export class CommandError extends Error {
  override readonly name = 'CommandError';
}

/** A value through one of the CLI's schemas (common/), or CommandError naming it. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, label: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const shown = typeof value === 'string' && value !== '' ? ` "${value.length > 80 ? `${value.slice(0, 77)}...` : value}"` : '';
  throw new CommandError(`invalid ${label}${shown}: ${r.error.issues[0]?.message ?? 'not valid'}`);
}

/** Words of `text` after the first `n`, joined back as the user wrote them. */
export function rest(text: string, n: number): string {
  let s = text.trim();
  for (let i = 0; i < n; i++) s = s.replace(/^\S+\s*/, '');
  return s;
}

export interface Token {
  text: string;
  /** Written in quotes ("…", or the curly ones a Slack client may type): one token, spaces and all. */
  quoted: boolean;
}

/** The words of a command; a quoted span is one word (a cron expression). */
export function tokens(text: string): Token[] {
  return [...text.matchAll(/"([^"]*)"|“([^”]*)”|(\S+)/g)].map((m) => (m[3] !== undefined ? { text: m[3], quoted: false } : { text: m[1] ?? m[2] ?? '', quoted: true }));
}
