import { WorkflowUpdateFailedError } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { slackPerson } from '../../common/chat';
import { escapeText, personText } from '../../common/slack/blocks';
import { releaseWorkflowId } from '../../common/workflow-ids';
import { identitiesOf } from '../../config/people';
import { statusQuery, type ControlRequest } from '../../contracts/controls';
import { releaseRequestSchema } from '../../contracts/release/input';
import { approveWaveUpdate, continueUpdate, rollbackUpdate, skipUpdate, type ReleaseService, type ReleaseStatus } from '../../contracts/release/messages';
import { ReleaseRequestRefused, releaseStartFor } from '../../contracts/release/request';
import { deployerRefusal, ephemeral, inChannel, refused, type CommandAnswer, type CommandRequest } from './answers';
import { mayApprove } from './approvals';
import { explain, uiLink, withDeadline, type SlackHandlerContext } from './context';
import type { ReleaseCommand } from './parse-release';
import { SLACK_REQUEST_MEMO } from './replay';

/**
 * `/fleetops release start|status|approve|continue|skip|rollback`: releases (workflows/release/) as
 * `fleetops release` starts and steers them.
 *
 * Start: one image for the configured services a selector picks, through releaseStartFor (every
 * service configured, every image one of its repositories), by a deployer (`slack.deployers`) of every
 * service it picks. Its id is the asker's and used once (REJECT_DUPLICATE); the request's key goes in
 * the run's memo, so a copy of the request finding the release started by it is ignored.
 *
 * Approve, continue and rollback: the authority is the workflow's (its validators, the deploy's
 * approval rule applied to every service concerned). What only Slack knows is added here, as for a
 * deploy gate's button (approvals.ts mayApprove): the asker must be a Slack approver of those services,
 * by name or through a user group, which is passed as `viaGroup` (when none is concerned, as with a
 * rollback before any promotion, of every service of the release). Skip: an approver or a deployer of the
 * service skipped. The update id is the request's key: a copy is applied once by the server.
 * Refusals are answered to the asker only; what was done, to the channel.
 */

type Start = Extract<ReleaseCommand, { kind: 'release-start' }>;
type Control = Extract<ReleaseCommand, { kind: 'release-approve' | 'release-continue' | 'release-skip' | 'release-rollback' }>;

const link = (ctx: SlackHandlerContext, workflowId: string) => `<${uiLink(ctx, workflowId)}|${workflowId}>`;
const nameOf = (s: Pick<ReleaseService, 'cluster' | 'service'>) => `${s.cluster}/${s.service}`;

async function start(ctx: SlackHandlerContext, req: CommandRequest, cmd: Start): Promise<CommandAnswer | undefined> {
  const what = `release start ${cmd.id}`;
  const by = slackPerson(req.userId);
  const request = releaseRequestSchema.parse({
    id: cmd.id,
    change: cmd.change ?? `image ${cmd.selector.image}`.slice(0, 200),
    selector: cmd.selector,
    ...(cmd.waves ? { waves: cmd.waves } : {}),
    requestedBy: by,
  });
  let options: ReturnType<typeof releaseStartFor>;
  try {
    options = releaseStartFor(ctx.config, request);
  } catch (err) {
    if (err instanceof ReleaseRequestRefused) return refused(ctx, req, what, `release ${cmd.id} refused: ${escapeText(err.message)}`);
    throw err;
  }
  const { workflowType, ...startOptions } = options;
  const { workflowId } = startOptions;
  const input = startOptions.args[0];
  const denied = await deployerRefusal(ctx, req.userId, [...new Set(input.targets.map(nameOf))]);
  if (denied) return refused(ctx, req, what, `${denied}: a release needs a deployer of every service it touches`);
  try {
    await withDeadline(ctx, () => ctx.temporal.workflow.start(workflowType, { ...startOptions, workflowIdConflictPolicy: 'FAIL', memo: { [SLACK_REQUEST_MEMO]: req.requestKey } }));
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      const existing = await withDeadline(ctx, () => ctx.temporal.workflow.getHandle(workflowId).describe()).catch(() => undefined);
      if (existing?.memo?.[SLACK_REQUEST_MEMO] === req.requestKey) {
        ctx.log.warn({ workflowId, user: req.userId }, 'slack: replayed release start ignored');
        return undefined;
      }
      return refused(ctx, req, what, `release ${cmd.id} exists already (${link(ctx, workflowId)}): a release id is used once`);
    }
    return ephemeral(`could not start the release: ${explain(err, workflowId)}`);
  }
  ctx.log.info({ workflowId, by: req.userId, services: input.targets.length }, 'slack: release started');
  const n = input.targets.length;
  return inChannel(
    `:rocket: ${personText(by)} started release ${link(ctx, workflowId)}: ${escapeText(input.change)} to ${n} service${n === 1 ? '' : 's'}. ` +
      `Wave 1 waits for someone else's approval: \`/fleetops release approve ${cmd.id}\`.`,
  );
}

async function statusOf(ctx: SlackHandlerContext, workflowId: string): Promise<ReleaseStatus | CommandAnswer> {
  try {
    return (await withDeadline(ctx, () => ctx.temporal.workflow.getHandle(workflowId).query(statusQuery))) as ReleaseStatus;
  } catch (err) {
    return ephemeral(`${workflowId}: ${escapeText(explain(err, workflowId))}`);
  }
}

const isStatus = (s: ReleaseStatus | CommandAnswer): s is ReleaseStatus => 'services' in s;

/** Where a release is, for the asker: phase, wave, counts, a halt, and services that need a look. */
export function releaseText(ctx: SlackHandlerContext, workflowId: string, s: ReleaseStatus): string {
  const counts = Object.entries(s.counts).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ');
  const notable = s.services.filter((x) => ['waiting', 'running', 'rolled-back', 'failed', 'revert-failed'].includes(x.state));
  return [
    `${link(ctx, workflowId)}: *${escapeText(s.phase)}*${s.paused ? ' (paused)' : ''}, wave ${s.wave.current} of ${s.wave.total}; ${counts}`,
    escapeText(s.summary),
    ...(s.halted ? [`halted: ${escapeText(s.halted.reason)}`] : []),
    ...(s.waitingFor ? [`waiting: ${escapeText(s.waitingFor)}`] : []),
    ...notable.slice(0, 10).map((x) => `• ${nameOf(x)}: ${x.state}${x.reason ? `: ${escapeText(x.reason)}` : ''}`),
    ...(notable.length > 10 ? [`… and ${notable.length - 10} more`] : []),
  ].join('\n');
}

/** Whether the asker approves every one of `services` in Slack's eyes, and the user group to name (the first needed). */
async function approverOfAll(ctx: SlackHandlerContext, userId: string, services: ReleaseService[]): Promise<{ ok: true; viaGroup?: string } | { ok: false; why: string }> {
  let viaGroup: string | undefined;
  for (const key of new Set(services.map(nameOf))) {
    const [cluster, service] = key.split('/') as [string, string];
    const check = await mayApprove(ctx, userId, cluster, service);
    if (!check.ok) return check;
    viaGroup ??= check.viaGroup;
  }
  return viaGroup !== undefined ? { ok: true, viaGroup } : { ok: true };
}

/** Slack's own check of a control, before the workflow's: why it is refused, or the request's extra fields (the user group). */
async function authority(ctx: SlackHandlerContext, req: CommandRequest, cmd: Control, s: ReleaseStatus): Promise<{ viaGroup?: string } | string> {
  const by = slackPerson(req.userId);
  if (cmd.kind === 'release-skip') {
    const target = s.services.find((x) => nameOf(x) === cmd.service || (!cmd.service.includes('/') && x.service === cmd.service));
    // An unknown service is the workflow's to refuse, in its words.
    if (!target) return {};
    const approver = await mayApprove(ctx, req.userId, target.cluster, target.service);
    if (approver.ok) return {};
    const deployer = await deployerRefusal(ctx, req.userId, [nameOf(target)]);
    return deployer ? `you are neither an approver nor a deployer of ${nameOf(target)}` : {};
  }
  if (cmd.kind === 'release-rollback' && s.requestedBy !== undefined && identitiesOf(ctx.config, by).includes(s.requestedBy)) return {};
  const concerned =
    cmd.kind === 'release-approve'
      ? s.services.filter((x) => x.wave === s.wave.current)
      : cmd.kind === 'release-continue'
        ? s.services.filter((x) => x.wave === s.wave.current && ['pending', 'waiting'].includes(x.state))
        : s.services.filter((x) => ['promoted', 'running'].includes(x.state));
  // Nothing concerned (a rollback before any promotion): still not a stranger's, so every service of the release is.
  const check = await approverOfAll(ctx, req.userId, concerned.length > 0 ? concerned : s.services);
  if (!check.ok) return check.why;
  return check.viaGroup !== undefined ? { viaGroup: check.viaGroup } : {};
}

async function control(ctx: SlackHandlerContext, req: CommandRequest, cmd: Control): Promise<CommandAnswer> {
  const workflowId = releaseWorkflowId(cmd.id);
  const verb = cmd.kind.slice('release-'.length);
  const what = `release ${verb} ${cmd.id}`;
  const s = await statusOf(ctx, workflowId);
  if (!isStatus(s)) return s;
  const extra = await authority(ctx, req, cmd, s);
  if (typeof extra === 'string') return refused(ctx, req, what, `${extra}: ${verb} on ${workflowId} refused`);
  const by = slackPerson(req.userId);
  let name: string;
  let request: ControlRequest & Record<string, unknown>;
  let done: string;
  switch (cmd.kind) {
    case 'release-approve':
      name = approveWaveUpdate.name;
      request = { by, ...extra, reason: 'approved in Slack', ...(cmd.wave !== undefined ? { wave: cmd.wave } : {}) };
      done = `approved wave ${cmd.wave ?? s.wave.current}`;
      break;
    case 'release-continue':
      name = continueUpdate.name;
      request = { by, ...extra, reason: 'continued in Slack' };
      done = `continued wave ${s.wave.current}, accepting its failures`;
      break;
    case 'release-skip':
      name = skipUpdate.name;
      request = { by, service: cmd.service, reason: 'skipped in Slack' };
      done = `skipped ${escapeText(cmd.service)}`;
      break;
    case 'release-rollback':
      name = rollbackUpdate.name;
      request = { by, ...extra, reason: cmd.reason };
      done = `is rolling back (${escapeText(cmd.reason)})`;
      break;
  }
  try {
    // By name, as the CLI does: the SDK's executeUpdate overloads do not take the definitions' argument tuples generically.
    const after = await withDeadline(ctx, () =>
      ctx.temporal.workflow.getHandle(workflowId).executeUpdate<ReleaseStatus, [typeof request]>(name, { args: [request], updateId: `slack-${req.requestKey}` }),
    );
    ctx.log.info({ workflowId, by: req.userId, action: verb }, 'slack: release control accepted');
    return inChannel(`:white_check_mark: ${personText(by)} ${done} of ${link(ctx, workflowId)}: now *${escapeText(after.phase)}*, wave ${after.wave.current} of ${after.wave.total}.`);
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) return refused(ctx, req, what, `${workflowId} refused: ${escapeText(err.cause?.message ?? err.message)}`);
    return ephemeral(`${workflowId}: ${escapeText(explain(err, workflowId))}`);
  }
}

export async function releaseCommand(ctx: SlackHandlerContext, req: CommandRequest, cmd: ReleaseCommand): Promise<CommandAnswer | undefined> {
  switch (cmd.kind) {
    case 'release-start':
      return start(ctx, req, cmd);
    case 'release-status': {
      const workflowId = releaseWorkflowId(cmd.id);
      const s = await statusOf(ctx, workflowId);
      return isStatus(s) ? ephemeral(releaseText(ctx, workflowId, s)) : s;
    }
    default:
      return control(ctx, req, cmd);
  }
}
