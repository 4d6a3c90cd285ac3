import { z } from 'zod';
import { feedUrlSchema } from '../../common/calendar-feed';
import { calendarDefaultsSchema } from '../readiness-trigger/input';

/** A feed's name: what ends its Schedule id, `readiness-feed-<name>`. */
export const feedNameSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'a feed name is 1-40 lower-case letters, digits or dashes');

/**
 * The readiness feed's start argument (workflows/readiness-feed/): the action of the Schedule
 * `readiness-feed-<name>` that `fleetops readiness import <url> --feed <name>` makes. Each run reads
 * the feed again and imports it as the command did: new events start windows, changed ones are
 * changed, and what the feed no longer has is cancelled (windows not started yet, Schedules).
 */
export const readinessFeedInputSchema = z
  .object({
    feed: feedNameSchema,
    url: feedUrlSchema,
    /** The command's clusters and level (`defaults.feed` is `feed`). */
    defaults: calendarDefaultsSchema,
    everyMinutes: z.number().int().min(1).max(1440),
  })
  .strict()
  .refine((f) => f.defaults.feed === f.feed, { message: 'defaults.feed must be the feed', path: ['defaults', 'feed'] });

export type ReadinessFeedInput = z.infer<typeof readinessFeedInputSchema>;
