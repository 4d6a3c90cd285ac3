import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { FREEZING_SEVERITY_NAMES, listed, ROLE_NAMES, ROLE_WORDS, roleNamed, SEVERITY_CHOICES } from '../../common/incident/help-words';
import { POSTMORTEM_FIELDS, type PostmortemField } from '../../common/incident/model';
import { incidentStartOptions } from '../../contracts/incident/start';
import { declaredIncidentWorkflowId } from '../../common/workflow-ids';
import { incidentInputSchema, type IncidentInput } from '../../contracts/incident/input';
import {
  addActionItemUpdate,
  addLessonUpdate,
  assignUpdate,
  changeSeverityUpdate,
  checkUpdate,
  editPostmortemUpdate,
  linkActionItemUpdate,
  markReviewHeldUpdate,
  noteUpdate,
  postmortemQuery,
  resolveUpdate,
  type ActionItemRequest,
  type IncidentStatus,
  type IncidentWorkflow,
  type LessonRequest,
  type PostmortemFieldsRequest,
} from '../../contracts/incident/messages';
import { workflowUiLink } from '../../common/ui-links';
import type { CommandContext } from '../context';
import { usageError } from '../errors';
import { statusLines } from '../describe';
import type { CommandRunner } from '../program';
import { clusterNameSchema, personSchema, severitySchema, textSchema, workflowIdSchema } from '../../common/operator-input';
import { parseArg } from '../validation';

/** `incident open|assign|note|check|resolve|severity|review-held|postmortem` over the messages of workflows/incident/. */
export function registerIncidentCommands(program: Command, run: CommandRunner): void {
  const incidentCmd = program.command('incident').description('open and run incidents (roles, timeline, checklist, postmortem)');

  incidentCmd
    .command('open')
    .description('open an incident')
    .requiredOption('--title <text>', 'what is wrong, in a few words')
    .requiredOption('--severity <sev>', SEVERITY_CHOICES)
    .option('--summary <text>', 'what is known so far')
    .option('--on-call <person>', 'on-call person (default: the severity’s on-call from config)')
    .option('--cluster <cluster>', `ECS cluster the incident is about (FleetopsCluster); a ${FREEZING_SEVERITY_NAMES} one freezes its deploys`)
    .option('--dry-run', 'a drill: notifications, postmortem writes and issue filings are recorded, not made')
    .action(run(openCommand));

  incidentCmd
    .command('assign')
    .description(`set a role: ${listed(ROLE_NAMES)}`)
    .argument('<workflow-id>')
    .requiredOption('--role <role>', listed(ROLE_NAMES))
    .requiredOption('--person <person>', 'handle, e.g. alice or @sre-oncall')
    .action(run(assignCommand));

  incidentCmd
    .command('note')
    .description('add a timeline entry')
    .argument('<workflow-id>')
    .argument('<text>')
    .option('--status-update', 'this is a status update (restarts the status-update reminder cadence)')
    .action(run(noteCommand));

  incidentCmd
    .command('check')
    .description('complete a checklist item (e.g. commander-assigned, channel-opened, mitigated)')
    .argument('<workflow-id>')
    .argument('<item>')
    .option('--note <text>', 'what happened (required by mitigated, stakeholders-informed, ...)')
    .option('--link <url-or-channel>', 'link (required by channel-opened, status-page-updated)')
    .action(run(checkCommand));

  incidentCmd
    .command('resolve')
    .description('mark the incident resolved; the postmortem becomes due')
    .argument('<workflow-id>')
    .requiredOption('--resolution <text>', 'how it was resolved')
    .action(run(resolveCommand));

  incidentCmd
    .command('severity')
    .description('escalate or de-escalate: the new checklist is merged in, reminders, deploy freeze and paging follow')
    .argument('<workflow-id>')
    .argument('<severity>', SEVERITY_CHOICES)
    .requiredOption('--reason <text>', 'why (goes on the timeline and into the notification)')
    .action(run(severityCommand));

  incidentCmd
    .command('review-held')
    .description('the postmortem review (SRE meeting) was held: review reminders stop')
    .argument('<workflow-id>')
    .option('--note <text>', 'what the review decided')
    .option('--link <url>', 'meeting notes or recording')
    .action(run(reviewHeldCommand));

  const collect = (value: string, previous: string[]) => [...previous, value];
  incidentCmd
    .command('postmortem')
    .description('edit the postmortem and print it (Markdown)')
    .argument('<workflow-id>')
    .option('--summary <text>')
    .option('--impact <text>')
    .option('--root-cause <text>')
    .option('--trigger <text>')
    .option('--resolution <text>')
    .option('--detection <text>')
    .option('--went-well <text>', 'a lesson: what went well (repeatable)', collect, [])
    .option('--went-wrong <text>', 'a lesson: what went wrong (repeatable)', collect, [])
    .option('--lucky <text>', 'a lesson: where we got lucky (repeatable)', collect, [])
    .option('--action-item <type:owner:text>', 'mitigate|prevent|process, owner, text (repeatable)', collect, [])
    .option('--track <AI-n=url>', 'tracking link of an action item, e.g. AI-1=https://github.com/org/repo/issues/7 (repeatable)', collect, [])
    .option('--out <file>', 'also write the Markdown to this file')
    .action(run(postmortemCommand));
}

async function openCommand(ctx: CommandContext, cmd: Command): Promise<void> {
  const opts = cmd.opts<{ title: string; severity: string; summary?: string; onCall?: string; cluster?: string; dryRun?: boolean }>();
  const title = parseArg(textSchema(200), opts.title, '--title');
  const severity = parseArg(severitySchema, opts.severity, '--severity');
  const cluster = opts.cluster === undefined ? undefined : parseArg(clusterNameSchema, opts.cluster, '--cluster');
  const input: IncidentInput = parseArg(
    incidentInputSchema,
    {
      title,
      severity,
      ...(opts.summary !== undefined ? { summary: parseArg(textSchema(4000), opts.summary, '--summary') } : {}),
      source: { kind: 'cli', by: ctx.operator() },
      ...(opts.onCall !== undefined ? { onCall: parseArg(personSchema, opts.onCall, '--on-call') } : {}),
      ...(opts.dryRun ? { dryRun: true } : {}),
    },
    'incident',
  );
  const workflowId = declaredIncidentWorkflowId(title, randomBytes(4).toString('hex'));
  ctx.workflowId = workflowId;
  const client = await ctx.client();
  const { workflowType, ...options } = incidentStartOptions(workflowId, input, { cluster, workflowIdReusePolicy: 'REJECT_DUPLICATE' });
  const handle = await client.workflow.start<IncidentWorkflow>(workflowType, options);
  const target = ctx.target();
  const uiUrl = workflowUiLink(target.uiUrl, target.namespace, workflowId);
  ctx.print({ workflowId, runId: handle.firstExecutionRunId, input, ...(cluster ? { cluster } : {}), uiUrl }, [
    `opened ${workflowId}: ${severity} ${title}${cluster ? ` (cluster ${cluster})` : ''}${input.dryRun ? ' (drill)' : ''}`,
    `  web ui: ${uiUrl}`,
  ]);
}

const roleSchema = z.enum(ROLE_WORDS, { error: `must be one of ${ROLE_NAMES.join(', ')}` }).transform((r) => roleNamed(r)!);

const checklistItemSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'checklist items are lower-case words with hyphens, e.g. commander-assigned');

async function update(ctx: CommandContext, cmd: Command, action: string, send: (workflowId: string) => Promise<IncidentStatus>): Promise<void> {
  const workflowId = parseArg(workflowIdSchema, cmd.processedArgs[0], 'workflow id');
  ctx.workflowId = workflowId;
  const status = await ctx.withDeadline(() => send(workflowId));
  ctx.print({ workflowId, action, status }, [`${workflowId}: ${action} recorded`, ...statusLines(status)]);
}

async function assignCommand(ctx: CommandContext, cmd: Command): Promise<void> {
  const opts = cmd.opts<{ role: string; person: string }>();
  const role = parseArg(roleSchema, opts.role, '--role');
  const person = parseArg(personSchema, opts.person, '--person');
  const client = await ctx.client();
  await update(ctx, cmd, `assign ${role}=${person}`, (id) =>
    client.workflow.getHandle(id).executeUpdate(assignUpdate, { args: [{ role, person, by: ctx.operator() }] }),
  );
}

async function noteCommand(ctx: CommandContext, cmd: Command): Promise<void> {
  const text = parseArg(textSchema(4000), cmd.processedArgs[1], 'note text');
  const statusUpdate = cmd.opts<{ statusUpdate?: boolean }>().statusUpdate === true;
  const client = await ctx.client();
  await update(ctx, cmd, statusUpdate ? 'status update' : 'note', (id) =>
    client.workflow
      .getHandle(id)
      .executeUpdate(noteUpdate, { args: [{ text, by: ctx.operator(), kind: statusUpdate ? 'status-update' : 'note' }] }),
  );
}

async function checkCommand(ctx: CommandContext, cmd: Command): Promise<void> {
  const item = parseArg(checklistItemSchema, cmd.processedArgs[1], 'checklist item');
  const opts = cmd.opts<{ note?: string; link?: string }>();
  const request = {
    item,
    by: ctx.operator(),
    ...(opts.note !== undefined ? { note: parseArg(textSchema(4000), opts.note, '--note') } : {}),
    ...(opts.link !== undefined ? { link: parseArg(textSchema(1000), opts.link, '--link') } : {}),
  };
  const client = await ctx.client();
  await update(ctx, cmd, `check ${item}`, (id) => client.workflow.getHandle(id).executeUpdate(checkUpdate, { args: [request] }));
}

async function resolveCommand(ctx: CommandContext, cmd: Command): Promise<void> {
  const text = parseArg(textSchema(4000), cmd.opts<{ resolution: string }>().resolution, '--resolution');
  const client = await ctx.client();
  await update(ctx, cmd, 'resolve', (id) => client.workflow.getHandle(id).executeUpdate(resolveUpdate, { args: [{ text, by: ctx.operator() }] }));
}

async function severityCommand(ctx: CommandContext, cmd: Command): Promise<void> {
  const severity = parseArg(severitySchema, cmd.processedArgs[1], 'severity');
  const reason = parseArg(textSchema(4000), cmd.opts<{ reason: string }>().reason, '--reason');
  const client = await ctx.client();
  await update(ctx, cmd, `severity ${severity}`, (id) =>
    client.workflow.getHandle(id).executeUpdate(changeSeverityUpdate, { args: [{ severity, reason, by: ctx.operator() }] }),
  );
}

async function reviewHeldCommand(ctx: CommandContext, cmd: Command): Promise<void> {
  const opts = cmd.opts<{ note?: string; link?: string }>();
  const request = {
    by: ctx.operator(),
    ...(opts.note !== undefined ? { note: parseArg(textSchema(4000), opts.note, '--note') } : {}),
    ...(opts.link !== undefined ? { link: parseArg(textSchema(1000), opts.link, '--link') } : {}),
  };
  const client = await ctx.client();
  await update(ctx, cmd, 'review held', (id) => client.workflow.getHandle(id).executeUpdate(markReviewHeldUpdate, { args: [request] }));
}

interface PostmortemOptions extends Partial<Record<PostmortemField, string>> {
  wentWell: string[];
  wentWrong: string[];
  lucky: string[];
  actionItem: string[];
  track: string[];
  out?: string;
}

const actionItemSchema = z
  .string()
  .regex(/^(mitigate|prevent|process):[^:\s][^:]*:.*\S.*$/s, 'must be <mitigate|prevent|process>:<owner>:<text>')
  .transform((v) => {
    const [type, owner, ...rest] = v.split(':');
    return { type: type as ActionItemRequest['type'], owner: owner!.trim(), text: rest.join(':').trim() };
  });

const trackSchema = z
  .string()
  .regex(/^AI-\d+=https?:\/\/\S+$/, 'must be <AI-n>=<http(s) url>')
  .transform((v) => {
    const at = v.indexOf('=');
    return { id: v.slice(0, at), trackingLink: v.slice(at + 1) };
  });

async function postmortemCommand(ctx: CommandContext, cmd: Command): Promise<void> {
  const workflowId = parseArg(workflowIdSchema, cmd.processedArgs[0], 'workflow id');
  const opts = cmd.opts<PostmortemOptions>();
  const by = ctx.operator();
  const fields: PostmortemFieldsRequest = { by };
  for (const key of POSTMORTEM_FIELDS) {
    const value = opts[key];
    if (value !== undefined) fields[key] = parseArg(textSchema(8000), value, `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
  }
  const lessons: LessonRequest[] = [
    ...opts.wentWell.map((t) => ({ by, kind: 'went-well' as const, text: parseArg(textSchema(), t, '--went-well') })),
    ...opts.wentWrong.map((t) => ({ by, kind: 'went-wrong' as const, text: parseArg(textSchema(), t, '--went-wrong') })),
    ...opts.lucky.map((t) => ({ by, kind: 'lucky' as const, text: parseArg(textSchema(), t, '--lucky') })),
  ];
  const actionItems: ActionItemRequest[] = opts.actionItem.map((v) => ({ by, ...parseArg(actionItemSchema, v, '--action-item') }));
  const links = opts.track.map((v) => ({ by, ...parseArg(trackSchema, v, '--track') }));
  const outPath = opts.out === undefined ? undefined : resolve(ctx.io.cwd, opts.out);
  if (outPath !== undefined && opts.out!.trim() === '') throw usageError('--out needs a file path');

  ctx.workflowId = workflowId;
  const client = await ctx.client();
  const handle = client.workflow.getHandle(workflowId);
  const changed: string[] = [];
  if (Object.keys(fields).length > 1) {
    await ctx.withDeadline(() => handle.executeUpdate(editPostmortemUpdate, { args: [fields] }));
    changed.push(...Object.keys(fields).filter((k) => k !== 'by'));
  }
  for (const lesson of lessons) {
    await ctx.withDeadline(() => handle.executeUpdate(addLessonUpdate, { args: [lesson] }));
    changed.push(`lesson:${lesson.kind}`);
  }
  for (const item of actionItems) {
    await ctx.withDeadline(() => handle.executeUpdate(addActionItemUpdate, { args: [item] }));
    changed.push(`action-item:${item.type}`);
  }
  // After the items above, so one call can add an item and link it (ids are AI-1, AI-2, ... in order).
  for (const link of links) {
    await ctx.withDeadline(() => handle.executeUpdate(linkActionItemUpdate, { args: [link] }));
    changed.push(`track:${link.id}`);
  }
  const markdown = await ctx.withDeadline(() => handle.query(postmortemQuery));
  if (outPath) writeFileSync(outPath, markdown);
  if (ctx.json) ctx.print({ workflowId, changed, markdown, ...(outPath ? { writtenTo: outPath } : {}) }, '');
  else ctx.io.stdout(`${markdown.endsWith('\n') ? markdown : `${markdown}\n`}${outPath ? `(written to ${outPath})\n` : ''}`);
}
