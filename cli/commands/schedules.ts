import { ScheduleNotFoundError } from '@temporalio/client';
import type { Command } from 'commander';
import { scheduleIdSchema } from '../../common/time-input';
import { isDeployScheduleId } from '../../contracts/deploy-trigger/schedule';
import { DEPLOY_SCHEDULE_PREFIX } from '../../contracts/deploy-trigger/start';
import { scheduledRows, scheduleTable } from '../../contracts/schedule-rows';
import type { CommandContext } from '../context';
import { failedError, usageError } from '../errors';
import type { CommandRunner } from '../program';
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

async function listCommand(ctx: CommandContext): Promise<void> {
  const client = await ctx.client();
  const rows = await scheduledRows(client, (fn) => ctx.withDeadline(fn));
  ctx.print({ schedules: rows }, scheduleTable(rows));
}

async function cancelCommand(ctx: CommandContext, cmd: Command): Promise<void> {
  const scheduleId = parseArg(scheduleIdSchema, cmd.processedArgs[0], 'schedule id');
  if (!isDeployScheduleId(scheduleId)) throw usageError(`${scheduleId} is not a fleetops schedule (ids start with ${DEPLOY_SCHEDULE_PREFIX})`);
  const client = await ctx.client();
  try {
    await client.schedule.getHandle(scheduleId).delete();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw failedError(`no schedule ${scheduleId}`, { scheduleId, notFound: true });
    throw err;
  }
  ctx.print({ scheduleId, cancelled: true }, [`cancelled ${scheduleId}`]);
}
