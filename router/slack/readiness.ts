import { WorkflowUpdateFailedError } from '@temporalio/client';
import { slackPerson } from '../../common/chat';
import { escapeText, personText, slackTime } from '../../common/slack/blocks';
import { statusQuery } from '../../contracts/controls';
import { ReadinessWindowExists, runningWindows, startWindows, windowInputs, windowTimesProblem } from '../../contracts/readiness/client';
import type { ReadinessChange } from '../../contracts/readiness/input';
import { checkReadinessAuthority, ReadinessRefused, readinessLevelFrom } from '../../contracts/readiness/level-from-config';
import { cancelUpdate, changeUpdate, type ReadinessStatus } from '../../contracts/readiness/messages';
import { windowRows } from '../../contracts/readiness/window-rows';
import { deployerRefusal, ephemeral, inChannel, refused, type CommandAnswer, type CommandRequest } from './answers';
import { explain, uiLink, withDeadline, type SlackHandlerContext } from './context';
import type { ReadinessCommand } from './parse-schedules';
import { SLACK_REQUEST_MEMO } from './replay';

/**
 * `/fleetops readiness add|list|change|cancel`: readiness windows (workflows/readiness/) as
 * `fleetops readiness` makes and changes them (contracts/readiness/client.ts). Adding, changing and
 * cancelling a window needs, as in the CLI, the authority of a deploy to its clusters' services: from
 * Slack, being in `slack.deployers` of every service of every cluster it touches. Checked before
 * anything reaches Temporal; a refusal starts and changes nothing and is answered to the asker only.
 *
 * Replays (router/slack/replay.ts): an add carries the request's key in its windows' memo, so a copy
 * finding them started is recognised and ignored; a change or cancel is a Temporal update whose id is
 * the key, which the server applies once.
 */

/** Why the user may not add or change windows on `clusters`, or undefined. */
async function windowRefusal(ctx: SlackHandlerContext, userId: string, clusters: readonly string[]): Promise<string | undefined> {
  try {
    checkReadinessAuthority(ctx.config, clusters);
  } catch (err) {
    if (err instanceof ReadinessRefused) return err.message;
    throw err;
  }
  const services = ctx.config.services.filter((s) => clusters.includes(s.cluster)).map((s) => `${s.cluster}/${s.name}`);
  const why = await deployerRefusal(ctx, userId, services);
  return why ? `${why}: a readiness window needs the deployers of every service of its clusters` : undefined;
}

const link = (ctx: SlackHandlerContext, workflowId: string) => `<${uiLink(ctx, workflowId)}|${workflowId}>`;

async function add(ctx: SlackHandlerContext, req: CommandRequest, cmd: Extract<ReadinessCommand, { kind: 'readiness-add' }>): Promise<CommandAnswer | undefined> {
  const what = `readiness add ${cmd.clusters.join(' ')}`;
  const denied = await windowRefusal(ctx, req.userId, cmd.clusters);
  if (denied) return refused(ctx, req, what, denied);
  const problem = windowTimesProblem(cmd.start, cmd.end, new Date());
  if (problem) return refused(ctx, req, what, problem);
  let inputs;
  try {
    const { clusters, start, end, level, reason, timeZone, id } = cmd;
    inputs = windowInputs(ctx.config, { clusters, start, end, level, reason, requestedBy: slackPerson(req.userId), ...(timeZone ? { timeZone } : {}), ...(id ? { id } : {}) });
  } catch (err) {
    if (err instanceof ReadinessRefused) return refused(ctx, req, what, err.message);
    throw err;
  }
  let started: string[];
  try {
    started = await withDeadline(ctx, () => startWindows(ctx.temporal, inputs, { [SLACK_REQUEST_MEMO]: req.requestKey }));
  } catch (err) {
    if (err instanceof ReadinessWindowExists) {
      const existing = await withDeadline(ctx, () => ctx.temporal.workflow.getHandle(err.workflowId).describe()).catch(() => undefined);
      if (existing?.memo?.[SLACK_REQUEST_MEMO] === req.requestKey) {
        ctx.log.warn({ workflowId: err.workflowId, user: req.userId }, 'slack: replayed readiness add ignored');
        return undefined;
      }
      const also = err.started.length > 0 ? ` (${err.started.join(', ')} was added before it)` : '';
      return ephemeral(`:no_entry_sign: ${escapeText(err.message)}: give another \`id <id>\`${also}`);
    }
    return ephemeral(`could not add the window: ${explain(err)}`);
  }
  ctx.log.info({ windows: started, by: req.userId }, 'slack: readiness windows added');
  const level = inputs[0]!.level;
  const freeze = level.freezeDeploys ? '; deploys to its clusters are frozen while it holds' : '';
  return inChannel(
    `:calendar: ${personText(slackPerson(req.userId))} added a readiness window, level ${level.level}, ${slackTime(cmd.start)} → ${slackTime(cmd.end)}: ${escapeText(cmd.reason)}${freeze}. ${started.map((w) => link(ctx, w)).join(', ')}`,
  );
}

async function list(ctx: SlackHandlerContext, cluster: string | undefined): Promise<CommandAnswer> {
  let rows;
  try {
    rows = windowRows(await runningWindows(ctx.temporal, (fn) => withDeadline(ctx, fn), cluster));
  } catch (err) {
    return ephemeral(`could not list the windows: ${explain(err)}`);
  }
  if (rows.length === 0) return ephemeral(`no readiness windows${cluster ? ` on ${cluster}` : ''}`);
  const lines = rows.map(
    (r) =>
      `• ${link(ctx, r.workflowId)} level ${r.level} *${escapeText(r.phase)}*, ${slackTime(r.start)} → ${slackTime(r.end)}, floor from ${slackTime(r.raiseAt)}${r.freezesDeploys ? ', deploys frozen' : ''}: ${escapeText(r.reason)}`,
  );
  return ephemeral([`*Readiness windows* (soonest first):`, ...lines].join('\n'));
}

/** The window's status and the user's authority over its cluster; an answer when there is none. */
async function windowFor(ctx: SlackHandlerContext, req: CommandRequest, workflowId: string): Promise<ReadinessStatus | CommandAnswer> {
  let status: ReadinessStatus;
  try {
    status = (await withDeadline(ctx, () => ctx.temporal.workflow.getHandle(workflowId).query(statusQuery))) as ReadinessStatus;
  } catch (err) {
    return ephemeral(`${workflowId}: ${escapeText(explain(err, workflowId))}`);
  }
  const denied = await windowRefusal(ctx, req.userId, [status.cluster]);
  return denied ? refused(ctx, req, `readiness ${workflowId}`, denied) : status;
}

async function update(
  ctx: SlackHandlerContext,
  req: CommandRequest,
  cmd: Extract<ReadinessCommand, { kind: 'readiness-change' | 'readiness-cancel' }>,
): Promise<CommandAnswer> {
  const status = await windowFor(ctx, req, cmd.workflowId);
  if (!('cluster' in status)) return status;
  const by = slackPerson(req.userId);
  const handle = ctx.temporal.workflow.getHandle(cmd.workflowId);
  const options = { updateId: `slack-${req.requestKey}` };
  try {
    if (cmd.kind === 'readiness-cancel') {
      await withDeadline(ctx, () => handle.executeUpdate(cancelUpdate, { ...options, args: [{ by, ...(cmd.reason ? { reason: cmd.reason } : {}) }] }));
      return inChannel(`:calendar: ${personText(by)} cancelled the readiness window ${link(ctx, cmd.workflowId)}: its floor is released${cmd.reason ? ` (${escapeText(cmd.reason)})` : ''}.`);
    }
    const change: ReadinessChange = {
      ...(cmd.start ? { start: cmd.start } : {}),
      ...(cmd.end ? { end: cmd.end } : {}),
      ...(cmd.level !== undefined ? { level: readinessLevelFrom(ctx.config, status.cluster, cmd.level) } : {}),
      ...(cmd.reason ? { reason: cmd.reason } : {}),
      by,
    };
    const after = await withDeadline(ctx, () => handle.executeUpdate(changeUpdate, { ...options, args: [change] }));
    return inChannel(`:calendar: ${personText(by)} changed the readiness window ${link(ctx, cmd.workflowId)}: level ${after.level.level}, ${slackTime(after.start)} → ${slackTime(after.end)}, *${escapeText(after.phase)}*.`);
  } catch (err) {
    if (err instanceof ReadinessRefused) return refused(ctx, req, `readiness change ${cmd.workflowId}`, err.message);
    if (err instanceof WorkflowUpdateFailedError) return refused(ctx, req, `readiness ${cmd.workflowId}`, `${cmd.workflowId} refused: ${escapeText(err.cause?.message ?? err.message)}`);
    return ephemeral(`${cmd.workflowId}: ${escapeText(explain(err, cmd.workflowId))}`);
  }
}

export function readinessCommand(ctx: SlackHandlerContext, req: CommandRequest, cmd: ReadinessCommand): Promise<CommandAnswer | undefined> {
  switch (cmd.kind) {
    case 'readiness-add':
      return add(ctx, req, cmd);
    case 'readiness-list':
      return list(ctx, cmd.cluster);
    default:
      return update(ctx, req, cmd);
  }
}
