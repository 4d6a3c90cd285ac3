import type { SlackHandlerContext } from './context';
import { isListed } from './members';

/**
 * What a `/fleetops …` handler answers (commands.ts, readiness.ts, schedules.ts), and the deployers'
 * authority they share. `in_channel` answers are what the channel should see (something started,
 * scheduled, changed or cancelled); refusals and lists are for the asker only.
 */

export interface CommandAnswer {
  response_type: 'in_channel' | 'ephemeral';
  text: string;
}

export interface CommandRequest {
  text: string;
  userId: string;
  channelId: string;
  /** The request's replay key (router/slack/replay.ts). */
  requestKey: string;
}

export const ephemeral = (text: string): CommandAnswer => ({ response_type: 'ephemeral', text });
export const inChannel = (text: string): CommandAnswer => ({ response_type: 'in_channel', text });

export const refused = (ctx: SlackHandlerContext, req: CommandRequest, what: string, why: string): CommandAnswer => {
  ctx.log.info({ user: req.userId, what, reason: why }, 'slack: command refused');
  return ephemeral(`:no_entry_sign: ${why}`);
};

/**
 * Why the user may not act for every one of `services` (`<cluster>/<name>`), or undefined when they
 * may: each must list them in `slack.deployers` (users, or members of user groups).
 */
export async function deployerRefusal(ctx: SlackHandlerContext, userId: string, services: readonly string[]): Promise<string | undefined> {
  for (const target of services) {
    if (await isListed(ctx, userId, ctx.slack.deployers[target])) continue;
    return ctx.slack.deployers[target] ? `you are not a deployer of ${target}` : `nobody may deploy ${target} from Slack: it has no entry in slack.deployers`;
  }
  return undefined;
}
