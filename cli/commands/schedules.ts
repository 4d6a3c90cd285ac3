import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import type { Command } from 'commander';
import { scheduleIdSchema } from '../../common/time-input';
import { DEPLOY_SCHEDULE_PREFIX } from '../../contracts/deploy-trigger/start';
import { READINESS_FEED_PREFIX } from '../../contracts/readiness-feed/start';
import { RELEASE_SCHEDULE_PREFIX } from '../../contracts/release-trigger/start';
import { readinessFeedInputSchema } from '../../contracts/readiness-feed/input';
import { READINESS_SCHEDULE_PREFIX, type ReadinessScheduleMemo } from '../../contracts/readiness-trigger/start';
import { checkReadinessAuthority } from '../../contracts/readiness/level-from-config';
import { scheduledRows, scheduleTable } from '../../contracts/schedule-rows';
import type { CommandContext } from '../context';
import { failedError, usageError } from '../errors';
import type { CommandRunner } from '../program';
import { allowed, config } from './readiness';
import { parseArg } from '../validation';

/** `schedules` lists what fleetops has scheduled on Temporal Schedules; `schedules cancel` deletes one. */
export function registerScheduleCommands(program: Command, run: CommandRunner): void {
  const schedules = program
    .command('schedules')
    .description('list what is scheduled (scheduled deploys and releases, recurring readiness windows, readiness feeds, readiness windows not over yet), soonest first; cancel one')
    .action(run(listCommand));
  schedules
    .command('cancel')
    .description('cancel a scheduled deploy or release, a recurring readiness window or a readiness feed: its Schedule is deleted; what it already started runs on')
    .argument('<schedule-id>', 'e.g. deploy-schedule-demo-web-1, readiness-schedule-demo-ics-1a2b3c4d, readiness-feed-shop')
    .action(run(cancelCommand));
}

const PREFIXES = [DEPLOY_SCHEDULE_PREFIX, RELEASE_SCHEDULE_PREFIX, READINESS_SCHEDULE_PREFIX, READINESS_FEED_PREFIX];

async function listCommand(ctx: CommandContext): Promise<void> {
  const client = await ctx.client();
  const rows = await scheduledRows(client, (fn) => ctx.withDeadline(fn));
  ctx.print({ schedules: rows }, scheduleTable(rows));
}

/** A readiness Schedule is cancelled with the authority of `readiness cancel` on its clusters. */
async function checkAuthority(ctx: CommandContext, client: Client, scheduleId: string): Promise<void> {
  // Deploys and releases: whoever may start one may schedule and cancel it.
  if (scheduleId.startsWith(DEPLOY_SCHEDULE_PREFIX) || scheduleId.startsWith(RELEASE_SCHEDULE_PREFIX)) return;
  let clusters: string[];
  try {
    const d = await client.schedule.getHandle(scheduleId).describe();
    const args = d.action.type === 'startWorkflow' ? d.action.args?.[0] : undefined;
    const feed = readinessFeedInputSchema.safeParse(args);
    clusters = scheduleId.startsWith(READINESS_FEED_PREFIX) ? (feed.success ? feed.data.defaults.clusters : []) : [((d.memo ?? {}) as Partial<ReadinessScheduleMemo>).cluster ?? ''].filter((c) => c);
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw failedError(`no schedule ${scheduleId}`, { scheduleId, notFound: true });
    throw err;
  }
  // No cluster to check (a feed whose input does not parse): no one has the authority, not everyone.
  if (clusters.length === 0) throw failedError(`refused: ${scheduleId} names no cluster to check the authority on: delete it with the Temporal CLI`, { refused: true });
  const cfg = config(ctx);
  allowed(() => checkReadinessAuthority(cfg, clusters));
}

const AFTER: Record<string, string> = {
  [DEPLOY_SCHEDULE_PREFIX]: 'a deploy it already started runs on',
  [RELEASE_SCHEDULE_PREFIX]: 'a release it already started runs on (fleetops release status, fleetops release rollback)',
  [READINESS_SCHEDULE_PREFIX]: 'no more occurrences start; windows it started run on (fleetops readiness list, fleetops readiness cancel <id>)',
  [READINESS_FEED_PREFIX]: 'the feed is no longer read; the windows and recurring windows it imported stay (fleetops schedules)',
};

async function cancelCommand(ctx: CommandContext, cmd: Command): Promise<void> {
  const scheduleId = parseArg(scheduleIdSchema, cmd.processedArgs[0], 'schedule id');
  // Only fleetops' own: a Schedule of another application is not this command's to delete.
  const prefix = PREFIXES.find((p) => scheduleId.startsWith(p));
  if (prefix === undefined) throw usageError(`${scheduleId} is not a fleetops schedule (ids start with ${PREFIXES.join(', ')})`);
  const client = await ctx.client();
  await checkAuthority(ctx, client, scheduleId);
  try {
    await client.schedule.getHandle(scheduleId).delete();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw failedError(`no schedule ${scheduleId}`, { scheduleId, notFound: true });
    throw err;
  }
  ctx.print({ scheduleId, cancelled: true }, [`cancelled ${scheduleId}: ${AFTER[prefix]}`]);
}
