import { blocksProblem } from './slack-blocks';
import { SlackError, str, type Args } from './slack-request-args';

/**
 * The Slack stand-in's workspace (stack/slack-stand-in.ts): its channels and tokens, every message
 * posted and every call made. Messages carry their poster as conversations.replies shows them (user,
 * bot_id, app_id: https://docs.slack.dev/reference/methods/conversations.replies).
 */

export interface TokenOwner {
  token: string;
  userId: string;
  botId?: string;
  appId?: string;
}

export interface SlackWorkspaceOptions {
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

export const BOT_USER = 'U0FLEETOPS';
export const BOT_ID = 'B0FLEETOPS';
export const APP_ID = 'A0FLEETOPS';
const TEXT_LIMIT = 40_000;

type Owner = Omit<TokenOwner, 'token'>;

export class SlackWorkspace {
  readonly calls: RecordedCall[] = [];
  readonly messages: StoredMessage[] = [];
  readonly team: { id: string; domain: string };
  private readonly owners: Map<string, Owner>;
  private seq = 0;
  private tsCounter = 0;
  /** Who the current request's token belongs to (set per request: the server handles one at a time). */
  caller: Owner;

  constructor(readonly opts: SlackWorkspaceOptions) {
    this.team = opts.team ?? { id: 'T0FLEETOPS', domain: 'fleetops-local' };
    this.owners = new Map<string, Owner>([[opts.botToken, { userId: BOT_USER, botId: BOT_ID, appId: APP_ID }]]);
    for (const { token, ...owner } of opts.otherTokens ?? []) this.owners.set(token, owner);
    this.caller = this.owners.get(opts.botToken)!;
  }

  ownerOf(token: string): Owner | undefined {
    return this.owners.get(token);
  }

  nextTs(): string {
    this.tsCounter += 1;
    return `${Math.floor(Date.now() / 1000)}.${String(this.tsCounter).padStart(6, '0')}`;
  }

  record(method: string, contentType: string, args: Args, error?: string): void {
    this.seq += 1;
    this.calls.push({ seq: this.seq, at: new Date().toISOString(), method, contentType, args, ok: error === undefined, ...(error ? { error } : {}) });
  }

  channelOf(args: Args): string {
    const channel = str(args.channel);
    if (!channel || !this.opts.channels[channel]) throw new SlackError('channel_not_found');
    return channel;
  }

  /** A message's text and blocks, refused as Slack refuses them. */
  content(args: Args): { text?: string; blocks?: unknown[] } {
    const text = str(args.text);
    if (args.blocks !== undefined) {
      if (blocksProblem(args.blocks)) throw new SlackError('invalid_blocks');
    }
    if (!text && args.blocks === undefined && args.attachments === undefined) throw new SlackError('no_text');
    if (text && text.length > TEXT_LIMIT) throw new SlackError('msg_too_long');
    return { ...(text ? { text } : {}), ...(args.blocks !== undefined ? { blocks: args.blocks as unknown[] } : {}) };
  }

  /** The current caller as a message records its poster. */
  poster(): { user: string; bot_id?: string; app_id?: string } {
    const c = this.caller;
    return { user: c.userId, ...(c.botId ? { bot_id: c.botId } : {}), ...(c.appId ? { app_id: c.appId } : {}) };
  }
}
