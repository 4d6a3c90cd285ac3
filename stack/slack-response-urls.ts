import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SlackError, type Args } from './slack-request-args';
import { APP_ID, BOT_ID, BOT_USER, type SlackWorkspace } from './slack-workspace';

/**
 * response_url as Slack documents it (JSON body, in_channel / ephemeral, replace_original; five uses
 * within 30 minutes): https://docs.slack.dev/interactivity/handling-user-interaction#message_responses
 */
const RESPONSE_URL_USES = 5;
const RESPONSE_URL_TTL_MS = 30 * 60_000;

export class ResponseUrls {
  private readonly issued = new Map<string, { channel: string; user: string; uses: number; issuedAt: number }>();

  /** `base` is the stand-in's URL, known once it listens. */
  constructor(
    private readonly ws: SlackWorkspace,
    private readonly base: () => string,
  ) {}

  /** A response_url as Slack puts it in a slash command or interaction payload. */
  mint(channel: string, user: string): string {
    const id = randomUUID();
    this.issued.set(id, { channel, user, uses: 0, issuedAt: Date.now() });
    return `${this.base()}/response/${id}`;
  }

  /** A POST to a minted URL: the message it carries is posted as the app's bot, in the channel or to the user only. */
  answer(id: string, req: IncomingMessage, raw: string, res: ServerResponse): void {
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const entry = this.issued.get(id);
    let args: Args = {};
    const fail = (status: number, error: string) => {
      this.ws.record('response_url', contentType, args, error);
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
      const body = this.ws.content(args);
      if (args.response_type !== undefined && args.response_type !== 'in_channel' && args.response_type !== 'ephemeral') throw new SlackError('invalid_response_type');
      entry.uses += 1;
      const inChannel = args.response_type === 'in_channel';
      this.ws.messages.push({ channel: entry.channel, ts: this.ws.nextTs(), ...body, user: BOT_USER, bot_id: BOT_ID, app_id: APP_ID, ...(inChannel ? {} : { ephemeralTo: entry.user }), via: 'response_url' });
      this.ws.record('response_url', contentType, args);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    } catch (err) {
      fail(400, err instanceof SlackError ? err.message : 'invalid_payload');
    }
  }
}
