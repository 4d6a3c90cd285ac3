import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Context } from '@temporalio/activity';
import type { Notification, NotifyResult } from '../../activities/notifications';
import { parseConfig } from '../../config/load';
import type { FleetopsConfig } from '../../config/schema';

/** Incident config for tests: the demo checklists, with cadences a test can reason about. */
export function incidentTestConfig(opts: { postmortemDir: string; githubApiUrl?: string; tokenEnv?: string; sev4?: Record<string, unknown> }): FleetopsConfig {
  const postmortemItems = ['timeline-reviewed', 'what-went-well', 'what-went-wrong', 'where-we-got-lucky', 'root-cause', 'action-items-filed'];
  return parseConfig({
    aws: { region: 'us-east-1' },
    incidents: {
      postmortemDir: opts.postmortemDir,
      ...(opts.githubApiUrl ? { github: { repo: 'acme/ops', apiUrl: opts.githubApiUrl, tokenEnv: opts.tokenEnv ?? 'FLEETOPS_TEST_GITHUB_TOKEN' } } : {}),
      severities: {
        sev1: {
          statusUpdateEveryMinutes: 30,
          postmortemDueBusinessDays: 5,
          nudgeEveryHours: 24,
          escalateAfterNudges: 2,
          onCall: 'oncall-primary',
          requireCommanderToMitigate: true,
          requireRootCause: true,
          checklist: {
            response: ['commander-assigned', 'channel-opened', 'status-page-updated', 'stakeholders-informed', 'mitigated', 'resolved'],
            postmortem: postmortemItems,
          },
        },
        // No commander-assigned item: the commander rule on `mitigated` is all that stops it.
        sev2: {
          statusUpdateEveryMinutes: 60,
          requireCommanderToMitigate: true,
          requireRootCause: true,
          checklist: { response: ['mitigated', 'resolved'], postmortem: ['timeline-reviewed', 'action-items-filed'] },
        },
        sev3: {
          statusUpdateEveryMinutes: 240,
          checklist: { response: ['mitigated', 'resolved'], postmortem: ['timeline-reviewed', 'what-went-well', 'what-went-wrong', 'action-items-filed'] },
        },
        sev4: {
          statusUpdateEveryMinutes: 1440,
          checklist: { response: ['resolved'], postmortem: ['timeline-reviewed'] },
          ...opts.sev4,
        },
      },
    },
  });
}

export interface SentNotification {
  key: string;
  title: string;
  text: string;
  fields: Record<string, string>;
  /** When the activity was scheduled, in the (skipped) server time. */
  at: number;
}

/** A `notify` that records what it would have posted; keys must arrive once each. */
export function recordingNotify(): { notify: (n: Notification) => Promise<NotifyResult>; sent: SentNotification[] } {
  const sent: SentNotification[] = [];
  return {
    sent,
    async notify(n) {
      sent.push({ key: n.idempotencyKey, title: n.title, text: n.text, fields: n.fields ?? {}, at: Context.current().info.scheduledTimestampMs });
      return { sent: ['test'], skipped: [] };
    },
  };
}

interface StoredIssue {
  number: number;
  title: string;
  body: string;
  labels: { name: string }[];
  html_url: string;
  state: 'open';
}

/** What the stand-in recorded of one request: method, path with query, and the headers that matter. */
export interface RecordedGitHubRequest {
  method: string;
  url: string;
  headers: { accept?: string; authorization?: string; userAgent?: string; apiVersion?: string; contentType?: string };
}

/**
 * The GitHub issues API subset fleetops uses (list by label, create), in memory, checking the request
 * shape GitHub documents: a token in `Authorization` (`Bearer` or `token` scheme), an `Accept` of
 * `application/vnd.github…json`, a `User-Agent` (GitHub refuses requests without one), the
 * `X-GitHub-Api-Version` when sent (only 2022-11-28 exists), JSON bodies with only the fields the
 * create endpoint takes; paging by `page`/`per_page` answered with a `Link` header as GitHub does.
 * `failNextCreateAfterStoring` stores an issue and then answers 502: the "created, but the answer
 * was lost" case a retry must not duplicate. `failNextList` answers the next listing with 503;
 * `secondaryLimitNext` the next create with a secondary rate limit.
 */
export class FakeGitHub {
  readonly issues: StoredIssue[] = [];
  /** `GET /repos/…/issues?…` per request, as before; `recorded` has the headers too. */
  readonly requests: string[] = [];
  readonly recorded: RecordedGitHubRequest[] = [];
  failNextCreateAfterStoring = 0;
  failNextList = 0;
  /** Answers the next create with GitHub's secondary rate limit (403, Retry-After), creating nothing. */
  secondaryLimitNext?: { retryAfterSeconds: number };
  private server?: Server;
  url = '';

  constructor(
    private readonly repo = 'acme/ops',
    private readonly token = 'test-token',
  ) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  seed(count: number, label: string): void {
    for (let i = 0; i < count; i++) this.store({ title: `unrelated ${i}`, body: `seeded issue ${i}`, labels: [label] });
  }

  private store(input: { title: string; body: string; labels: string[] }): StoredIssue {
    const number = this.issues.length + 1;
    const issue: StoredIssue = {
      number,
      title: input.title,
      body: input.body,
      labels: input.labels.map((name) => ({ name })),
      html_url: `https://github.example/${this.repo}/issues/${number}`,
      state: 'open',
    };
    this.issues.push(issue);
    return issue;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const h = req.headers;
    this.requests.push(`${req.method} ${url.pathname}${url.search}`);
    this.recorded.push({
      method: req.method ?? '',
      url: `${url.pathname}${url.search}`,
      headers: {
        accept: h.accept,
        authorization: h.authorization,
        userAgent: h['user-agent'],
        apiVersion: h['x-github-api-version'] as string | undefined,
        contentType: h['content-type'],
      },
    });
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(JSON.stringify(body));
    };
    if (!/^(Bearer|token) /.test(h.authorization ?? '') || h.authorization?.replace(/^(Bearer|token) /, '') !== this.token) {
      return send(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
    }
    if (!h['user-agent']) return send(403, { message: 'Request forbidden by administrative rules. Please make sure your request has a User-Agent header' });
    if (!/application\/vnd\.github(\.v3)?(\+json)?/.test(h.accept ?? '')) return send(415, { message: 'Unsupported Accept header' });
    if (h['x-github-api-version'] !== undefined && h['x-github-api-version'] !== '2022-11-28') {
      return send(400, { message: `API version ${String(h['x-github-api-version'])} is not supported.` });
    }
    if (url.pathname !== `/repos/${this.repo}/issues`) return send(404, { message: 'Not Found' });
    if (req.method === 'GET') {
      if (this.failNextList > 0) {
        this.failNextList -= 1;
        return send(503, { message: 'Service Unavailable' });
      }
      const label = url.searchParams.get('labels');
      const perPage = Math.min(Number(url.searchParams.get('per_page') ?? 30), 100);
      const page = Number(url.searchParams.get('page') ?? 1);
      const matching = this.issues.filter((i) => !label || i.labels.some((l) => l.name === label)).reverse();
      const lastPage = Math.max(1, Math.ceil(matching.length / perPage));
      const link = (p: number, rel: string) => {
        const q = new URLSearchParams(url.searchParams);
        q.set('page', String(p));
        return `<${this.url}${url.pathname}?${q}>; rel="${rel}"`;
      };
      const links = page < lastPage ? [link(page + 1, 'next'), link(lastPage, 'last')] : [];
      return send(200, matching.slice((page - 1) * perPage, page * perPage), links.length ? { link: links.join(', ') } : {});
    }
    if (req.method === 'POST') {
      if (this.secondaryLimitNext) {
        const { retryAfterSeconds } = this.secondaryLimitNext;
        this.secondaryLimitNext = undefined;
        return send(403, { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' }, { 'retry-after': String(retryAfterSeconds) });
      }
      if (!/^application\/json/.test(h['content-type'] ?? '')) return send(415, { message: 'Content-Type must be application/json' });
      let raw = '';
      for await (const chunk of req) raw += chunk;
      const body = JSON.parse(raw) as Record<string, unknown>;
      const unknown = Object.keys(body).filter((k) => !['title', 'body', 'labels', 'assignees', 'milestone', 'type'].includes(k));
      if (unknown.length > 0) return send(422, { message: 'Validation Failed', errors: unknown.map((field) => ({ field, code: 'invalid' })) });
      if (typeof body.title !== 'string' || !body.title) return send(422, { message: 'Validation Failed', errors: [{ field: 'title', code: 'missing_field' }] });
      const issue = this.store({ title: body.title, body: String(body.body ?? ''), labels: (body.labels as string[] | undefined) ?? [] });
      if (this.failNextCreateAfterStoring > 0) {
        this.failNextCreateAfterStoring -= 1;
        return send(502, { message: 'Server Error' });
      }
      return send(201, issue);
    }
    return send(405, { message: 'Method Not Allowed' });
  }
}
