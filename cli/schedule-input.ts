import { z } from 'zod';
import type { DeployWhen } from '../contracts/deploy-trigger/start';
import { usageError } from './errors';

/**
 * `fleetops deploy … --at/--cron` as typed: when a scheduled deploy runs, and the name that ends its
 * Schedule id. Checked here, before anything reaches Temporal (which parses the cron expression again).
 */

/** An instant with its zone: `2025-06-01T14:00:00+09:00`, `2025-06-01T05:00Z`; no zone is ambiguous and refused. */
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})$/;
/** How far ahead a one-off may be: a deploy planned further out will meet another config than it was checked against. */
const MAX_AHEAD_MS = 366 * 24 * 3600 * 1000;

export function parseAt(text: string, now: Date): Date {
  if (!ISO_WITH_ZONE.test(text)) throw usageError(`--at: "${text}" must be an ISO 8601 time with its zone, e.g. 2025-06-01T14:00+09:00 or 2025-06-01T05:00Z`);
  const at = new Date(text);
  if (Number.isNaN(at.getTime())) throw usageError(`--at: "${text}" is not a valid time`);
  if (at.getTime() <= now.getTime()) throw usageError(`--at: ${at.toISOString()} is not in the future`);
  if (at.getTime() - now.getTime() > MAX_AHEAD_MS) throw usageError(`--at: ${at.toISOString()} is more than a year ahead`);
  return at;
}

/** Five fields (minute hour day-of-month month day-of-week) of digits, names, `*`, `,`, `-`, `/`, or an @-shorthand. */
const CRON_FIELD = /^[A-Za-z0-9*,/?-]{1,64}$/;
const CRON_SHORTHANDS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

export function parseCron(text: string): string {
  const expr = text.trim().replace(/\s+/g, ' ');
  if (CRON_SHORTHANDS.includes(expr)) return expr;
  const fields = expr.split(' ');
  if (fields.length !== 5 || !fields.every((f) => CRON_FIELD.test(f))) {
    throw usageError(`--cron: "${text}" must be five fields (minute hour day-of-month month day-of-week), e.g. "0 14 * * FRI", or one of ${CRON_SHORTHANDS.join(', ')}`);
  }
  return expr;
}

/** An IANA zone the runtime knows (`Asia/Tokyo`); Temporal reads cron times in it. */
export function parseTimezone(text: string): string {
  try {
    new Intl.DateTimeFormat('en', { timeZone: text });
  } catch {
    throw usageError(`--timezone: "${text}" is not an IANA time zone such as Asia/Tokyo`);
  }
  return text;
}

export const scheduleNameSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'must be 1-40 lowercase letters, digits or hyphens');

export interface ScheduleFlags {
  at?: string;
  cron?: string;
  timezone?: string;
  name?: string;
}

/** When, from the flags; undefined when neither --at nor --cron is given (deploy now). */
export function scheduleWhen(flags: ScheduleFlags, now: Date): DeployWhen | undefined {
  if (flags.at !== undefined && flags.cron !== undefined) throw usageError('give at most one of --at or --cron');
  if (flags.at === undefined && flags.cron === undefined) {
    if (flags.timezone !== undefined || flags.name !== undefined) throw usageError('--timezone and --name schedule a deploy: give --at or --cron too');
    return undefined;
  }
  if (flags.at !== undefined) {
    if (flags.timezone !== undefined) throw usageError('--timezone is for --cron; --at carries its zone');
    return { at: parseAt(flags.at, now) };
  }
  const cron = parseCron(flags.cron ?? '');
  return flags.timezone !== undefined ? { cron, timezone: parseTimezone(flags.timezone) } : { cron };
}
