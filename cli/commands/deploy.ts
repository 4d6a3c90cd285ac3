import type { Command } from 'commander';
import { FREEZING_SEVERITY_NAMES } from '../../common/incident/help-words';
import { DeployRequestRefused, deployStartFor } from '../../contracts/canary-deploy/request';
import { deployRequestSchema, type DeployRequest } from '../../contracts/canary-deploy/input';
import { approveUpdate, type ApproveRequest, type DeployStatus } from '../../contracts/canary-deploy/messages';
import { workflowUiLink } from '../../common/ui-links';
import { loadCliConfig } from '../config';
import type { CommandContext } from '../context';
import { failedError, usageError } from '../errors';
import { statusLines } from '../describe';
import type { CommandRunner } from '../program';
import { clusterNameSchema, imageSchema, serviceNameSchema, taskDefinitionArnSchema, textSchema, workflowIdSchema } from '../../common/operator-input';
import { parseArg } from '../validation';
import { scheduleNameSchema, scheduleWhen, type ScheduleFlags } from '../schedule-input';
import { scheduleDeploy } from './scheduled-deploy';

/** `deploy` starts a canary deploy (workflows/canary-deploy/); `approve` passes its gate. */
export function registerDeployCommands(program: Command, run: CommandRunner): void {
  program
    .command('deploy')
    .description('start a canary deploy of a service (one per service at a time)')
    .argument('<cluster>', 'ECS cluster')
    .argument('<service>', 'ECS service')
    .option('--image <image>', 'new image: a revision of the current task definition with it')
    .option('--task-definition <arn>', 'an already registered task definition revision')
    .option('--force', `deploy even while a ${FREEZING_SEVERITY_NAMES} incident is open for the cluster`)
    .option('--dry-run', 'record every mutating AWS call instead of making it')
    .option('--at <time>', 'deploy once, later: an ISO 8601 time with its zone (2025-06-01T14:00+09:00); makes a Temporal Schedule')
    .option('--cron <expr>', 'deploy at every time of a cron expression ("0 14 * * FRI"); makes a Temporal Schedule')
    .option('--timezone <zone>', 'with --cron: the IANA zone its times are in (default UTC)')
    .option('--name <name>', 'with --at/--cron: ends the schedule id deploy-schedule-<cluster>-<service>-<name> (default: the next number)')
    .action(run(deployCommand));

  program
    .command('approve')
    .description("pass a deploy's approval gate (or accept an inconclusive analysis)")
    .argument('<workflow-id>', 'e.g. deploy-demo-web')
    .option('--reason <text>', 'recorded with the approval')
    .action(run(approveCommand));
}

interface DeployOptions extends ScheduleFlags {
  image?: string;
  taskDefinition?: string;
  force?: boolean;
  dryRun?: boolean;
}

async function deployCommand(ctx: CommandContext, cmd: Command): Promise<void> {
  const [rawCluster, rawService] = cmd.processedArgs as [string, string];
  const opts = cmd.opts<DeployOptions>();
  const when = scheduleWhen(opts, new Date());
  const name = opts.name === undefined ? undefined : parseArg(scheduleNameSchema, opts.name, '--name');
  const cluster = parseArg(clusterNameSchema, rawCluster, 'cluster');
  const service = parseArg(serviceNameSchema, rawService, 'service');
  if ((opts.image === undefined) === (opts.taskDefinition === undefined)) {
    throw usageError('give exactly one of --image or --task-definition');
  }
  const request: DeployRequest = parseArg(
    deployRequestSchema,
    {
      cluster,
      service,
      ...(opts.image !== undefined ? { image: parseArg(imageSchema, opts.image, '--image') } : {}),
      ...(opts.taskDefinition !== undefined
        ? { taskDefinition: parseArg(taskDefinitionArnSchema, opts.taskDefinition, '--task-definition') }
        : {}),
      requestedBy: ctx.operator(),
      ...(opts.force ? { force: true } : {}),
      ...(opts.dryRun ? { dryRun: true } : {}),
    },
    'deploy',
  );
  const config = loadCliConfig(ctx, "fleetops deploy checks the service's images and approvers in the config");
  // The router's Deploy Requested route and Slack start through the same check and options.
  let options: ReturnType<typeof deployStartFor>;
  try {
    options = deployStartFor(config, request);
  } catch (err) {
    if (err instanceof DeployRequestRefused) throw failedError(`deploy of ${cluster}/${service} refused: ${err.message}`, { refused: true, field: err.field });
    throw err;
  }
  if (when) return scheduleDeploy(ctx, request, when, name);
  const { workflowType, ...start } = options;
  const input = start.args[0];
  const { workflowId } = start;
  ctx.workflowId = workflowId;
  const client = await ctx.client();
  let runId: string;
  try {
    const handle = await client.workflow.start(workflowType, { ...start, workflowIdConflictPolicy: 'FAIL' });
    runId = handle.firstExecutionRunId;
  } catch (err) {
    if (err instanceof Error && err.name === 'WorkflowExecutionAlreadyStartedError') {
      throw failedError(`a deploy of ${cluster}/${service} is already running: ${workflowId}`, { workflowId, duplicate: true });
    }
    throw err;
  }
  const target = ctx.target();
  const uiUrl = workflowUiLink(target.uiUrl, target.namespace, workflowId);
  ctx.print({ workflowId, runId, input, uiUrl }, [
    `started ${workflowId}${input.dryRun ? ' (dry run)' : ''}: ${cluster}/${service} -> ${input.image ?? input.taskDefinition}`,
    `  follow: fleetops status ${workflowId}`,
    `  web ui: ${uiUrl}`,
  ]);
}

async function approveCommand(ctx: CommandContext, cmd: Command): Promise<void> {
  const workflowId = parseArg(workflowIdSchema, cmd.processedArgs[0], 'workflow id');
  const { reason } = cmd.opts<{ reason?: string }>();
  // `by` is the OS user (cli:<user>); the workflow decides whether they may approve, and its refusal is printed.
  const request: ApproveRequest = { by: ctx.operator(), ...(reason === undefined ? {} : { reason: parseArg(textSchema(), reason, '--reason') }) };
  ctx.workflowId = workflowId;
  const client = await ctx.client();
  // By name: the SDK's executeUpdate overloads do not accept the definition's optional argument tuple.
  const status = await ctx.withDeadline(() =>
    client.workflow.getHandle(workflowId).executeUpdate<DeployStatus, [ApproveRequest]>(approveUpdate.name, { args: [request] }),
  );
  ctx.print({ workflowId, action: 'approve', request, status }, [`${workflowId}: approved`, ...statusLines(status)]);
}
