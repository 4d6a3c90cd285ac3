import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/**
 * A local stand-in for the part of Slack's Web API fleetops calls, for the local stack and tests
 * (docs/contract.md, Chat (Slack)): the Web API client's base URL (`slack.apiUrl`) points here. It holds
 * requests to the documented shape and answers as Slack documents, so a request Slack would refuse
 * fails here too, and it records every call (GET /messages: `{ calls, messages }`). Not Slack's:
 * `POST /response-urls` with `{"channel","user"}` mints a response_url as Slack would put one in a
 * slash command, so a hand-made request (docs/slack.md's signed curl) has somewhere to be answered.
 *
 * Pages followed:
 *  - Web API basics (POST, token in `Authorization: Bearer` or a `token` form field, form or JSON
 *    bodies, HTTP 200 with `ok: false` and an error code): https://docs.slack.dev/apis/web-api/
 *  - chat.postMessage: https://docs.slack.dev/reference/methods/chat.postMessage
 *  - chat.update: https://docs.slack.dev/reference/methods/chat.update
 *  - chat.postEphemeral: https://docs.slack.dev/reference/methods/chat.postEphemeral
 *  - auth.test (user_id, bot_id of the token's owner): https://docs.slack.dev/reference/methods/auth.test
 *  - usergroups.users.list: https://docs.slack.dev/reference/methods/usergroups.users.list
 *  - conversations.replies (each message with its poster's user, bot_id, app_id):
 *    https://docs.slack.dev/reference/methods/conversations.replies
 *  - Block Kit limits (50 blocks; section text 3,000; header 150; button text 75, action_id 255,
 *    value 2,000; actions 25 elements; context 10): https://docs.slack.dev/reference/block-kit/blocks
 *  - response_url (JSON body, in_channel / ephemeral, replace_original; five uses within 30 minutes):
 *    https://docs.slack.dev/interactivity/handling-user-interaction#message_responses
 */

export interface SlackStandInOptions {
  host?: string;
  port?: number;
  botToken: string;
  /** Channels by id, with the user ids in them (chat.postEphemeral needs its user in the channel). */
  channels: Record<string, { members: string[] }>;
  /** User group id → member user ids. */
  usergroups?: Record<string, string[]>;
  team?: { id: string; domain: string };
  /** The workspace's Enterprise Grid organisation, if any (auth.test's enterprise_id). */
  enterpriseId?: string;
  /**
   * Other tokens of the workspace: another app's bot (userId, botId, appId) or a person's user token
   * (userId only). What they post is that bot's or that person's, as Slack records it.
   */
  otherTokens?: TokenOwner[];
}

export interface TokenOwner {
  token: string;
  userId: string;
  botId?: string;
  appId?: string;
}

export interface RecordedCall {
  seq: number;
  at: string;
  /** A Web API method, or `response_url`. */
  method: string;
  contentType: string;
  /** The arguments as Slack reads them (JSON fields parsed); never the token. */
  args: Record<string, unknown>;
  ok: boolean;
  error?: string;
}

export interface StoredMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  reply_broadcast?: boolean;
  text?: string;
  blocks?: unknown[];
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
  /** Who posted it: a user id, and for an app's bot its bot and app ids. */
  user?: string;
  bot_id?: string;
  app_id?: string;
  /** Set for chat.postEphemeral and ephemeral response_url messages: only this user sees it. */
  ephemeralTo?: string;
  /** How it got here. */
  via: 'chat.postMessage' | 'chat.postEphemeral' | 'response_url';
  edited?: { at: string; times: number };
}

export interface SlackStandIn {
  url: string;
  apiUrl: string;
  messagesUrl: string;
  calls(): RecordedCall[];
  messages(): StoredMessage[];
  /** A response_url as Slack puts it in a slash command or interaction payload. */
  responseUrl(channel: string, user: string): string;
  close(): Promise<void>;
}

export const BOT_USER = 'U0FLEETOPS';
export const BOT_ID = 'B0FLEETOPS';
export const APP_ID = 'A0FLEETOPS';
const MAX_BODY = 1024 * 1024;
const TEXT_LIMIT = 40_000;
const RESPONSE_URL_USES = 5;
const RESPONSE_URL_TTL_MS = 30 * 60_000;

type Args = Record<string, unknown>;
class SlackError extends Error {}

/** Form fields Slack documents as "JSON-based ... presented as a URL-encoded string". */
const JSON_FIELDS = new Set(['blocks', 'attachments', 'metadata']);

function parseArgs(contentType: string, raw: string): { args: Args; formToken?: string } {
  if (contentType === 'application/json') {
    const parsed = JSON.parse(raw || '{}') as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new SlackError('invalid_json');
    // Slack ignores a token in a JSON body (it reads the header only); the record never keeps one.
    const { token: _ignored, ...args } = parsed as Args;
    return { args };
  }
  if (contentType === 'application/x-www-form-urlencoded') {
    const args: Args = {};
    let formToken: string | undefined;
    for (const [k, v] of new URLSearchParams(raw)) {
      if (k === 'token') formToken = v;
      else if (JSON_FIELDS.has(k)) {
        try {
          args[k] = JSON.parse(v);
        } catch {
          throw new SlackError(k === 'blocks' ? 'invalid_blocks_format' : k === 'metadata' ? 'invalid_metadata_format' : 'invalid_attachments');
        }
      } else args[k] = v;
    }
    return { args, formToken };
  }
  throw new SlackError('invalid_form_data');
}

const bool = (v: unknown): boolean => v === true || v === 'true' || v === '1';
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function textObject(t: unknown, types: string[], limit: number): boolean {
  const o = t as { type?: unknown; text?: unknown };
  return !!o && types.includes(String(o.type)) && typeof o.text === 'string' && o.text.length >= 1 && o.text.length <= limit;
}

/** Block Kit, as far as fleetops uses it: section, actions (buttons), context, header, divider. */
export function blocksProblem(blocks: unknown): string | undefined {
  if (!Array.isArray(blocks) || blocks.length === 0 || blocks.length > 50) return 'blocks: 1-50 blocks';
  const actionIds = new Set<string>();
  for (const [i, b] of blocks.entries()) {
    const block = b as Record<string, unknown>;
    if (block.block_id !== undefined && (typeof block.block_id !== 'string' || block.block_id.length > 255)) return `blocks[${i}].block_id`;
    switch (block.type) {
      case 'divider':
        break;
      case 'header':
        if (!textObject(block.text, ['plain_text'], 150)) return `blocks[${i}]: header text is plain_text, 1-150 characters`;
        break;
      case 'section':
        if (!textObject(block.text, ['mrkdwn', 'plain_text'], 3000)) return `blocks[${i}]: section text is mrkdwn or plain_text, 1-3000 characters`;
        break;
      case 'context': {
        const els = block.elements as unknown[];
        if (!Array.isArray(els) || els.length < 1 || els.length > 10 || !els.every((e) => textObject(e, ['mrkdwn', 'plain_text'], 3000))) {
          return `blocks[${i}]: context has 1-10 text elements`;
        }
        break;
      }
      case 'actions': {
        const els = block.elements as Record<string, unknown>[];
        if (!Array.isArray(els) || els.length < 1 || els.length > 25) return `blocks[${i}]: actions has 1-25 elements`;
        for (const [j, e] of els.entries()) {
          if (e.type !== 'button') return `blocks[${i}].elements[${j}]: only buttons here`;
          if (!textObject(e.text, ['plain_text'], 75)) return `blocks[${i}].elements[${j}]: button text is plain_text, 1-75 characters`;
          if (typeof e.action_id !== 'string' || e.action_id.length < 1 || e.action_id.length > 255) return `blocks[${i}].elements[${j}].action_id`;
          if (actionIds.has(e.action_id)) return `blocks[${i}].elements[${j}]: action_id ${e.action_id} repeated`;
          actionIds.add(e.action_id);
          if (e.value !== undefined && (typeof e.value !== 'string' || e.value.length > 2000)) return `blocks[${i}].elements[${j}].value: at most 2000 characters`;
          if (e.style !== undefined && e.style !== 'primary' && e.style !== 'danger') return `blocks[${i}].elements[${j}].style`;
        }
        break;
      }
      default:
        return `blocks[${i}]: unknown block type ${String(block.type)}`;
    }
  }
  return undefined;
}

export async function startSlackStandIn(opts: SlackStandInOptions): Promise<SlackStandIn> {
  const host = opts.host ?? '127.0.0.1';
  const team = opts.team ?? { id: 'T0FLEETOPS', domain: 'fleetops-local' };
  const calls: RecordedCall[] = [];
  const messages: StoredMessage[] = [];
  const responseUrls = new Map<string, { channel: string; user: string; uses: number; issuedAt: number }>();
  let seq = 0;
  let tsCounter = 0;
  let base = '';

  const mint = (channel: string, user: string): string => {
    const id = randomUUID();
    responseUrls.set(id, { channel, user, uses: 0, issuedAt: Date.now() });
    return `${base}/response/${id}`;
  };
  const nextTs = (): string => {
    tsCounter += 1;
    return `${Math.floor(Date.now() / 1000)}.${String(tsCounter).padStart(6, '0')}`;
  };
  const record = (method: string, contentType: string, args: Args, error?: string): void => {
    seq += 1;
    calls.push({ seq, at: new Date().toISOString(), method, contentType, args, ok: error === undefined, ...(error ? { error } : {}) });
  };
  const channelOf = (args: Args): string => {
    const channel = str(args.channel);
    if (!channel || !opts.channels[channel]) throw new SlackError('channel_not_found');
    return channel;
  };
  const content = (args: Args): { text?: string; blocks?: unknown[] } => {
    const text = str(args.text);
    if (args.blocks !== undefined) {
      if (blocksProblem(args.blocks)) throw new SlackError('invalid_blocks');
    }
    if (!text && args.blocks === undefined && args.attachments === undefined) throw new SlackError('no_text');
    if (text && text.length > TEXT_LIMIT) throw new SlackError('msg_too_long');
    return { ...(text ? { text } : {}), ...(args.blocks !== undefined ? { blocks: args.blocks as unknown[] } : {}) };
  };

  const owners = new Map<string, Omit<TokenOwner, 'token'>>([[opts.botToken, { userId: BOT_USER, botId: BOT_ID, appId: APP_ID }]]);
  for (const { token, ...owner } of opts.otherTokens ?? []) owners.set(token, owner);
  /** Who the current request's token belongs to (set per request: the server handles one at a time). */
  let caller: Omit<TokenOwner, 'token'> = owners.get(opts.botToken)!;
  const poster = () => ({ user: caller.userId, ...(caller.botId ? { bot_id: caller.botId } : {}), ...(caller.appId ? { app_id: caller.appId } : {}) });

  const methods: Record<string, (args: Args) => Record<string, unknown>> = {
    'auth.test': () => ({
      url: `https://${team.domain}.slack.com/`,
      team: team.domain,
      user: caller.userId === BOT_USER ? 'fleetops' : caller.userId.toLowerCase(),
      team_id: team.id,
      user_id: caller.userId,
      ...(caller.botId ? { bot_id: caller.botId } : {}),
      ...(opts.enterpriseId ? { enterprise_id: opts.enterpriseId } : {}),
      is_enterprise_install: false,
    }),
    'chat.postMessage': (args) => {
      const channel = channelOf(args);
      const body = content(args);
      let metadata: StoredMessage['metadata'];
      if (args.metadata !== undefined) {
        const m = args.metadata as { event_type?: unknown; event_payload?: unknown };
        if (typeof m.event_type !== 'string' || typeof m.event_payload !== 'object' || m.event_payload === null) throw new SlackError('invalid_metadata_format');
        metadata = m as StoredMessage['metadata'];
      }
      const thread = str(args.thread_ts);
      const msg: StoredMessage = {
        channel,
        ts: nextTs(),
        ...(thread ? { thread_ts: thread, ...(bool(args.reply_broadcast) ? { reply_broadcast: true } : {}) } : {}),
        ...body,
        ...(metadata ? { metadata } : {}),
        ...poster(),
        via: 'chat.postMessage',
      };
      messages.push(msg);
      return { channel, ts: msg.ts, message: { type: 'message', ...poster(), text: msg.text ?? '', ts: msg.ts, ...(thread ? { thread_ts: thread } : {}) } };
    },
    'chat.update': (args) => {
      const channel = channelOf(args);
      const ts = str(args.ts);
      const msg = messages.find((m) => m.channel === channel && m.ts === ts && !m.ephemeralTo);
      if (!ts || !msg) throw new SlackError('message_not_found');
      if (msg.via !== 'chat.postMessage') throw new SlackError('cant_update_message');
      // Only the poster may edit a message (chat.update: cant_update_message).
      if (msg.user !== caller.userId) throw new SlackError('cant_update_message');
      const body = content(args);
      msg.text = body.text;
      msg.blocks = body.blocks;
      msg.edited = { at: new Date().toISOString(), times: (msg.edited?.times ?? 0) + 1 };
      return { channel, ts, text: msg.text ?? '' };
    },
    'chat.postEphemeral': (args) => {
      const channel = channelOf(args);
      const user = str(args.user);
      if (!user || !opts.channels[channel]!.members.includes(user)) throw new SlackError('user_not_in_channel');
      const body = content(args);
      const thread = str(args.thread_ts);
      const msg: StoredMessage = { channel, ts: nextTs(), ...(thread ? { thread_ts: thread } : {}), ...body, ...poster(), ephemeralTo: user, via: 'chat.postEphemeral' };
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
      const channel = channelOf(args);
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

  const send = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
  };

  function webApi(method: string, req: IncomingMessage, raw: string, res: ServerResponse): void {
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    let args: Args = {};
    try {
      if (req.method !== 'POST') throw new SlackError('invalid_request');
      const parsed = parseArgs(contentType, raw);
      args = parsed.args;
      const header = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
      // A JSON body cannot carry the token: Slack reads it from the Authorization header only.
      const token = header ?? (contentType === 'application/json' ? undefined : parsed.formToken);
      if (!token) throw new SlackError('not_authed');
      const owner = owners.get(token);
      if (!owner) throw new SlackError('invalid_auth');
      caller = owner;
      const handler = methods[method];
      if (!handler) throw new SlackError('unknown_method');
      const result = handler(args);
      record(method, contentType, args);
      send(res, 200, { ok: true, ...result });
    } catch (err) {
      const error = err instanceof SlackError ? err.message : err instanceof SyntaxError ? 'invalid_json' : 'internal_error';
      record(method, contentType, args, error);
      send(res, 200, { ok: false, error });
    }
  }

  function responseUrl(id: string, req: IncomingMessage, raw: string, res: ServerResponse): void {
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const entry = responseUrls.get(id);
    let args: Args = {};
    const fail = (status: number, error: string) => {
      record('response_url', contentType, args, error);
      res.writeHead(status, { 'content-type': 'text/plain' }).end(error);
    };
    if (!entry) return fail(404, 'no_such_url');
    if (req.method !== 'POST' || contentType !== 'application/json') return fail(400, 'invalid_payload');
    try {
      args = JSON.parse(raw) as Args;
    } catch {
      return fail(400, 'invalid_payload');
    }
    if (entry.uses >= RESPONSE_URL_USES || Date.now() - entry.issuedAt > RESPONSE_URL_TTL_MS) return fail(404, 'used_url');
    try {
      const body = content(args);
      if (args.response_type !== undefined && args.response_type !== 'in_channel' && args.response_type !== 'ephemeral') throw new SlackError('invalid_response_type');
      entry.uses += 1;
      const inChannel = args.response_type === 'in_channel';
      messages.push({ channel: entry.channel, ts: nextTs(), ...body, user: BOT_USER, bot_id: BOT_ID, app_id: APP_ID, ...(inChannel ? {} : { ephemeralTo: entry.user }), via: 'response_url' });
      record('response_url', contentType, args);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    } catch (err) {
      fail(400, err instanceof SlackError ? err.message : 'invalid_payload');
    }
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY) return send(res, 413, { ok: false, error: 'request_too_large' });
      const raw = Buffer.concat(chunks).toString('utf8');
      const path = (req.url ?? '/').split('?')[0]!;
      if (req.method === 'GET' && path === '/messages') return send(res, 200, { calls, messages });
      if (req.method === 'POST' && path === '/response-urls') {
        try {
          const { channel, user } = JSON.parse(raw) as { channel?: unknown; user?: unknown };
          if (typeof channel !== 'string' || !opts.channels[channel] || typeof user !== 'string') throw new Error('channel (a known channel id) and user');
          return send(res, 200, { url: mint(channel, user) });
        } catch (err) {
          return send(res, 400, { error: `body: {"channel","user"}: ${(err as Error).message}` });
        }
      }
      const api = /^\/api\/([A-Za-z.]+)$/.exec(path);
      if (api) return webApi(api[1]!, req, raw, res);
      const hook = /^\/response\/([0-9a-f-]+)$/.exec(path);
      if (hook) return responseUrl(hook[1]!, req, raw, res);
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  base = `http://${host}:${port}`;
  return {
    url: base,
    apiUrl: `${base}/api/`,
    messagesUrl: `${base}/messages`,
    calls: () => calls,
    messages: () => messages,
    responseUrl: mint,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
