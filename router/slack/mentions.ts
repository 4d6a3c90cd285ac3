import { INCIDENT_THREAD_EVENT } from '../../common/slack/ids';
import { ROLE_NAMES } from '../../common/incident/help-words';
import { updateIncident } from './commands';
import type { SlackHandlerContext } from './context';
import { CommandError, parseThreadMention } from './parse';

/**
 * `@fleetops note …` / `assign <role> <person>` / `resolve …` in an incident's thread (Events API
 * `app_mention`). Slack does not run custom slash commands in threads, so this is how the incident
 * thread is worked from inside it. The thread's root (posted by activities/chat/post.ts) carries the
 * incident's workflow id in its message metadata; conversations.replies reads it back, so the router
 * keeps no mapping of its own. Any app in the workspace can post a message with such metadata, so a
 * root is believed only when this app's bot posted it: its `bot_id` (and `user`, when present) are
 * the bot's own, as auth.test reports them. The answer goes to the user only, in the thread.
 *
 * Slack redelivers an event it thinks was not acknowledged in time, signed anew but with the same
 * event_id: the change is sent with the update id `slack-event-<event_id>`, which Temporal applies once.
 */

export interface ThreadMention {
  eventId?: string;
  userId: string;
  channelId: string;
  text: string;
  threadTs?: string;
  /** The request's replay key (router/slack/replay.ts), for an event without an event_id. */
  requestKey: string;
}

interface BotIdentity {
  userId?: string;
  botId?: string;
}

/** The bot's identity per Web API URL and token: it does not change while the process runs. */
const identities = new Map<string, Promise<BotIdentity>>();

/** auth.test (https://docs.slack.dev/reference/methods/auth.test): `user_id` and `bot_id` of the token's bot. */
export function botIdentity(ctx: SlackHandlerContext): Promise<BotIdentity> {
  const key = `${ctx.slack.apiUrl}|${ctx.slack.botToken ?? ''}`;
  let known = identities.get(key);
  if (!known) {
    known = (async () => {
      const res = await ctx.web!.auth.test();
      return { userId: res.user_id, botId: res.bot_id };
    })();
    identities.set(key, known);
    known.catch(() => identities.delete(key));
  }
  return known;
}

interface RootMessage {
  user?: string;
  bot_id?: string;
  metadata?: { event_type?: string; event_payload?: { workflow_id?: unknown } };
}

export async function incidentOfThread(ctx: SlackHandlerContext, channel: string, threadTs: string): Promise<string | undefined> {
  if (!ctx.web) return undefined;
  const [self, res] = await Promise.all([botIdentity(ctx), ctx.web.conversations.replies({ channel, ts: threadTs, limit: 1, include_all_metadata: true })]);
  const root = res.messages?.[0] as RootMessage | undefined;
  if (!root || root.metadata?.event_type !== INCIDENT_THREAD_EVENT) return undefined;
  const byUs = self.botId !== undefined && root.bot_id === self.botId && (root.user === undefined || root.user === self.userId);
  if (!byUs) {
    ctx.log.warn({ channel, threadTs, rootUser: root.user, rootBot: root.bot_id }, 'slack: thread root claims an incident but was not posted by this app');
    return undefined;
  }
  const id = root.metadata.event_payload?.workflow_id;
  return typeof id === 'string' ? id : undefined;
}

export async function handleThreadMention(ctx: SlackHandlerContext, m: ThreadMention): Promise<string | undefined> {
  let answer: string;
  if (!m.threadTs) {
    answer = "Mention me in an incident's thread (`@fleetops note …`), or use `/fleetops help`.";
  } else {
    let workflowId: string | undefined;
    try {
      workflowId = await incidentOfThread(ctx, m.channelId, m.threadTs);
    } catch (err) {
      ctx.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'slack: cannot read the thread root');
    }
    if (!workflowId) {
      answer = "This thread is not an incident's thread: its first message was not posted by fleetops for an incident.";
    } else {
      try {
        const updateId = m.eventId ? `slack-event-${m.eventId}` : `slack-${m.requestKey}`;
        answer = await updateIncident(ctx, parseThreadMention(m.text, workflowId), { userId: m.userId, updateId });
      } catch (err) {
        if (!(err instanceof CommandError)) throw err;
        answer = `${err.message}. In this thread: \`@fleetops note <text>\`, \`@fleetops assign <${ROLE_NAMES.join('|')}> <@person>\`, \`@fleetops resolve <how>\`.`;
      }
    }
  }
  if (ctx.web) {
    await ctx.web.chat.postEphemeral({ channel: m.channelId, user: m.userId, text: answer, ...(m.threadTs ? { thread_ts: m.threadTs } : {}) });
  }
  return answer;
}
