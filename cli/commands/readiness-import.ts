import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { ScheduleAlreadyRunning, type Client } from '@temporalio/client';
import type { Command } from 'commander';
import { z } from 'zod';
import { FEED_MAX_BYTES, fetchCalendarFeed, FeedReadError, feedUrlSchema, shownFeedUrl } from '../../common/calendar-feed';
import { clusterNameSchema } from '../../common/operator-input';
import { CalendarInvalid, parseReadinessCalendar } from '../../contracts/readiness/ical';
import { applyImport } from '../../contracts/readiness/ical-apply';
import { planImport, type ImportRow } from '../../contracts/readiness/ical-plan';
import { checkReadinessAuthority, readinessLevelFrom } from '../../contracts/readiness/level-from-config';
import { feedNameSchema, readinessFeedInputSchema, type ReadinessFeedInput } from '../../contracts/readiness-feed/input';
import { readinessFeedScheduleOptions } from '../../contracts/readiness-feed/start';
import type { CalendarDefaults } from '../../contracts/readiness-trigger/input';
import type { CommandContext } from '../context';
import { failedError, usageError } from '../errors';
import { importTable } from '../import-table';
import type { CommandRunner } from '../program';
import { parseTimezone } from '../schedule-input';
import { parseArg } from '../validation';
import { allowed, config, parseLevel } from './readiness';

/**
 * `readiness import <file-or-url> [clusters...] --level <n> [--feed <name> [--every <minutes>]]`:
 * each VEVENT a window (contracts/readiness/ical*.ts), a recurring one a Schedule per cluster;
 * `--feed` keeps polling the URL on the Schedule `readiness-feed-<name>`.
 */
export function registerReadinessImport(readiness: Command, run: CommandRunner): void {
  readiness
    .command('import')
    .description('import an iCalendar file or https feed: each event a window, a recurring one a Schedule per cluster')
    .argument('<source>', 'an .ics file, or an https:// URL')
    .argument('[clusters...]', 'ECS clusters of the events that name none (X-FLEETOPS-CLUSTERS)')
    .requiredOption('--level <n>', 'the level of the events that name none (X-FLEETOPS-LEVEL)')
    .option('--feed <name>', 'keep importing the URL on a Schedule, readiness-feed-<name>')
    .option('--every <minutes>', 'how often the feed is read (default 15)')
    .option('--timezone <zone>', 'the zone of floating times and all-day events, which carry none')
    .action(run(importCommand));
}

interface ImportOptions {
  level: string;
  feed?: string;
  every?: string;
  timezone?: string;
}

const everySchema = z.coerce.number().int('must be whole minutes').min(1).max(1440);

/** The calendar's text: a file (within the size a feed may be), or the URL read as a feed's poll reads it. */
async function readSource(ctx: CommandContext, source: string, url: string | undefined): Promise<string> {
  if (url !== undefined) {
    try {
      return await fetchCalendarFeed(url);
    } catch (err) {
      if (err instanceof FeedReadError) throw failedError(err.message, { url: shownFeedUrl(url) });
      throw err;
    }
  }
  const path = isAbsolute(source) ? source : resolve(ctx.io.cwd, source);
  const size = statSync(path, { throwIfNoEntry: false })?.size;
  if (size === undefined) throw usageError(`no file ${path}`);
  if (size > FEED_MAX_BYTES) throw usageError(`${path} is ${size} bytes, over the ${FEED_MAX_BYTES} a calendar may be`);
  return readFileSync(path, 'utf8');
}

/** Creates the feed's Schedule, or rewrites it when the command changed (clusters, level, URL, period). */
async function upsertFeed(client: Client, input: ReadinessFeedInput): Promise<ImportRow> {
  const options = readinessFeedScheduleOptions(input);
  const row = (outcome: ImportRow['outcome']): ImportRow => ({
    kind: 'feed',
    id: options.scheduleId,
    cluster: null,
    outcome,
    start: null,
    end: null,
    level: input.defaults.level,
    summary: shownFeedUrl(input.url),
    note: `read every ${input.everyMinutes} min`,
  });
  try {
    await client.schedule.create(options);
    return row('created');
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  const handle = client.schedule.getHandle(options.scheduleId);
  const described = await handle.describe();
  const previous = described.action.type === 'startWorkflow' ? described.action.args?.[0] : undefined;
  if (JSON.stringify(previous) === JSON.stringify(input)) return row('unchanged');
  await handle.update((prev) => ({ ...prev, spec: options.spec, action: options.action, state: { ...prev.state, note: options.state?.note } }));
  return row('changed');
}

async function importCommand(ctx: CommandContext, cmd: Command): Promise<void> {
  const source = cmd.processedArgs[0] as string;
  const clusters = ((cmd.processedArgs[1] as string[] | undefined) ?? []).map((c) => parseArg(clusterNameSchema, c, 'cluster'));
  const o = cmd.opts<ImportOptions>();
  const level = parseLevel(o.level);
  const isUrl = /^[a-z]+:\/\//i.test(source);
  const url = isUrl ? parseArg(feedUrlSchema, source, 'url') : undefined;
  const feed = o.feed === undefined ? undefined : parseArg(feedNameSchema, o.feed, '--feed');
  if (feed !== undefined && url === undefined) throw usageError('--feed keeps reading a URL: give an https:// URL, not a file');
  if (o.every !== undefined && feed === undefined) throw usageError('--every is how often a feed is read: give --feed too');
  const every = parseArg(everySchema, o.every ?? '15', '--every');
  const floatingZone = o.timezone === undefined ? undefined : parseTimezone(o.timezone);
  const cfg = config(ctx);
  allowed(() => checkReadinessAuthority(cfg, clusters));
  for (const c of clusters) allowed(() => readinessLevelFrom(cfg, c, level));

  const now = new Date();
  let calendar: ReturnType<typeof parseReadinessCalendar>;
  try {
    calendar = parseReadinessCalendar(await readSource(ctx, source, url), { now, ...(floatingZone !== undefined ? { floatingZone } : {}) });
  } catch (err) {
    if (err instanceof CalendarInvalid) throw usageError(`${source}: ${err.message}`);
    throw err;
  }
  const defaults: CalendarDefaults = { clusters, level, requestedBy: ctx.operator(), ...(feed !== undefined ? { feed } : {}), ...(floatingZone !== undefined ? { floatingZone } : {}) };
  const plan = planImport(calendar, defaults, cfg, now);
  // The authority of `readiness add` on every cluster an event names, before anything starts.
  allowed(() => checkReadinessAuthority(cfg, plan.clusters));

  const client = await ctx.client();
  const rows = await applyImport(client, plan, feed !== undefined ? { feed } : { keys: plan.keys }, { now, by: ctx.operator(), queryTimeoutMs: ctx.options.timeout * 1000 });
  if (feed !== undefined && url !== undefined) {
    // Later polls may touch only the clusters checked here.
    const polled: CalendarDefaults = { ...defaults, authorisedClusters: plan.clusters };
    rows.push(await upsertFeed(client, parseArg(readinessFeedInputSchema, { feed, url, defaults: polled, everyMinutes: every }, 'feed')));
  }
  ctx.print({ source, ...(feed !== undefined ? { feed } : {}), rows }, importTable(rows));
  const refused = rows.filter((r) => r.outcome === 'refused');
  if (refused.length > 0) throw failedError(`${refused.length} refused: ${refused.map((r) => `${r.id} on ${r.cluster}: ${r.note}`).join('; ')}`, { refused: true });
}
