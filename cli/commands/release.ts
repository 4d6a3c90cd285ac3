import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { releaseWorkflowId } from '../../common/workflow-ids';
import { workflowUiLink } from '../../common/ui-links';
import { clusterNameSchema, imageSchema, textSchema } from '../../common/operator-input';
import type { ControlRequest } from '../../contracts/controls';
import { failureBudgetSchema, releaseIdSchema, releaseRequestSchema, waveSizeSchema, type ReleaseRequest } from '../../contracts/release/input';
import { approveWaveUpdate, continueUpdate, rollbackUpdate, skipUpdate, type ReleaseStatus } from '../../contracts/release/messages';
import { ReleaseRequestRefused, releaseStartFor } from '../../contracts/release/request';
import { statusQuery } from '../../contracts/controls';
import { loadCliConfig } from '../config';
import type { CommandContext } from '../context';
import { failedError, usageError } from '../errors';
import type { CommandRunner } from '../program';
import { parseArg } from '../validation';
import { scheduleNameSchema, scheduleWhen, type ScheduleFlags } from '../schedule-input';
import { scheduleRelease } from './scheduled-release';

/** `release …`: one change to many services in waves (workflows/release/), and what an operator does to one. */
export function registerReleaseCommands(program: Command, run: CommandRunner): void {
  const release = program.command('release').description('releases: one change to many services in waves, one approval per wave');
  release
    .command('start')
    .description('start a release: a manifest of service -> image per cluster, or one image for the services a selector picks')
    .argument('<id>', 'the release id: its workflow is release-<id>')
    .requiredOption('--change <text>', 'what changes, in a line')
    .option('--manifest <file>', 'YAML or JSON: <cluster>: { <service>: <image or task definition ARN> }')
    .option('--image <image>', 'with a selector: the image every picked service gets')
    .option('--cluster <cluster>', 'selector: services of this cluster')
    .option('--service <glob>', 'selector: services whose name matches (* and ?)')
    .option('--tag <key=value>', "selector: services with this tag in the config's services[].tags")
    .option('--waves <sizes>', 'wave shape, counts and percentages: 1,10%,25%,100% (the default)')
    .option('--max-concurrent <n>', 'deploys at once within a wave (default 10)')
    .option('--max-per-cluster <n>', 'deploys at once on one cluster (default 5)')
    .option('--failure-budget <n or p%>', 'rollbacks a wave tolerates before the release halts (default 0)')
    .option('--on-busy <wait|skip>', 'a service already being deployed: wait for it (default) or skip it')
    .option('--dry-run', 'every deploy records its AWS calls instead of making them')
    .option('--at <time>', 'start it once, later: an ISO 8601 time with its zone; makes a Temporal Schedule')
    .option('--cron <expr>', 'start it at every time of a cron expression ("0 14 * * TUE"); makes a Temporal Schedule')
    .option('--timezone <zone>', 'with --cron: the IANA zone its times are in (default UTC)')
    .option('--name <name>', 'with --at/--cron: ends the schedule id release-schedule-<id>-<name> (default: the next number)')
    .action(run(startCommand));
  release.command('status').description("a release's waves, counts and halt").argument('<id>', 'release id (or release-<id>)').action(run(statusCommand));
  release
    .command('approve')
    .description('approve the next wave (you must be an approver of every service in it)')
    .argument('<id>', 'release id')
    .option('--wave <n>', 'the wave you mean; refused if another is waiting')
    .option('--reason <text>', 'recorded with the approval')
    .action(run(updateCommand('approve')));
  release.command('continue').description('resume a halted release, accepting its failures').argument('<id>', 'release id').option('--reason <text>').action(run(updateCommand('continue')));
  release
    .command('skip')
    .description('skip a service that failed, waits or has not started')
    .argument('<id>', 'release id')
    .argument('<service>', '<cluster>/<service>, or the service when one cluster has it')
    .option('--reason <text>')
    .action(run(updateCommand('skip')));
  release
    .command('rollback')
    .description('start nothing new, then deploy every service the release promoted back to its previous task definition')
    .argument('<id>', 'release id')
    .requiredOption('--reason <text>', 'why')
    .action(run(updateCommand('rollback')));
}

interface StartOptions extends ScheduleFlags {
  change: string;
  manifest?: string;
  image?: string;
  cluster?: string;
  service?: string;
  tag?: string;
  waves?: string;
  maxConcurrent?: string;
  maxPerCluster?: string;
  failureBudget?: string;
  onBusy?: string;
  dryRun?: boolean;
}

const count = z.coerce.number().int().min(1).max(100);
/** `3` or `"10%"` from the command line: a number when it is one. */
const sizeOf = (s: string): string | number => (/^\d+$/.test(s) ? Number(s) : s);

function readManifest(ctx: CommandContext, file: string): unknown {
  let text: string;
  try {
    text = readFileSync(resolve(ctx.io.cwd, file), 'utf8');
  } catch (err) {
    throw usageError(`cannot read --manifest ${file}: ${(err as Error).message}`);
  }
  try {
    return parseYaml(text) as unknown;
  } catch (err) {
    throw usageError(`--manifest ${file} is not YAML or JSON: ${(err as Error).message}`);
  }
}

async function startCommand(ctx: CommandContext, cmd: Command): Promise<void> {
  const id = parseArg(releaseIdSchema, cmd.processedArgs[0], 'release id');
  const o = cmd.opts<StartOptions>();
  const when = scheduleWhen(o, new Date());
  const name = o.name === undefined ? undefined : parseArg(scheduleNameSchema, o.name, '--name');
  const selecting = o.image !== undefined || o.cluster !== undefined || o.service !== undefined || o.tag !== undefined;
  if ((o.manifest === undefined) === !selecting) throw usageError('give --manifest, or --image with any of --cluster, --service and --tag');
  if (selecting && o.image === undefined) throw usageError('a selector needs --image');
  const request: ReleaseRequest = parseArg(
    releaseRequestSchema,
    {
      id,
      change: parseArg(textSchema(200), o.change, '--change'),
      ...(o.manifest !== undefined ? { manifest: readManifest(ctx, o.manifest) } : {}),
      ...(selecting
        ? {
            selector: {
              image: parseArg(imageSchema, o.image, '--image'),
              ...(o.cluster !== undefined ? { cluster: parseArg(clusterNameSchema, o.cluster, '--cluster') } : {}),
              ...(o.service !== undefined ? { service: o.service } : {}),
              ...(o.tag !== undefined ? { tag: o.tag } : {}),
            },
          }
        : {}),
      ...(o.waves !== undefined ? { waves: o.waves.split(',').map((w, i) => parseArg(waveSizeSchema, sizeOf(w.trim()), `--waves[${i}]`)) } : {}),
      ...(o.maxConcurrent !== undefined ? { maxConcurrent: parseArg(count, o.maxConcurrent, '--max-concurrent') } : {}),
      ...(o.maxPerCluster !== undefined ? { maxPerCluster: parseArg(count, o.maxPerCluster, '--max-per-cluster') } : {}),
      ...(o.failureBudget !== undefined ? { failureBudget: parseArg(failureBudgetSchema, sizeOf(o.failureBudget), '--failure-budget') } : {}),
      ...(o.onBusy !== undefined ? { onBusy: parseArg(z.enum(['wait', 'skip']), o.onBusy, '--on-busy') } : {}),
      requestedBy: ctx.operator(),
      ...(o.dryRun ? { dryRun: true } : {}),
    },
    'release',
  );
  const config = loadCliConfig(ctx, "fleetops release start checks every service's images and approvers in the config");
  let options: ReturnType<typeof releaseStartFor>;
  try {
    options = releaseStartFor(config, request);
  } catch (err) {
    if (err instanceof ReleaseRequestRefused) throw failedError(`release ${id} refused: ${err.message}`, { refused: true, field: err.field });
    throw err;
  }
  if (when) return scheduleRelease(ctx, request, when, name);
  const { workflowType, ...start } = options;
  const input = start.args[0];
  ctx.workflowId = start.workflowId;
  const client = await ctx.client();
  let runId: string;
  try {
    runId = (await client.workflow.start(workflowType, { ...start, workflowIdConflictPolicy: 'FAIL' })).firstExecutionRunId;
  } catch (err) {
    if (err instanceof Error && err.name === 'WorkflowExecutionAlreadyStartedError') {
      throw failedError(`release ${id} exists already (${start.workflowId}): a release id is used once`, { workflowId: start.workflowId, duplicate: true });
    }
    throw err;
  }
  const target = ctx.target();
  const uiUrl = workflowUiLink(target.uiUrl, target.namespace, start.workflowId);
  ctx.print({ workflowId: start.workflowId, runId, input, uiUrl }, [
    `started ${start.workflowId}${input.dryRun ? ' (dry run)' : ''}: ${input.change} to ${input.targets.length} service(s)`,
    `  approve wave 1: fleetops release approve ${id}   (someone other than you, an approver of its services)`,
    `  follow: fleetops release status ${id}`,
    `  web ui: ${uiUrl}`,
  ]);
}

const workflowIdOf = (raw: unknown): string => {
  const s = String(raw);
  return releaseWorkflowId(parseArg(releaseIdSchema, s.startsWith('release-') ? s.slice('release-'.length) : s, 'release id'));
};

/** Human lines for a release's status: where it is, counts, the last wave, and services that need a look. */
export function releaseLines(s: ReleaseStatus): string[] {
  const counts = Object.entries(s.counts).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ');
  const w = s.lastWave;
  const notable = s.services.filter((x) => ['waiting', 'running', 'rolled-back', 'failed', 'revert-failed'].includes(x.state));
  return [
    `  phase:    ${s.phase}${s.paused ? ' (paused)' : ''}`,
    `  summary:  ${s.summary}`,
    `  wave:     ${s.wave.current} of ${s.wave.total}`,
    `  services: ${counts}`,
    ...(w ? [`  wave ${w.wave}:   ${w.promoted.length} promoted, ${w.rolledBack.length} rolled back, ${w.failed.length} failed, ${w.skipped.length} skipped of ${w.size}${w.approvedBy ? ` (approved by ${w.approvedBy})` : ''}`] : []),
    ...(s.halted ? [`  halted:   ${s.halted.reason}`] : []),
    ...(s.waitingFor ? [`  waiting:  ${s.waitingFor}`] : []),
    ...notable.slice(0, 20).map((x) => `    ${x.cluster}/${x.service}: ${x.state}${x.workflowId ? ` (${x.workflowId})` : ''}${x.reason ? `: ${x.reason}` : ''}`),
    ...(notable.length > 20 ? [`    … and ${notable.length - 20} more (--json)`] : []),
  ];
}

async function statusCommand(ctx: CommandContext, cmd: Command): Promise<void> {
  const workflowId = workflowIdOf(cmd.processedArgs[0]);
  ctx.workflowId = workflowId;
  const client = await ctx.client();
  const status = (await ctx.withDeadline(() => client.workflow.getHandle(workflowId).query(statusQuery))) as ReleaseStatus;
  ctx.print({ workflowId, status }, [workflowId, ...releaseLines(status)]);
}

type Action = 'approve' | 'continue' | 'skip' | 'rollback';

/** The release's updates: `by` is the OS user (cli:<user>); the workflow decides whether they may, and its refusal is printed. */
function updateCommand(action: Action) {
  return async (ctx: CommandContext, cmd: Command): Promise<void> => {
    const workflowId = workflowIdOf(cmd.processedArgs[0]);
    const o = cmd.opts<{ reason?: string; wave?: string }>();
    const by = ctx.operator();
    const reason = o.reason === undefined ? {} : { reason: parseArg(textSchema(), o.reason, '--reason') };
    let name: string;
    let request: ControlRequest & Record<string, unknown>;
    switch (action) {
      case 'approve':
        name = approveWaveUpdate.name;
        request = { by, ...reason, ...(o.wave !== undefined ? { wave: parseArg(count, o.wave, '--wave') } : {}) };
        break;
      case 'continue':
        name = continueUpdate.name;
        request = { by, ...reason };
        break;
      case 'skip':
        name = skipUpdate.name;
        request = { by, ...reason, service: parseArg(z.string().regex(/^([A-Za-z0-9_-]{1,255}\/)?[A-Za-z0-9_-]{1,255}$/, 'must be <cluster>/<service> or <service>'), cmd.processedArgs[1], 'service') };
        break;
      case 'rollback':
        name = rollbackUpdate.name;
        request = { by, ...reason };
        break;
    }
    ctx.workflowId = workflowId;
    const client = await ctx.client();
    // By name: the SDK's executeUpdate overloads do not take the definitions' argument tuples generically.
    const status = await ctx.withDeadline(() => client.workflow.getHandle(workflowId).executeUpdate<ReleaseStatus, [typeof request]>(name, { args: [request] }));
    ctx.print({ workflowId, action, request, status }, [`${workflowId}: ${action}${action === 'skip' ? ` ${String(request.service)}` : ''} accepted`, ...releaseLines(status)]);
  };
}
