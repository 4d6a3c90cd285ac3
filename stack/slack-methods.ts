import { bool, SlackError, str, type Args } from './slack-request-args';
import { BOT_USER, type SlackWorkspace, type StoredMessage } from './slack-workspace';

/**
 * The Web API methods fleetops calls, answered from the stand-in's workspace as Slack documents them:
 *  - auth.test (user_id, bot_id of the token's owner): https://docs.slack.dev/reference/methods/auth.test
 *  - chat.postMessage: https://docs.slack.dev/reference/methods/chat.postMessage
 *  - chat.update: https://docs.slack.dev/reference/methods/chat.update
 *  - chat.postEphemeral: https://docs.slack.dev/reference/methods/chat.postEphemeral
 *  - usergroups.users.list: https://docs.slack.dev/reference/methods/usergroups.users.list
 *  - conversations.replies (each message with its poster's user, bot_id, app_id):
 *    https://docs.slack.dev/reference/methods/conversations.replies
 */
export function webApiMethods(ws: SlackWorkspace): Record<string, (args: Args) => Record<string, unknown>> {
  const { opts, team, messages } = ws;
  return {
    'auth.test': () => ({
      url: `https://${team.domain}.slack.com/`,
      team: team.domain,
      user: ws.caller.userId === BOT_USER ? 'fleetops' : ws.caller.userId.toLowerCase(),
      team_id: team.id,
      user_id: ws.caller.userId,
      ...(ws.caller.botId ? { bot_id: ws.caller.botId } : {}),
      ...(opts.enterpriseId ? { enterprise_id: opts.enterpriseId } : {}),
      is_enterprise_install: false,
    }),
    'chat.postMessage': (args) => {
      const channel = ws.channelOf(args);
      const body = ws.content(args);
      let metadata: StoredMessage['metadata'];
      if (args.metadata !== undefined) {
        const m = args.metadata as { event_type?: unknown; event_payload?: unknown };
        if (typeof m.event_type !== 'string' || typeof m.event_payload !== 'object' || m.event_payload === null) throw new SlackError('invalid_metadata_format');
        metadata = m as StoredMessage['metadata'];
      }
      const thread = str(args.thread_ts);
      const msg: StoredMessage = {
        channel,
        ts: ws.nextTs(),
        ...(thread ? { thread_ts: thread, ...(bool(args.reply_broadcast) ? { reply_broadcast: true } : {}) } : {}),
        ...body,
        ...(metadata ? { metadata } : {}),
        ...ws.poster(),
        via: 'chat.postMessage',
      };
      messages.push(msg);
      return { channel, ts: msg.ts, message: { type: 'message', ...ws.poster(), text: msg.text ?? '', ts: msg.ts, ...(thread ? { thread_ts: thread } : {}) } };
    },
    'chat.update': (args) => {
      const channel = ws.channelOf(args);
      const ts = str(args.ts);
      const msg = messages.find((m) => m.channel === channel && m.ts === ts && !m.ephemeralTo);
      if (!ts || !msg) throw new SlackError('message_not_found');
      if (msg.via !== 'chat.postMessage') throw new SlackError('cant_update_message');
      // Only the poster may edit a message (chat.update: cant_update_message).
      if (msg.user !== ws.caller.userId) throw new SlackError('cant_update_message');
      const body = ws.content(args);
      msg.text = body.text;
      msg.blocks = body.blocks;
      msg.edited = { at: new Date().toISOString(), times: (msg.edited?.times ?? 0) + 1 };
      return { channel, ts, text: msg.text ?? '' };
    },
    'chat.postEphemeral': (args) => {
      const channel = ws.channelOf(args);
      const user = str(args.user);
      if (!user || !opts.channels[channel]!.members.includes(user)) throw new SlackError('user_not_in_channel');
      const body = ws.content(args);
      const thread = str(args.thread_ts);
      const msg: StoredMessage = { channel, ts: ws.nextTs(), ...(thread ? { thread_ts: thread } : {}), ...body, ...ws.poster(), ephemeralTo: user, via: 'chat.postEphemeral' };
      messages.push(msg);
      return { message_ts: msg.ts };
    },
    'usergroups.users.list': (args) => {
      const group = str(args.usergroup);
      const users = group ? opts.usergroups?.[group] : undefined;
      if (!users) throw new SlackError('no_such_subteam');
      return { users };
    },
    'conversations.replies': (args) => {
      const channel = ws.channelOf(args);
      const ts = str(args.ts);
      const root = messages.find((m) => m.channel === channel && m.ts === ts && !m.ephemeralTo && !m.thread_ts);
      if (!ts || !root) throw new SlackError('thread_not_found');
      const withMeta = bool(args.include_all_metadata);
      const shown = [root, ...messages.filter((m) => m.channel === channel && m.thread_ts === ts && !m.ephemeralTo)];
      const limit = Number(args.limit ?? 1000);
      return {
        messages: shown.slice(0, Number.isFinite(limit) && limit > 0 ? limit : 1000).map((m) => ({
          type: 'message',
          ...(m.user ? { user: m.user } : {}),
          ...(m.bot_id ? { bot_id: m.bot_id } : {}),
          ...(m.app_id ? { app_id: m.app_id } : {}),
          text: m.text ?? '',
          ts: m.ts,
          ...(m.thread_ts ? { thread_ts: m.thread_ts } : { thread_ts: m.ts }),
          ...(withMeta && m.metadata ? { metadata: m.metadata } : {}),
        })),
        has_more: false,
      };
    },
  };
}
