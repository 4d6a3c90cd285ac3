import type { Command } from 'commander';
import { abortUpdate, pauseSignal, pauseUpdate, resumeSignal, resumeUpdate, type WorkflowStatus } from '../../contracts/controls';
import { describeWorkflow, fleetopsSearchAttributes, readStatus, statusLines, viewLines, type WorkflowView } from '../describe';
import type { CommandContext } from '../context';
import { failedError } from '../errors';
import { kindSchema, limitSchema, phaseSchema, clusterNameSchema, textSchema, workflowIdSchema } from '../../common/operator-input';
import { parseArg } from '../validation';
import type { CommandRunner } from '../program';

/** Generic commands every fleetops workflow answers (contracts/controls.ts): status, list, pause, resume, abort. */
export function registerWorkflowCommands(program: Command, run: CommandRunner): void {
  program
    .command('status')
    .description("show a workflow's phase and summary (its `status` query) and what Temporal knows about it")
    .argument('<workflow-id>', 'e.g. drain-i-0123456789abcdef0, deploy-demo-web')
    .action(run(statusCommand));

  program
    .command('list')
    .description('list fleetops workflows, filtered on their search attributes')
    .option('--kind <kind>', 'drain, capacity, deploy or incident')
    .option('--phase <phase>', 'FleetopsPhase, e.g. draining, baking, open')
    .option('--cluster <cluster>', 'FleetopsCluster')
    .option('--running', 'only workflows that are still running')
    .option('--limit <n>', 'at most this many (1-1000)', '50')
    .action(run(listCommand));

  program
    .command('pause')
    .description('hold a workflow at its next step boundary (drains cannot be paused: their deadline runs)')
    .argument('<workflow-id>')
    .option('--reason <text>', 'why, recorded by the workflow')
    .action(run((ctx, cmd) => pauseOrResume(ctx, cmd, 'pause')));

  program
    .command('resume')
    .description('continue a paused workflow')
    .argument('<workflow-id>')
    .option('--reason <text>', 'why, recorded by the workflow')
    .action(run((ctx, cmd) => pauseOrResume(ctx, cmd, 'resume')));

  program
    .command('abort')
    .description('stop a workflow at its next step boundary, leaving AWS in a safe, stated state')
    .argument('<workflow-id>')
    .requiredOption('--reason <text>', 'why (required; shown in status, history and notifications)')
    .action(run(abortCommand));
}

async function statusCommand(ctx: CommandContext, cmd: Command): Promise<void> {
  const workflowId = parseArg(workflowIdSchema, cmd.processedArgs[0], 'workflow id');
  ctx.workflowId = workflowId;
  const client = await ctx.client();
  // Query first: it waits for the workflow's pending task, so the search attributes described next
  // include what that task upserted (a workflow started a moment ago has FleetopsPhase by then).
  let status: WorkflowStatus | undefined;
  let statusError: string | undefined;
  try {
    status = await readStatus(ctx, client, workflowId);
  } catch (err) {
    statusError = (err as Error).message;
  }
  const view: WorkflowView = { ...(await describeWorkflow(ctx, client, workflowId)), status, statusError };
  ctx.print(view, viewLines(view));
  // A closed workflow is still described; a running one that cannot answer is a failure to report.
  if (!view.status && view.executionStatus === 'RUNNING') {
    throw failedError(`workflow ${workflowId} is running but did not answer its status query: ${view.statusError}`, {
      workflowId,
    });
  }
}

/** Visibility query over the fleetops search attributes; values are validated, so they need no escaping. */
export function buildListQuery(filters: { kind?: string; phase?: string; cluster?: string; running?: boolean }): string {
  const clauses = [
    filters.kind ? `FleetopsKind = "${filters.kind}"` : 'FleetopsKind IN ("drain", "capacity", "deploy", "incident")',
  ];
  if (filters.phase) clauses.push(`FleetopsPhase = "${filters.phase}"`);
  if (filters.cluster) clauses.push(`FleetopsCluster = "${filters.cluster}"`);
  if (filters.running) clauses.push('ExecutionStatus = "Running"');
  return clauses.join(' AND ');
}

interface ListOptions {
  kind?: string;
  phase?: string;
  cluster?: string;
  running?: boolean;
  limit: string;
}

async function listCommand(ctx: CommandContext, cmd: Command): Promise<void> {
  const opts = cmd.opts<ListOptions>();
  const filters = {
    kind: opts.kind === undefined ? undefined : parseArg(kindSchema, opts.kind, '--kind'),
    phase: opts.phase === undefined ? undefined : parseArg(phaseSchema, opts.phase, '--phase'),
    cluster: opts.cluster === undefined ? undefined : parseArg(clusterNameSchema, opts.cluster, '--cluster'),
    running: opts.running === true,
  };
  const limit = parseArg(limitSchema, opts.limit, '--limit');
  const query = buildListQuery(filters);
  const client = await ctx.client();
  const workflows: Omit<WorkflowView, 'uiUrl' | 'staticSummary'>[] = [];
  for await (const info of client.workflow.list({ query, pageSize: Math.min(limit, 100) })) {
    workflows.push({
      workflowId: info.workflowId,
      runId: info.runId,
      type: info.type,
      executionStatus: info.status.name,
      taskQueue: info.taskQueue,
      startTime: info.startTime.toISOString(),
      ...(info.closeTime ? { closeTime: info.closeTime.toISOString() } : {}),
      searchAttributes: fleetopsSearchAttributes(info),
    });
    if (workflows.length >= limit) break;
  }
  const rows = workflows.map((w) =>
    [
      w.workflowId.padEnd(40),
      (w.searchAttributes.FleetopsKind ?? '-').padEnd(9),
      (w.searchAttributes.FleetopsPhase ?? '-').padEnd(20),
      (w.searchAttributes.FleetopsCluster ?? '-').padEnd(12),
      w.executionStatus.padEnd(10),
      w.startTime,
    ].join(' '),
  );
  ctx.print(
    { query, count: workflows.length, workflows },
    workflows.length === 0
      ? `no workflows match ${query}`
      : [`${'WORKFLOW ID'.padEnd(40)} ${'KIND'.padEnd(9)} ${'PHASE'.padEnd(20)} ${'CLUSTER'.padEnd(12)} ${'STATUS'.padEnd(10)} STARTED`, ...rows],
  );
}

/** The subset of the SDK's `__temporal_workflow_metadata` answer the CLI reads. */
interface WorkflowMetadata {
  definition?: {
    signalDefinitions?: { name?: string | null }[] | null;
    updateDefinitions?: { name?: string | null }[] | null;
  } | null;
}

/**
 * How long `pause`/`resume` wait for a workflow that only knows the signal (a worker older than 0.3.0)
 * to report the new state before calling it failed.
 */
const CONTROL_CONFIRM_MS = 5_000;

async function pauseOrResume(ctx: CommandContext, cmd: Command, action: 'pause' | 'resume'): Promise<void> {
  const workflowId = parseArg(workflowIdSchema, cmd.processedArgs[0], 'workflow id');
  const { reason } = cmd.opts<{ reason?: string }>();
  const request = { by: ctx.operator(), ...(reason === undefined ? {} : { reason: parseArg(textSchema(), reason, '--reason') }) };
  ctx.workflowId = workflowId;
  const client = await ctx.client();
  const handle = client.workflow.getHandle(workflowId);
  const view = await describeWorkflow(ctx, client, workflowId);
  if (view.executionStatus !== 'RUNNING') throw failedError(`workflow ${workflowId} is ${view.executionStatus}, not running`, { workflowId });

  // Ask what it accepts first: a workflow that never registered the signal would buffer it silently,
  // and one on a worker older than 0.3.0 has the signal but not the update.
  const metadata = await ctx.withDeadline(() => handle.query<WorkflowMetadata>('__temporal_workflow_metadata'));
  const has = (defs: { name?: string | null }[] | null | undefined): boolean => (defs ?? []).some((d) => d.name === action);
  let status: WorkflowStatus;
  if (has(metadata.definition?.updateDefinitions)) {
    // The update returns the state it left: nothing to poll.
    status = await ctx.withDeadline(() => handle.executeUpdate(action === 'pause' ? pauseUpdate : resumeUpdate, { args: [request] }));
  } else if (has(metadata.definition?.signalDefinitions)) {
    status = await signalAndConfirm(ctx, handle, workflowId, action, request);
  } else {
    throw failedError(`workflow ${workflowId} (${view.type}) cannot be ${action}d`, { workflowId });
  }
  ctx.print({ workflowId, action, request, status }, [`${workflowId}: ${action}d`, ...statusLines(status)]);
}

/** The pre-0.3.0 way: signal, then read `status` until it shows the new state. */
async function signalAndConfirm(
  ctx: CommandContext,
  handle: { signal: (def: typeof pauseSignal, req: { by: string; reason?: string }) => Promise<void> },
  workflowId: string,
  action: 'pause' | 'resume',
  request: { by: string; reason?: string },
): Promise<WorkflowStatus> {
  const client = await ctx.client();
  await ctx.withDeadline(() => handle.signal(action === 'pause' ? pauseSignal : resumeSignal, request));
  const want = action === 'pause';
  let status: WorkflowStatus | undefined;
  const until = Date.now() + CONTROL_CONFIRM_MS;
  do {
    status = await readStatus(ctx, client, workflowId);
    if (Boolean(status.paused) === want) break;
    await new Promise((r) => setTimeout(r, 200));
  } while (Date.now() < until);
  if (Boolean(status.paused) !== want) {
    throw failedError(`sent ${action} to ${workflowId}, but it still reports paused=${Boolean(status.paused)}`, { workflowId, status });
  }
  return status;
}

async function abortCommand(ctx: CommandContext, cmd: Command): Promise<void> {
  const workflowId = parseArg(workflowIdSchema, cmd.processedArgs[0], 'workflow id');
  const reason = parseArg(textSchema(), cmd.opts<{ reason: string }>().reason, '--reason');
  ctx.workflowId = workflowId;
  const client = await ctx.client();
  const status = await ctx.withDeadline(() =>
    client.workflow.getHandle(workflowId).executeUpdate(abortUpdate, { args: [{ reason, by: ctx.operator() }] }),
  );
  ctx.print({ workflowId, action: 'abort', reason, status }, [
    `${workflowId}: abort accepted (the workflow stops at its next step boundary; see \`fleetops status ${workflowId}\`)`,
    ...statusLines(status),
  ]);
}
