import type { Command } from 'commander';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { clusterNameSchema, textSchema, workflowIdSchema } from '../../common/operator-input';
import { isoWithZoneSchema, readinessLevelNumberSchema } from '../../common/time-input';
import { statusQuery } from '../../contracts/controls';
import { ReadinessWindowExists, runningWindows, startWindows, windowInputs, windowTimesProblem } from '../../contracts/readiness/client';
import { readinessIdSchema, type ReadinessChange } from '../../contracts/readiness/input';
import { checkReadinessAuthority, ReadinessRefused, readinessLevelFrom } from '../../contracts/readiness/level-from-config';
import { cancelUpdate, changeUpdate, type ReadinessStatus } from '../../contracts/readiness/messages';
import { windowRows, windowTable } from '../../contracts/readiness/window-rows';
import type { FleetopsConfig } from '../../config/schema';
import { loadCliConfig } from '../config';
import type { CommandContext } from '../context';
import { failedError, usageError } from '../errors';
import type { CommandRunner } from '../program';
import { parseTimezone } from '../schedule-input';
import { parseArg } from '../validation';
import { registerReadinessImport } from './readiness-import';

/**
 * `readiness add|list|change|cancel|import`: readiness windows (workflows/readiness/), one workflow per
 * cluster, `readiness-<cluster>-<id>`. Adding, changing and cancelling need the authority of a deploy
 * to the clusters' services (checkReadinessAuthority); levels come from `clusters.<name>.readiness`.
 */
export function registerReadinessCommands(program: Command, run: CommandRunner): void {
  const readiness = program.command('readiness').description('readiness windows: a capacity floor (and deploy freeze) ahead of a known spike');
  readiness
    .command('add')
    .description('add a window on one or more clusters')
    .argument('<clusters...>', 'ECS clusters')
    .requiredOption('--level <n>', "a readiness level of the clusters' config")
    .requiredOption('--start <time>', 'ISO 8601 with its zone: 2025-11-28T20:00+09:00')
    .requiredOption('--end <time>', 'ISO 8601 with its zone')
    .requiredOption('--reason <text>', 'why: the campaign, the broadcast')
    .option('--timezone <zone>', 'the IANA zone the window is written in, shown back to people')
    .option('--id <id>', 'ends the workflow id readiness-<cluster>-<id> (default: the start, yyyymmdd-hhmm UTC)')
    .action(run(addCommand));
  readiness.command('list').description('windows not over yet, soonest first').option('--cluster <name>', 'only this cluster').action(run(listCommand));
  readiness
    .command('change')
    .description("a window's new times, level or reason")
    .argument('<workflow-id>', 'e.g. readiness-demo-20251128-1100')
    .option('--start <time>', 'ISO 8601 with its zone')
    .option('--end <time>', 'ISO 8601 with its zone')
    .option('--level <n>', "a readiness level of the cluster's config")
    .option('--reason <text>', 'the new reason')
    .action(run(changeCommand));
  readiness.command('cancel').description('cancel a window: its floor is released at once').argument('<workflow-id>').option('--reason <text>', 'recorded with it').action(run(cancelCommand));
  registerReadinessImport(readiness, run);
}

const parseTime = (text: string, flag: string): string => parseArg(isoWithZoneSchema, text, flag);

export const parseLevel = (text: string): number => parseArg(readinessLevelNumberSchema, text, '--level');

export const config = (ctx: CommandContext): FleetopsConfig => loadCliConfig(ctx, "fleetops readiness reads the clusters' levels and services in the config");

/** The config's refusal (unknown cluster or level, no authority) as the CLI's. */
export function allowed<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ReadinessRefused) throw failedError(`refused: ${err.message}`, { refused: true });
    throw err;
  }
}

interface AddOptions {
  level: string;
  start: string;
  end: string;
  reason: string;
  timezone?: string;
  id?: string;
}

async function addCommand(ctx: CommandContext, cmd: Command): Promise<void> {
  const clusters = (cmd.processedArgs[0] as string[]).map((c) => parseArg(clusterNameSchema, c, 'cluster'));
  const o = cmd.opts<AddOptions>();
  const start = parseTime(o.start, '--start');
  const end = parseTime(o.end, '--end');
  const level = parseLevel(o.level);
  const id = o.id === undefined ? undefined : parseArg(readinessIdSchema, o.id, '--id');
  const problem = windowTimesProblem(start, end, new Date());
  if (problem) throw usageError(`--end: ${problem}`);
  const cfg = config(ctx);
  allowed(() => checkReadinessAuthority(cfg, clusters));
  const inputs = allowed(() =>
    windowInputs(cfg, {
      clusters,
      start,
      end,
      level,
      reason: parseArg(textSchema(1000), o.reason, '--reason'),
      ...(o.timezone ? { timeZone: parseTimezone(o.timezone) } : {}),
      ...(id !== undefined ? { id } : {}),
      requestedBy: ctx.operator(),
    }),
  );
  const client = await ctx.client();
  let started: string[];
  try {
    started = await startWindows(client, inputs);
  } catch (err) {
    if (err instanceof ReadinessWindowExists) throw failedError(`${err.message} (give another --id)`, { workflowId: err.workflowId, duplicate: true, started: err.started });
    throw err;
  }
  ctx.print({ windows: started, start, end, level }, started.map((w) => `added ${w}: level ${level}, ${start} → ${end}`));
}

async function listCommand(ctx: CommandContext, cmd: Command): Promise<void> {
  const { cluster } = cmd.opts<{ cluster?: string }>();
  const rows = windowRows(await runningWindows(await ctx.client(), (fn) => ctx.withDeadline(fn), cluster === undefined ? undefined : parseArg(clusterNameSchema, cluster, '--cluster')));
  ctx.print({ windows: rows }, windowTable(rows));
}

/** The window's status (its cluster), and the authority to act on it. */
async function target(ctx: CommandContext, cmd: Command): Promise<{ workflowId: string; status: ReadinessStatus; cfg: FleetopsConfig }> {
  const workflowId = parseArg(workflowIdSchema, cmd.processedArgs[0], 'workflow id');
  if (!workflowId.startsWith('readiness-')) throw usageError(`${workflowId} is not a readiness window (ids start with readiness-)`);
  ctx.workflowId = workflowId;
  const client = await ctx.client();
  const status = (await ctx.withDeadline(() => client.workflow.getHandle(workflowId).query(statusQuery))) as ReadinessStatus;
  const cfg = config(ctx);
  allowed(() => checkReadinessAuthority(cfg, [status.cluster]));
  return { workflowId, status, cfg };
}

async function update(ctx: CommandContext, workflowId: string, fn: () => Promise<ReadinessStatus>): Promise<ReadinessStatus> {
  try {
    return await ctx.withDeadline(fn);
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) throw failedError(`${workflowId} refused: ${err.cause?.message ?? err.message}`, { workflowId, refused: true });
    throw err;
  }
}

async function changeCommand(ctx: CommandContext, cmd: Command): Promise<void> {
  const o = cmd.opts<{ start?: string; end?: string; level?: string; reason?: string }>();
  if (o.start === undefined && o.end === undefined && o.level === undefined && o.reason === undefined) throw usageError('give at least one of --start, --end, --level, --reason');
  const { workflowId, status, cfg } = await target(ctx, cmd);
  const change: ReadinessChange = {
    ...(o.start !== undefined ? { start: parseTime(o.start, '--start') } : {}),
    ...(o.end !== undefined ? { end: parseTime(o.end, '--end') } : {}),
    ...(o.level !== undefined ? { level: allowed(() => readinessLevelFrom(cfg, status.cluster, parseLevel(o.level!))) } : {}),
    ...(o.reason !== undefined ? { reason: parseArg(textSchema(1000), o.reason, '--reason') } : {}),
    by: ctx.operator(),
  };
  const client = await ctx.client();
  const after = await update(ctx, workflowId, () => client.workflow.getHandle(workflowId).executeUpdate(changeUpdate, { args: [change] }));
  ctx.print({ workflowId, status: after }, [`${workflowId}: ${after.summary}`]);
}

async function cancelCommand(ctx: CommandContext, cmd: Command): Promise<void> {
  const { reason } = cmd.opts<{ reason?: string }>();
  const { workflowId } = await target(ctx, cmd);
  const client = await ctx.client();
  const req = { by: ctx.operator(), ...(reason !== undefined ? { reason: parseArg(textSchema(1000), reason, '--reason') } : {}) };
  const after = await update(ctx, workflowId, () => client.workflow.getHandle(workflowId).executeUpdate(cancelUpdate, { args: [req] }));
  ctx.print({ workflowId, cancelled: true, status: after }, [`cancelled ${workflowId}: its floor is released`]);
}
