import { z } from 'zod';

/**
 * Times and schedules as an operator types them, for every edge that takes them (`fleetops deploy
 * --at/--cron`, `fleetops readiness`, Slack's `/fleetops deploy … at|cron` and `/fleetops readiness`),
 * so a value one edge refuses the other refuses too, with the same words.
 */

/** An instant with its zone: `2025-06-01T14:00:00+09:00`, `2025-06-01T05:00Z`; no zone is ambiguous and refused. */
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})$/;

/** An ISO 8601 time with its zone, as the instant it names (ISO, UTC). */
export const isoWithZoneSchema = z
  .string()
  .regex(ISO_WITH_ZONE, 'must be an ISO 8601 time with its zone, e.g. 2025-06-01T14:00+09:00 or 2025-06-01T05:00Z')
  .refine((t) => !Number.isNaN(Date.parse(t)), 'is not a valid time')
  .transform((t) => new Date(t).toISOString());

/** How far ahead a one-off may be: a deploy planned further out will meet another config than it was checked against. */
const MAX_AHEAD_MS = 366 * 24 * 3600 * 1000;

/** A one-off scheduled deploy's time: with its zone, in the future and within a year of `now`. */
export const deployAtSchema = (now: Date) =>
  isoWithZoneSchema
    .transform((t) => new Date(t))
    .refine((at) => at.getTime() > now.getTime(), 'is not in the future')
    .refine((at) => at.getTime() - now.getTime() <= MAX_AHEAD_MS, 'is more than a year ahead');

/** Five fields (minute hour day-of-month month day-of-week) of digits, names, `*`, `,`, `-`, `/`, or an @-shorthand. */
const CRON_FIELD = /^[A-Za-z0-9*,/?-]{1,64}$/;
const CRON_SHORTHANDS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

/** A cron expression, its spaces normalised; Temporal parses it again when the Schedule is made. */
export const cronSchema = z
  .string()
  .transform((t) => t.trim().replace(/\s+/g, ' '))
  .refine(
    (expr) => CRON_SHORTHANDS.includes(expr) || (expr.split(' ').length === 5 && expr.split(' ').every((f) => CRON_FIELD.test(f))),
    `must be five fields (minute hour day-of-month month day-of-week), e.g. "0 14 * * FRI", or one of ${CRON_SHORTHANDS.join(', ')}`,
  );

/** An IANA zone the runtime knows (`Asia/Tokyo`); Temporal reads cron times in it. */
export const timezoneSchema = z.string().refine((zone) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}, 'is not an IANA time zone such as Asia/Tokyo');

/** What ends a named scheduled deploy's id, `deploy-schedule-<cluster>-<service>-<name>`. */
export const scheduleNameSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'must be 1-40 lowercase letters, digits or hyphens');

/** A readiness level number as typed; whether the cluster has it is the config's to say. */
export const readinessLevelNumberSchema = z
  .string()
  .regex(/^[1-9][0-9]?$/, 'must be a level number, 1 to 99')
  .transform(Number);

/** A Schedule id as typed (`schedules cancel <id>`); whether it is fleetops' is the caller's to check. */
export const scheduleIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, 'must be a schedule id such as deploy-schedule-demo-web-1');
