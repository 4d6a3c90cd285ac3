import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { webApiMethods } from './slack-methods';
import { parseArgs, SlackError, type Args } from './slack-request-args';
import { ResponseUrls } from './slack-response-urls';
import { SlackWorkspace, type RecordedCall, type SlackWorkspaceOptions, type StoredMessage } from './slack-workspace';

export type { RecordedCall, StoredMessage, TokenOwner } from './slack-workspace';

/**
 * A local stand-in for the part of Slack's Web API fleetops calls, for the local stack and tests
 * (docs/contract.md, Chat (Slack)): the Web API client's base URL (`slack.apiUrl`) points here. It holds
 * requests to the documented shape and answers as Slack documents, so a request Slack would refuse
 * fails here too, and it records every call (GET /messages: `{ calls, messages }`). Not Slack's:
 * `POST /response-urls` with `{"channel","user"}` mints a response_url as Slack would put one in a
 * slash command, so a hand-made request (docs/slack.md's signed curl) has somewhere to be answered.
 *
 * Pages followed: Web API basics (POST, token in `Authorization: Bearer` or a `token` form field, form
 * or JSON bodies, HTTP 200 with `ok: false` and an error code): https://docs.slack.dev/apis/web-api/;
 * each method's page in slack-methods.ts, Block Kit's limits in slack-blocks.ts, response_url's in
 * slack-response-urls.ts.
 */

export interface SlackStandInOptions extends SlackWorkspaceOptions {
  host?: string;
  port?: number;
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

const MAX_BODY = 1024 * 1024;

const send = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
};

export async function startSlackStandIn(opts: SlackStandInOptions): Promise<SlackStandIn> {
  const host = opts.host ?? '127.0.0.1';
  const ws = new SlackWorkspace(opts);
  const methods = webApiMethods(ws);
  let base = '';
  const responseUrls = new ResponseUrls(ws, () => base);

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
      const owner = ws.ownerOf(token);
      if (!owner) throw new SlackError('invalid_auth');
      ws.caller = owner;
      const handler = methods[method];
      if (!handler) throw new SlackError('unknown_method');
      const result = handler(args);
      ws.record(method, contentType, args);
      send(res, 200, { ok: true, ...result });
    } catch (err) {
      const error = err instanceof SlackError ? err.message : err instanceof SyntaxError ? 'invalid_json' : 'internal_error';
      ws.record(method, contentType, args, error);
      send(res, 200, { ok: false, error });
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
      if (req.method === 'GET' && path === '/messages') return send(res, 200, { calls: ws.calls, messages: ws.messages });
      if (req.method === 'POST' && path === '/response-urls') {
        try {
          const { channel, user } = JSON.parse(raw) as { channel?: unknown; user?: unknown };
          if (typeof channel !== 'string' || !opts.channels[channel] || typeof user !== 'string') throw new Error('channel (a known channel id) and user');
          return send(res, 200, { url: responseUrls.mint(channel, user) });
        } catch (err) {
          return send(res, 400, { error: `body: {"channel","user"}: ${(err as Error).message}` });
        }
      }
      const api = /^\/api\/([A-Za-z.]+)$/.exec(path);
      if (api) return webApi(api[1]!, req, raw, res);
      const hook = /^\/response\/([0-9a-f-]+)$/.exec(path);
      if (hook) return responseUrls.answer(hook[1]!, req, raw, res);
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
    calls: () => ws.calls,
    messages: () => ws.messages,
    responseUrl: (channel, user) => responseUrls.mint(channel, user),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
