import { ScheduleNotFoundError } from '@temporalio/client';
import { slackPerson } from '../../common/chat';
import { deployWorkflowId } from '../../common/workflow-ids';
import { escapeText, personText, slackTime } from '../../common/slack/blocks';
import { deployRequestSchema } from '../../contracts/canary-deploy/input';
import { DeployRequestRefused, deployStartFor } from '../../contracts/canary-deploy/request';
import { createDeploySchedule, deployScheduleInput, DeployScheduleExists, isDeployScheduleId, NoFreeScheduleNumber } from '../../contracts/deploy-trigger/schedule';
import { DEPLOY_SCHEDULE_PREFIX, describeWhen } from '../../contracts/deploy-trigger/start';
import { scheduledRows, type ScheduleRow } from '../../contracts/schedule-rows';
import type { ReleaseRequest } from '../../contracts/release/input';
import { selectServices } from '../../contracts/release/request';
import { isReleaseScheduleId, releaseScheduleInput } from '../../contracts/release-trigger/schedule';
import { RELEASE_SCHEDULE_PREFIX } from '../../contracts/release-trigger/start';
import { deployerRefusal, ephemeral, inChannel, refused, type CommandAnswer, type CommandRequest } from './answers';
import { explain, uiLink, withDeadline, type SlackHandlerContext } from './context';
import type { SlashCommand } from './parse';
import type { SchedulesCommand } from './parse-schedules';
import { SLACK_REQUEST_MEMO } from './replay';

/**
 * `/fleetops deploy … at|cron …`, `/fleetops schedules` and `schedules cancel`: the Schedule
 * `fleetops deploy … --at/--cron` makes (contracts/deploy-trigger/schedule.ts), by a deployer of the
 * service (`slack.deployers`). Its trigger carries the Slack requester and `requireGate`, so the deploy
 * it starts waits at a gate for a person, as a deploy from Slack does now; a run refused (a freeze,
 * a deploy running) is posted to the deploys channel, the requester mentioned. A copy of the request
 * finds the Schedule it made by the request's key in the Schedule's memo, and makes none.
 */

type ScheduleDeploy = Extract<SlashCommand, { kind: 'schedule-deploy' }>;

async function scheduleDeploy(ctx: SlackHandlerContext, req: CommandRequest, cmd: ScheduleDeploy): Promise<CommandAnswer | undefined> {
  const target = `${cmd.service.cluster}/${cmd.service.name}`;
  const what = `schedule a deploy of ${target}`;
  const denied = await deployerRefusal(ctx, req.userId, [target]);
  if (denied) return refused(ctx, req, what, denied);
  const by = slackPerson(req.userId);
  const request = deployRequestSchema.parse({ cluster: cmd.service.cluster, service: cmd.service.name, image: cmd.image, requestedBy: by });
  try {
    // The checks of a deploy started now (the service, the image policy); the trigger makes them again when it runs.
    deployStartFor(ctx.config, request, { requireGate: true });
  } catch (err) {
    if (err instanceof DeployRequestRefused) return refused(ctx, req, what, `the deploy of \`${escapeText(cmd.image)}\` to ${target} is refused: ${escapeText(err.message)}`);
    throw err;
  }
  let made;
  try {
    made = await withDeadline(ctx, () =>
      createDeploySchedule(ctx.temporal, {
        trigger: { request, requireGate: true },
        when: cmd.when,
        ...(cmd.name !== undefined ? { name: cmd.name } : {}),
        memo: { [SLACK_REQUEST_MEMO]: req.requestKey },
      }),
    );
  } catch (err) {
    if (err instanceof DeployScheduleExists) return refused(ctx, req, what, `${err.message}: cancel it (\`/fleetops schedules cancel ${err.scheduleId}\`) or give another \`name\``);
    if (err instanceof NoFreeScheduleNumber) return refused(ctx, req, what, `${err.message}; give \`name <name>\``);
    return ephemeral(`could not schedule the deploy: ${explain(err)}`);
  }
  if (made.replayed) {
    ctx.log.warn({ scheduleId: made.scheduleId, user: req.userId }, 'slack: replayed scheduled deploy ignored');
    return undefined;
  }
  ctx.log.info({ scheduleId: made.scheduleId, by: req.userId }, 'slack: deploy scheduled');
  const next = made.next ? `next run ${slackTime(made.next.toISOString())}` : 'no run ahead';
  const deployId = deployWorkflowId(cmd.service.cluster, cmd.service.name);
  const where = ctx.slack.channels.deploys ? ` in <#${ctx.slack.channels.deploys}>` : '';
  return inChannel(
    `:calendar: ${personText(by)} scheduled a deploy of \`${escapeText(cmd.image)}\` to ${target}: \`${made.scheduleId}\`, ${escapeText(describeWhen(cmd.when))}, ${next}. ` +
      `Each run starts <${uiLink(ctx, deployId)}|${deployId}>, which waits at a gate for approval; a run refused by a freeze is said${where}.`,
  );
}

function rowLine(r: ScheduleRow): string {
  const next = r.paused ? 'paused' : r.next ? `next ${slackTime(r.next)}` : 'done';
  const by = r.requestedBy ? `, by ${personText(r.requestedBy)}` : '';
  const kind = r.kind === 'deploy' || r.kind === 'release' ? r.kind : 'readiness window';
  return `• \`${r.scheduleId}\` ${kind} ${escapeText(r.what)}, ${escapeText(r.when)}, ${next}${by}`;
}

async function list(ctx: SlackHandlerContext): Promise<CommandAnswer> {
  let rows: ScheduleRow[];
  try {
    rows = await scheduledRows(ctx.temporal, (fn) => withDeadline(ctx, fn));
  } catch (err) {
    return ephemeral(`could not list the schedules: ${explain(err)}`);
  }
  if (rows.length === 0) return ephemeral('nothing scheduled');
  return ephemeral(['*Scheduled* (soonest first; `/fleetops schedules cancel <id>` cancels a deploy or release, `/fleetops readiness cancel <id>` a window):', ...rows.map(rowLine)].join('\n'));
}

/** `<cluster>/<service>` of every service a scheduled release's request names or picks from today's config. */
function releaseServices(ctx: SlackHandlerContext, request: ReleaseRequest): string[] {
  if (request.selector) return selectServices(ctx.config, request.selector).map((s) => `${s.cluster}/${s.name}`);
  return Object.entries(request.manifest ?? {}).flatMap(([cluster, services]) => Object.keys(services).map((name) => `${cluster}/${name}`));
}

/** What a scheduled deploy or release's Schedule would start, and the services it touches; undefined when it is neither. */
async function scheduled(ctx: SlackHandlerContext, scheduleId: string): Promise<{ what: string; services: string[] } | undefined> {
  if (isDeployScheduleId(scheduleId)) {
    const input = await withDeadline(ctx, () => deployScheduleInput(ctx.temporal, scheduleId));
    const target = input && `${input.request.cluster}/${input.request.service}`;
    return target ? { what: `deploy \`${scheduleId}\` of ${target}`, services: [target] } : undefined;
  }
  const input = await withDeadline(ctx, () => releaseScheduleInput(ctx.temporal, scheduleId));
  return input ? { what: `release \`${scheduleId}\` (${escapeText(input.request.id)})`, services: releaseServices(ctx, input.request) } : undefined;
}

async function cancel(ctx: SlackHandlerContext, req: CommandRequest, scheduleId: string): Promise<CommandAnswer> {
  const what = `schedules cancel ${scheduleId}`;
  // Only fleetops' own: a Schedule of another application is not this command's to delete.
  if (!isDeployScheduleId(scheduleId) && !isReleaseScheduleId(scheduleId)) {
    return refused(ctx, req, what, `\`${escapeText(scheduleId)}\` is not a scheduled deploy or release (ids start with ${DEPLOY_SCHEDULE_PREFIX} or ${RELEASE_SCHEDULE_PREFIX})`);
  }
  try {
    const found = await scheduled(ctx, scheduleId);
    if (!found) return refused(ctx, req, what, `\`${escapeText(scheduleId)}\` does not start a fleetops deploy or release`);
    // No service to check (a selector that picks none today): no one has the authority, not everyone.
    if (found.services.length === 0) return refused(ctx, req, what, `${found.what} touches no configured service today, so no one here may cancel it: delete it with the Temporal CLI`);
    const denied = await deployerRefusal(ctx, req.userId, found.services);
    if (denied) return refused(ctx, req, what, denied);
    await withDeadline(ctx, () => ctx.temporal.schedule.getHandle(scheduleId).delete());
    ctx.log.info({ scheduleId, by: req.userId }, 'slack: schedule cancelled');
    return inChannel(`:calendar: ${personText(slackPerson(req.userId))} cancelled the scheduled ${found.what}; what it already started runs on.`);
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return ephemeral(`no schedule \`${escapeText(scheduleId)}\``);
    return ephemeral(`could not cancel ${escapeText(scheduleId)}: ${explain(err)}`);
  }
}

export function schedulesCommand(ctx: SlackHandlerContext, req: CommandRequest, cmd: ScheduleDeploy | SchedulesCommand): Promise<CommandAnswer | undefined> {
  switch (cmd.kind) {
    case 'schedule-deploy':
      return scheduleDeploy(ctx, req, cmd);
    case 'schedules':
      return list(ctx);
    default:
      return cancel(ctx, req, cmd.scheduleId);
  }
}
