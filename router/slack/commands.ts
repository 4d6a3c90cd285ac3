import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { slackPerson } from '../../common/chat';
import { statusQuery, type WorkflowStatus } from '../../contracts/controls';
import { DeployRequestRefused, deployStartFor } from '../../contracts/canary-deploy/request';
import { incidentStartOptions } from '../../contracts/incident/start';
import { declaredIncidentWorkflowId, deployWorkflowId, drainWorkflowId, fleetopsKindOfId } from '../../common/workflow-ids';
import { deployRequestSchema } from '../../contracts/canary-deploy/input';
import { incidentInputSchema, type IncidentInput } from '../../contracts/incident/input';
import { escapeText, personText } from '../../common/slack/blocks';
import type { DeployStatus } from '../../contracts/canary-deploy/messages';
import { assignUpdate, changeSeverityUpdate, noteUpdate, resolveUpdate, type IncidentStatus } from '../../contracts/incident/messages';
import { explain, uiLink, withDeadline, type SlackHandlerContext } from './context';
import { mayChangeIncident } from './incident-authority';
import { deployerRefusal, ephemeral, inChannel, refused, type CommandAnswer, type CommandRequest } from './answers';
import { readinessCommand } from './readiness';
import { schedulesCommand } from './schedules';
import { releaseCommand } from './release';
import { deployReplayOf, SLACK_REQUEST_MEMO } from './replay';
import { CommandError, findService, HELP_TEXT, parseSlashCommand, type IncidentUpdateCommand, type SlashCommand } from './parse';

/**
 * What `/fleetops …` does, after the app has acknowledged it (within Slack's three seconds): each
 * command returns the answer the app posts through the command's response_url. `in_channel`
 * answers are what the channel should see (a deploy started or refused, an incident declared, a
 * deploy scheduled, a window added, changed or cancelled); everything else is for the asker only. A
 * replayed request (router/slack/replay.ts) gets no answer.
 *
 * Who may do what is checked here, before anything reaches Temporal: deploys (now or scheduled) by
 * the service's `slack.deployers`, releases by those of every service they pick (release.ts), readiness windows by those of every service of their clusters
 * (readiness.ts, schedules.ts), incident changes by the incident's roles and `slack.responders`,
 * status only of fleetops workflows. Refusals are answered to the asker only.
 */

export type { CommandAnswer, CommandRequest } from './answers';

/** How long `/fleetops deploy` waits for preflight to pass or refuse before answering "started". */
const PREFLIGHT_WAIT_MS = 20_000;
const POLL_MS = 500;

/** The answer to post, or undefined for a replayed request (nothing is posted). */
export async function runSlashCommand(ctx: SlackHandlerContext, req: CommandRequest): Promise<CommandAnswer | undefined> {
  let command: SlashCommand;
  try {
    command = parseSlashCommand(req.text, ctx.config);
  } catch (err) {
    if (err instanceof CommandError) return ephemeral(`${err.message}\n\n${HELP_TEXT}`);
    throw err;
  }
  switch (command.kind) {
    case 'help':
      return ephemeral(HELP_TEXT);
    case 'deploy':
      return deploy(ctx, req, command);
    case 'status':
      return status(ctx, command.target);
    case 'declare':
      return declare(ctx, req, command);
    case 'schedule-deploy':
    case 'schedules':
    case 'schedule-cancel':
      return schedulesCommand(ctx, req, command);
    case 'release-start':
    case 'release-status':
    case 'release-approve':
    case 'release-continue':
    case 'release-skip':
    case 'release-rollback':
      return releaseCommand(ctx, req, command);
    case 'readiness-add':
    case 'readiness-list':
    case 'readiness-change':
    case 'readiness-cancel':
      return readinessCommand(ctx, req, command);
    default:
      return ephemeral(await updateIncident(ctx, command, { userId: req.userId, updateId: `slack-${req.requestKey}` }));
  }
}

async function readStatus<T extends WorkflowStatus>(ctx: SlackHandlerContext, workflowId: string, runId?: string): Promise<T> {
  return withDeadline(ctx, () => ctx.temporal.workflow.getHandle(workflowId, runId).query(statusQuery)) as Promise<T>;
}

async function deploy(ctx: SlackHandlerContext, req: CommandRequest, cmd: Extract<SlashCommand, { kind: 'deploy' }>): Promise<CommandAnswer | undefined> {
  const { service } = cmd;
  const target = `${service.cluster}/${service.name}`;
  const why = await deployerRefusal(ctx, req.userId, [target]);
  if (why) return refused(ctx, req, `deploy ${target}`, why);
  let options: ReturnType<typeof deployStartFor>;
  try {
    // From chat a deploy always waits for a person at a gate, whatever the service's plan says.
    options = deployStartFor(ctx.config, deployRequestSchema.parse({ cluster: service.cluster, service: service.name, image: cmd.image, requestedBy: slackPerson(req.userId) }), { requireGate: true });
  } catch (err) {
    // The image is not one of the service's repositories: refused before anything reaches Temporal or AWS.
    if (err instanceof DeployRequestRefused) return inChannel(`:no_entry: Deploy of \`${escapeText(cmd.image)}\` to ${target} (by ${personText(slackPerson(req.userId))}) refused: ${escapeText(err.message)}`);
    throw err;
  }
  const { workflowType, ...start } = options;
  const { workflowId } = start;
  const replayed = () => {
    ctx.log.warn({ workflowId, user: req.userId }, 'slack: replayed deploy request ignored');
    return undefined;
  };
  let runId: string;
  try {
    if (await deployReplayOf(ctx, workflowId, req.requestKey)) return replayed();
    const handle = await withDeadline(ctx, () =>
      ctx.temporal.workflow.start(workflowType, { ...start, workflowIdConflictPolicy: 'FAIL', memo: { [SLACK_REQUEST_MEMO]: req.requestKey } }),
    );
    runId = handle.firstExecutionRunId;
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      if (await deployReplayOf(ctx, workflowId, req.requestKey).catch(() => false)) return replayed();
      const running = await readStatus<DeployStatus>(ctx, workflowId).catch(() => undefined);
      const what = running ? `: ${escapeText(running.phase)}, requested by ${personText(running.requestedBy)}` : '';
      return inChannel(`:warning: ${personText(slackPerson(req.userId))} asked to deploy \`${escapeText(cmd.image)}\` to ${target}, but a deploy of ${target} is already running${what} (<${uiLink(ctx, workflowId)}|${workflowId}>). One deploy per service at a time.`);
    }
    return ephemeral(`could not start the deploy: ${explain(err, workflowId)}`);
  }
  ctx.log.info({ workflowId, runId, by: req.userId }, 'slack: deploy started');
  // The freeze and the health checks are the workflow's (preflight); its verdict is answered here.
  const until = Date.now() + PREFLIGHT_WAIT_MS;
  let s: DeployStatus | undefined;
  while (Date.now() < until) {
    s = await readStatus<DeployStatus>(ctx, workflowId, runId).catch(() => undefined);
    if (s && s.phase !== 'preflight') break;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  const link = `<${uiLink(ctx, workflowId)}|${workflowId}>`;
  const by = personText(slackPerson(req.userId));
  if (s?.phase === 'refused') return inChannel(`:no_entry: Deploy of \`${escapeText(cmd.image)}\` to ${target} (by ${by}) refused: ${escapeText(s.reason ?? s.summary)} (${link})`);
  const where = ctx.slack.channels.deploys ? `; phases and the approval gate in <#${ctx.slack.channels.deploys}>` : '';
  return inChannel(`:rocket: ${by} started a canary deploy of \`${escapeText(cmd.image)}\` to ${target}: ${link}, now *${escapeText(s?.phase ?? 'preflight')}*${where}.`);
}

/** A workflow id; `i-…` is that instance's drain; a configured service is its deploy. */
export function statusTarget(ctx: Pick<SlackHandlerContext, 'config'>, target: string): string {
  if (/^i-[0-9a-f]{8,17}$/.test(target)) return drainWorkflowId(target);
  if (!/^(drain|capacity|deploy|incident)-/.test(target)) {
    try {
      const s = findService(ctx.config, target);
      return deployWorkflowId(s.cluster, s.name);
    } catch {
      // Not a service: taken as a workflow id.
    }
  }
  return target;
}

async function status(ctx: SlackHandlerContext, target: string): Promise<CommandAnswer> {
  const workflowId = statusTarget(ctx, target);
  // Another application's workflow in the namespace is none of the chat's business: refused unasked.
  if (!fleetopsKindOfId(workflowId, ctx.config)) {
    return ephemeral(`:no_entry_sign: \`${escapeText(workflowId)}\` is not a fleetops workflow id (drain-, launch-, capacity- or deploy- of a configured cluster or service, incident-)`);
  }
  const link = `<${uiLink(ctx, workflowId)}|${workflowId}>`;
  let state = '';
  try {
    const desc = await withDeadline(ctx, () => ctx.temporal.workflow.getHandle(workflowId).describe());
    state = ` (${desc.type}, ${desc.status.name.toLowerCase()})`;
  } catch (err) {
    return ephemeral(`${link}: ${explain(err, workflowId)}`);
  }
  try {
    const s = await readStatus(ctx, workflowId);
    return ephemeral(`${link}${state}: *${escapeText(s.phase)}*${s.paused ? ' (paused)' : ''}\n${escapeText(s.summary)}`);
  } catch (err) {
    return ephemeral(`${link}${state}: status unavailable: ${explain(err, workflowId)}`);
  }
}

async function declare(ctx: SlackHandlerContext, req: CommandRequest, cmd: Extract<SlashCommand, { kind: 'declare' }>): Promise<CommandAnswer | undefined> {
  const input: IncidentInput = incidentInputSchema.parse({
    title: cmd.title,
    severity: cmd.severity,
    source: { kind: 'chat', by: slackPerson(req.userId), channel: req.channelId },
  });
  // The short id is the request's key: a replay gets the same id and REJECT_DUPLICATE refuses it.
  const workflowId = declaredIncidentWorkflowId(cmd.title, req.requestKey.slice(0, 8));
  const { workflowType, ...options } = incidentStartOptions(workflowId, input, { workflowIdReusePolicy: 'REJECT_DUPLICATE' });
  try {
    await withDeadline(ctx, () => ctx.temporal.workflow.start(workflowType, options));
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      ctx.log.warn({ workflowId, user: req.userId }, 'slack: replayed incident declaration ignored');
      return undefined;
    }
    return ephemeral(`could not declare the incident: ${explain(err, workflowId)}`);
  }
  ctx.log.info({ workflowId, by: req.userId }, 'slack: incident declared');
  const where = ctx.slack.channels.incidents ? ` Its thread is in <#${ctx.slack.channels.incidents}>.` : '';
  return inChannel(
    `:rotating_light: ${personText(slackPerson(req.userId))} declared a ${cmd.severity} incident: *${escapeText(cmd.title)}* (<${uiLink(ctx, workflowId)}|${workflowId}>).${where}`,
  );
}

export interface IncidentUpdater {
  userId: string;
  /** Temporal update id: a replayed request sends the same one, and the server applies it once. */
  updateId: string;
}

/**
 * note / assign / severity / resolve on an incident, if the user may change it (incident-authority.ts);
 * the answer says what was recorded or why not.
 */
export async function updateIncident(ctx: SlackHandlerContext, cmd: IncidentUpdateCommand, who: IncidentUpdater): Promise<string> {
  const by = slackPerson(who.userId);
  if (fleetopsKindOfId(cmd.workflowId, ctx.config) !== 'incident') {
    ctx.log.info({ user: who.userId, workflowId: cmd.workflowId, kind: cmd.kind }, 'slack: incident change refused: not an incident id');
    return `:no_entry_sign: \`${escapeText(cmd.workflowId)}\` is not a fleetops incident id (incident-…)`;
  }
  const handle = ctx.temporal.workflow.getHandle(cmd.workflowId);
  try {
    const current = (await withDeadline(ctx, () => handle.query(statusQuery))) as IncidentStatus;
    const allowed = await mayChangeIncident(ctx, who.userId, current);
    if (!allowed.ok) {
      ctx.log.info({ user: who.userId, workflowId: cmd.workflowId, kind: cmd.kind }, 'slack: incident change refused');
      return `:no_entry_sign: ${cmd.workflowId}: ${allowed.why}`;
    }
    const options = { updateId: who.updateId };
    let s: IncidentStatus;
    let done: string;
    if (cmd.kind === 'note') {
      s = await withDeadline(ctx, () => handle.executeUpdate(noteUpdate, { ...options, args: [{ text: cmd.text, by }] }));
      done = 'note added to the timeline';
    } else if (cmd.kind === 'assign') {
      s = await withDeadline(ctx, () => handle.executeUpdate(assignUpdate, { ...options, args: [{ role: cmd.role, person: cmd.person, by }] }));
      done = `${cmd.role} is now ${personText(cmd.person)}`;
    } else if (cmd.kind === 'severity') {
      s = await withDeadline(ctx, () => handle.executeUpdate(changeSeverityUpdate, { ...options, args: [{ severity: cmd.severity, reason: cmd.reason, by }] }));
      done = `severity is now ${cmd.severity}`;
    } else {
      s = await withDeadline(ctx, () => handle.executeUpdate(resolveUpdate, { ...options, args: [{ text: cmd.text, by }] }));
      done = 'resolved; the postmortem is due';
    }
    return `${cmd.workflowId}: ${done} (phase ${escapeText(s.phase)})`;
  } catch (err) {
    return `${cmd.workflowId}: ${escapeText(explain(err, cmd.workflowId))}`;
  }
}
