import { ScheduleNotFoundError } from '@temporalio/client';
import type { Command } from 'commander';
import { z } from 'zod';
import { DEPLOY_SCHEDULE_PREFIX } from '../../contracts/deploy-trigger/start';
import type { CommandContext } from '../context';
import { failedError, usageError } from '../errors';
import type { CommandRunner } from '../program';
import { windowRows } from '../readiness-table';
import { rowOf, scheduleTable, sortRows, windowScheduleRow, type ScheduleRow } from '../schedule-table';
import { readinessWindows } from './readiness';
import { parseArg } from '../validation';

/** `schedules` lists what fleetops has scheduled on Temporal Schedules; `schedules cancel` deletes one. */
export function registerScheduleCommands(program: Command, run: CommandRunner): void {
  const schedules = program
    .command('schedules')
    .description('list what is scheduled (scheduled deploys, readiness windows not over yet), soonest first; cancel a scheduled deploy')
    .action(run(listCommand));
  schedules
    .command('cancel')
    .description('cancel a scheduled deploy: its Schedule is deleted; a deploy it already started runs on')
    .argument('<schedule-id>', 'e.g. deploy-schedule-demo-web-1')
    .action(run(cancelCommand));
}

const scheduleIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, 'must be a schedule id such as deploy-schedule-demo-web-1');

async function listCommand(ctx: CommandContext): Promise<void> {
  const client = await ctx.client();
  const rows: ScheduleRow[] = [];
  // Other applications may keep schedules in the namespace: only those a reader knows are listed.
  for await (const s of client.schedule.list()) {
    const row = rowOf(s);
    if (row) rows.push(row);
  }
  const now = new Date();
  for (const w of windowRows(await readinessWindows(ctx))) rows.push(windowScheduleRow(w, now));
  const sorted = sortRows(rows);
  ctx.print({ schedules: sorted }, scheduleTable(sorted));
}

async function cancelCommand(ctx: CommandContext, cmd: Command): Promise<void> {
  const scheduleId = parseArg(scheduleIdSchema, cmd.processedArgs[0], 'schedule id');
  // Only fleetops' own: a Schedule of another application is not this command's to delete.
  if (!scheduleId.startsWith(DEPLOY_SCHEDULE_PREFIX)) throw usageError(`${scheduleId} is not a fleetops schedule (ids start with ${DEPLOY_SCHEDULE_PREFIX})`);
  const client = await ctx.client();
  try {
    await client.schedule.getHandle(scheduleId).delete();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw failedError(`no schedule ${scheduleId}`, { scheduleId, notFound: true });
    throw err;
  }
  ctx.print({ scheduleId, cancelled: true }, [`cancelled ${scheduleId}`]);
}
