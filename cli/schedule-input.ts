import type { DeployWhen } from '../contracts/deploy-trigger/start';
import { cronSchema, deployAtSchema, timezoneSchema } from '../common/time-input';
import { usageError } from './errors';
import { parseArg } from './validation';

/**
 * `fleetops deploy … --at/--cron` as typed: when a scheduled deploy runs, and the name that ends its
 * Schedule id. Checked here (with the schemas the Slack app uses too, common/time-input.ts), before
 * anything reaches Temporal (which parses the cron expression again).
 */

export { scheduleNameSchema } from '../common/time-input';

export const parseAt = (text: string, now: Date): Date => parseArg(deployAtSchema(now), text, '--at');

export const parseCron = (text: string): string => parseArg(cronSchema, text, '--cron');

export const parseTimezone = (text: string): string => parseArg(timezoneSchema, text, '--timezone');

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
    if (flags.timezone !== undefined || flags.name !== undefined) throw usageError('--timezone and --name are for a schedule: give --at or --cron too');
    return undefined;
  }
  if (flags.at !== undefined) {
    if (flags.timezone !== undefined) throw usageError('--timezone is for --cron; --at carries its zone');
    return { at: parseAt(flags.at, now) };
  }
  const cron = parseCron(flags.cron ?? '');
  return flags.timezone !== undefined ? { cron, timezone: parseTimezone(flags.timezone) } : { cron };
}
