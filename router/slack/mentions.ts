import { slackPerson } from '../../common/chat';
import { INCIDENT_THREAD_EVENT } from '../../activities/chat/blocks';
import { updateIncident } from './commands';
import type { SlackHandlerContext } from './context';
import { CommandError, parseThreadMention } from './parse';

/**
 * `@fleetops note …` / `assign <role> <person>` / `resolve …` in an incident's thread (Events API
 * `app_mention`). Slack does not run custom slash commands in threads, so this is how the incident
 * thread is worked from inside it. The thread's root (posted by activities/chat/post.ts) carries the
 * incident's workflow id in its message metadata; conversations.replies reads it back, so the router
 * keeps no mapping of its own. The answer goes to the user only, in the thread.
 */

export interface ThreadMention {
  eventId?: string;
  userId: string;
  channelId: string;
  text: string;
  threadTs?: string;
}

/** Event ids recently handled: Slack redelivers an event it thinks was not acknowledged in time. */
const SEEN_LIMIT = 1000;
const seen = new Set<string>();

export async function incidentOfThread(ctx: SlackHandlerContext, channel: string, threadTs: string): Promise<string | undefined> {
  if (!ctx.web) return undefined;
  const res = await ctx.web.conversations.replies({ channel, ts: threadTs, limit: 1, include_all_metadata: true });
  const root = res.messages?.[0] as { metadata?: { event_type?: string; event_payload?: { workflow_id?: unknown } } } | undefined;
  const id = root?.metadata?.event_type === INCIDENT_THREAD_EVENT ? root.metadata.event_payload?.workflow_id : undefined;
  return typeof id === 'string' ? id : undefined;
}

export async function handleThreadMention(ctx: SlackHandlerContext, m: ThreadMention): Promise<string | undefined> {
  if (m.eventId) {
    if (seen.has(m.eventId)) return undefined;
    seen.add(m.eventId);
    if (seen.size > SEEN_LIMIT) seen.delete(seen.values().next().value as string);
  }
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
        answer = await updateIncident(ctx, parseThreadMention(m.text, workflowId), slackPerson(m.userId));
      } catch (err) {
        if (!(err instanceof CommandError)) throw err;
        answer = `${err.message}. In this thread: \`@fleetops note <text>\`, \`@fleetops assign <on-call|commander|scribe> <@person>\`, \`@fleetops resolve <how>\`.`;
      }
    }
  }
  if (ctx.web) {
    await ctx.web.chat.postEphemeral({ channel: m.channelId, user: m.userId, text: answer, ...(m.threadTs ? { thread_ts: m.threadTs } : {}) });
  }
  return answer;
}
