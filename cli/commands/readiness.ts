import type { Command } from 'commander';
import { WorkflowExecutionAlreadyStartedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { clusterNameSchema, textSchema, workflowIdSchema } from '../../common/operator-input';
import { clusterWorkflowPlacement } from '../../config/placement';
import { statusQuery } from '../../contracts/controls';
import { readinessIdSchema, readinessInputSchema, type ReadinessChange, type ReadinessInput } from '../../contracts/readiness/input';
import { checkReadinessAuthority, ReadinessRefused, readinessLevelFrom } from '../../contracts/readiness/level-from-config';
import { cancelUpdate, changeUpdate, type ReadinessStatus } from '../../contracts/readiness/messages';
import { readinessStartOptions } from '../../contracts/readiness/start';
import type { FleetopsConfig } from '../../config/schema';
import { loadCliConfig } from '../config';
import type { CommandContext } from '../context';
import { failedError, usageError } from '../errors';
import type { CommandRunner } from '../program';
import { windowRows, windowTable } from '../readiness-table';
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

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})$/;

function parseTime(text: string, flag: string): string {
  const t = new Date(text);
  if (!ISO_WITH_ZONE.test(text) || Number.isNaN(t.getTime())) throw usageError(`${flag}: "${text}" must be an ISO 8601 time with its zone, e.g. 2025-11-28T20:00+09:00`);
  return t.toISOString();
}

export function parseLevel(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 99) throw usageError(`--level: "${text}" must be a level number, 1 to 99`);
  return n;
}

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
  const id = parseArg(readinessIdSchema, o.id ?? start.slice(0, 16).replace(/[-:]/g, '').replace('T', '-'), '--id');
  const cfg = config(ctx);
  allowed(() => checkReadinessAuthority(cfg, clusters));
  const inputs: ReadinessInput[] = clusters.map((cluster) => {
    const placement = clusterWorkflowPlacement(cfg, cluster);
    return parseArg(
      readinessInputSchema,
      {
        cluster,
        id,
        start,
        end,
        ...(o.timezone ? { timeZone: parseTimezone(o.timezone) } : {}),
        reason: parseArg(textSchema(1000), o.reason, '--reason'),
        level: allowed(() => readinessLevelFrom(cfg, cluster, level)),
        requestedBy: ctx.operator(),
        ...(placement ? { placement } : {}),
      },
      'window',
    );
  });
  if (Date.parse(end) <= Date.now()) throw usageError(`--end: ${end} has already passed`);
  const client = await ctx.client();
  const started: string[] = [];
  for (const input of inputs) {
    const { workflowType, ...options } = readinessStartOptions(input);
    try {
      await client.workflow.start(workflowType, { ...options, workflowIdConflictPolicy: 'FAIL' });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) throw failedError(`a window ${options.workflowId} exists already (give another --id)`, { workflowId: options.workflowId, duplicate: true, started });
      throw err;
    }
    started.push(options.workflowId);
  }
  ctx.print({ windows: started, start, end, level }, started.map((w) => `added ${w}: level ${level}, ${start} → ${end}`));
}

/** Running readiness windows (of one cluster), as their status answers; one that does not answer is left out. */
export async function readinessWindows(ctx: CommandContext, cluster?: string): Promise<ReadinessStatus[]> {
  const client = await ctx.client();
  const query = [`FleetopsKind = 'readiness'`, `ExecutionStatus = 'Running'`, ...(cluster ? [`FleetopsCluster = '${cluster}'`] : [])].join(' AND ');
  const out: ReadinessStatus[] = [];
  for await (const wf of client.workflow.list({ query, pageSize: 100 })) {
    const s = await ctx.withDeadline(() => client.workflow.getHandle(wf.workflowId).query(statusQuery)).catch(() => undefined);
    if (s) out.push(s as ReadinessStatus);
  }
  return out;
}

async function listCommand(ctx: CommandContext, cmd: Command): Promise<void> {
  const { cluster } = cmd.opts<{ cluster?: string }>();
  const rows = windowRows(await readinessWindows(ctx, cluster === undefined ? undefined : parseArg(clusterNameSchema, cluster, '--cluster')));
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
