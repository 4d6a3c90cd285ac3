import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Context } from '@temporalio/activity';
import type { Notification, NotifyResult } from '../../activities/notifications';
import { parseConfig } from '../../config/load';
import type { FleetopsConfig } from '../../config/schema';

/** Incident config for tests: the demo checklists, with cadences a test can reason about. */
export function incidentTestConfig(opts: {
  postmortemDir: string;
  githubApiUrl?: string;
  tokenEnv?: string;
  sev1?: Record<string, unknown>;
  sev2?: Record<string, unknown>;
  sev3?: Record<string, unknown>;
  sev4?: Record<string, unknown>;
  /** More `incidents.*` fields (postmortemBucket, pagerduty, ...). */
  incidents?: Record<string, unknown>;
}): FleetopsConfig {
  const postmortemItems = ['timeline-reviewed', 'what-went-well', 'what-went-wrong', 'where-we-got-lucky', 'root-cause', 'action-items-filed'];
  return parseConfig({
    aws: { region: 'us-east-1' },
    incidents: {
      postmortemDir: opts.postmortemDir,
      ...(opts.githubApiUrl ? { github: { repo: 'acme/ops', apiUrl: opts.githubApiUrl, tokenEnv: opts.tokenEnv ?? 'FLEETOPS_TEST_GITHUB_TOKEN' } } : {}),
      ...opts.incidents,
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
          ...opts.sev1,
        },
        // No commander-assigned item: the commander rule on `mitigated` is all that stops it.
        sev2: {
          statusUpdateEveryMinutes: 60,
          requireCommanderToMitigate: true,
          requireRootCause: true,
          checklist: { response: ['mitigated', 'resolved'], postmortem: ['timeline-reviewed', 'action-items-filed'] },
          ...opts.sev2,
        },
        sev3: {
          statusUpdateEveryMinutes: 240,
          checklist: { response: ['mitigated', 'resolved'], postmortem: ['timeline-reviewed', 'what-went-well', 'what-went-wrong', 'action-items-filed'] },
          ...opts.sev3,
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

function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

/** Git's blob id, which is what the contents API calls a file's sha. */
function blobSha(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
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

  // ---- git data, contents and pull requests (the postmortem pull request) ----

  readonly defaultBranch = 'main';
  /** branch → head commit sha and the files at that commit. */
  readonly branches = new Map<string, { sha: string; files: Map<string, string> }>([['main', { sha: sha1('initial'), files: new Map([['README.md', '# ops\n']]) }]]);
  readonly pulls: { number: number; html_url: string; title: string; body: string; head: { ref: string }; base: { ref: string }; state: 'open' }[] = [];
  /** Opens the next pull request and then answers 502: "created, but the answer was lost". */
  failNextPullCreateAfterStoring = 0;
  /** Answers the next file write with 500 after committing it. */
  failNextContentsPutAfterStoring = 0;

  /** The file's text on a branch, as a reader of the repository would see it. */
  fileOn(branch: string, path: string): string | undefined {
    return this.branches.get(branch)?.files.get(path);
  }

  private repoRequest(method: string, url: URL, body: Record<string, unknown>): { status: number; body: unknown } {
    const base = `/repos/${this.repo}`;
    // Clients may send a ref or path with its slashes percent-encoded (heads%2Fmain); GitHub accepts both.
    const rest = decodeURIComponent(url.pathname.slice(base.length));
    const fields = (allowed: string[], required: string[]): { status: number; body: unknown } | undefined => {
      const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
      if (unknown.length > 0) return { status: 422, body: { message: 'Validation Failed', errors: unknown.map((field) => ({ field, code: 'invalid' })) } };
      const missing = required.filter((k) => typeof body[k] !== 'string' || body[k] === '');
      if (missing.length > 0) return { status: 422, body: { message: 'Validation Failed', errors: missing.map((field) => ({ field, code: 'missing_field' })) } };
      return undefined;
    };
    if (method === 'GET' && rest === '') return { status: 200, body: { full_name: this.repo, default_branch: this.defaultBranch } };
    const ref = /^\/git\/ref\/heads\/(.+)$/.exec(rest);
    if (method === 'GET' && ref) {
      const b = this.branches.get(decodeURIComponent(ref[1]!));
      return b ? { status: 200, body: { ref: `refs/heads/${ref[1]}`, object: { sha: b.sha, type: 'commit' } } } : { status: 404, body: { message: 'Not Found' } };
    }
    if (method === 'POST' && rest === '/git/refs') {
      const bad = fields(['ref', 'sha'], ['ref', 'sha']);
      if (bad) return bad;
      const name = String(body.ref);
      // GitHub: "must start with refs and have at least two slashes".
      if (!/^refs\/heads\/.+/.test(name)) return { status: 422, body: { message: 'Reference name must start with refs/ and have at least two slashes' } };
      const from = [...this.branches.values()].find((b) => b.sha === body.sha);
      if (!from) return { status: 422, body: { message: 'Object does not exist' } };
      const branch = name.slice('refs/heads/'.length);
      if (this.branches.has(branch)) return { status: 422, body: { message: 'Reference already exists' } };
      this.branches.set(branch, { sha: from.sha, files: new Map(from.files) });
      return { status: 201, body: { ref: name, object: { sha: from.sha, type: 'commit' } } };
    }
    const contents = /^\/contents\/(.+)$/.exec(rest);
    if (contents) {
      const path = decodeURIComponent(contents[1]!);
      if (method === 'GET') {
        const b = this.branches.get(url.searchParams.get('ref') ?? this.defaultBranch);
        const text = b?.files.get(path);
        if (text === undefined) return { status: 404, body: { message: 'Not Found' } };
        return { status: 200, body: { type: 'file', encoding: 'base64', path, name: path.split('/').pop(), sha: blobSha(text), content: Buffer.from(text).toString('base64') } };
      }
      if (method === 'PUT') {
        const bad = fields(['message', 'content', 'sha', 'branch', 'committer', 'author'], ['message', 'content']);
        if (bad) return bad;
        const branchName = typeof body.branch === 'string' ? body.branch : this.defaultBranch;
        const b = this.branches.get(branchName);
        if (!b) return { status: 404, body: { message: `Branch ${branchName} not found` } };
        const current = b.files.get(path);
        if (current !== undefined && body.sha === undefined) return { status: 422, body: { message: 'Invalid request.\n\n"sha" wasn\'t supplied.' } };
        if (current !== undefined && body.sha !== blobSha(current)) return { status: 409, body: { message: `${path} does not match ${String(body.sha)}` } };
        const content = String(body.content);
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(content)) return { status: 422, body: { message: 'content is not valid Base64' } };
        const text = Buffer.from(content, 'base64').toString('utf8');
        b.files.set(path, text);
        b.sha = sha1(`${b.sha}/${path}/${text}`);
        if (this.failNextContentsPutAfterStoring > 0) {
          this.failNextContentsPutAfterStoring -= 1;
          return { status: 500, body: { message: 'Server Error' } };
        }
        return { status: current === undefined ? 201 : 200, body: { content: { path, sha: blobSha(text) }, commit: { sha: b.sha, message: body.message } } };
      }
    }
    if (rest === '/pulls' && method === 'GET') {
      const head = url.searchParams.get('head');
      const branch = head?.includes(':') ? head.split(':')[1] : head;
      return { status: 200, body: this.pulls.filter((p) => !branch || p.head.ref === branch) };
    }
    if (rest === '/pulls' && method === 'POST') {
      const bad = fields(['title', 'head', 'base', 'body', 'draft', 'maintainer_can_modify', 'head_repo', 'issue'], ['head', 'base', 'title']);
      if (bad) return bad;
      const headBranch = this.branches.get(String(body.head));
      const baseBranch = this.branches.get(String(body.base));
      if (!headBranch || !baseBranch) return { status: 422, body: { message: 'Validation Failed', errors: [{ resource: 'PullRequest', field: headBranch ? 'base' : 'head', code: 'invalid' }] } };
      if (this.pulls.some((p) => p.head.ref === body.head)) {
        return { status: 422, body: { message: 'Validation Failed', errors: [{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${this.repo.split('/')[0]}:${String(body.head)}.` }] } };
      }
      if (headBranch.sha === baseBranch.sha) return { status: 422, body: { message: 'Validation Failed', errors: [{ resource: 'PullRequest', code: 'custom', message: `No commits between ${String(body.base)} and ${String(body.head)}` }] } };
      const number = this.issues.length + this.pulls.length + 1;
      const pr = { number, html_url: `https://github.example/${this.repo}/pull/${number}`, title: String(body.title), body: String(body.body ?? ''), head: { ref: String(body.head) }, base: { ref: String(body.base) }, state: 'open' as const };
      this.pulls.push(pr);
      if (this.failNextPullCreateAfterStoring > 0) {
        this.failNextPullCreateAfterStoring -= 1;
        return { status: 502, body: { message: 'Server Error' } };
      }
      return { status: 201, body: pr };
    }
    return { status: 404, body: { message: 'Not Found' } };
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
    if (url.pathname.startsWith(`/repos/${this.repo}`) && url.pathname !== `/repos/${this.repo}/issues`) {
      let raw = '';
      for await (const chunk of req) raw += chunk;
      if (raw && !/^application\/json/.test(h['content-type'] ?? '')) return send(415, { message: 'Content-Type must be application/json' });
      const answer = this.repoRequest(req.method ?? 'GET', url, raw ? (JSON.parse(raw) as Record<string, unknown>) : {});
      return send(answer.status, answer.body);
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

export interface RecordedPage {
  body: Record<string, unknown>;
  contentType?: string;
}

/**
 * PagerDuty's Events API v2 (`POST /v2/enqueue`) in memory, checking the request shape PagerDuty
 * documents: a JSON body with `routing_key` (the integration's 32-character key), `event_action`
 * trigger | acknowledge | resolve, `dedup_key` (≤ 255 characters; required to acknowledge or resolve),
 * and for a trigger a `payload` with `summary` (≤ 1,024 characters), `source` and `severity` (critical,
 * error, warning, info); no fields beyond the documented ones. Answers 202 {status, message, dedup_key}
 * or 400 {status: "invalid event", message, errors}. Keeps each alert's state by dedup key, as
 * PagerDuty does: a trigger opens (or joins) an alert, acknowledge and resolve act on it.
 */
export class FakePagerDuty {
  readonly events: RecordedPage[] = [];
  readonly alerts = new Map<string, { status: 'triggered' | 'acknowledged' | 'resolved'; summary: string; severity: string; triggers: number }>();
  /** Answers the next N events with 500 without processing them. */
  failNext = 0;
  private server?: Server;
  url = '';

  constructor(readonly routingKey = 'R0UT1NGKEY0000000000000000000001') {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v2/enqueue`;
    return this.url;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** `<action> <dedup key>` per accepted event, in order. */
  actions(): string[] {
    return this.events.map((e) => `${String(e.body.event_action)} ${String(e.body.dedup_key)}`);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const invalid = (...errors: string[]): void => send(400, { status: 'invalid event', message: 'Event object is invalid', errors });
    if (req.method !== 'POST' || new URL(req.url ?? '/', 'http://x').pathname !== '/v2/enqueue') return send(404, { message: 'Not Found' });
    let raw = '';
    for await (const chunk of req) raw += chunk;
    if (this.failNext > 0) {
      this.failNext -= 1;
      return send(500, { status: 'error', message: 'Internal Server Error' });
    }
    if (!/^application\/json/.test(req.headers['content-type'] ?? '')) return invalid("'Content-Type' must be application/json");
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return invalid('Event object is not valid JSON');
    }
    const unknown = Object.keys(body).filter((k) => !['routing_key', 'event_action', 'dedup_key', 'payload', 'images', 'links', 'client', 'client_url'].includes(k));
    if (unknown.length > 0) return invalid(...unknown.map((k) => `'${k}' is not a recognised field`));
    if (typeof body.routing_key !== 'string' || body.routing_key.length !== 32) return invalid("'routing_key' must be a 32 character string");
    if (body.routing_key !== this.routingKey) return invalid("'routing_key' is not a valid integration key");
    const action = body.event_action;
    if (action !== 'trigger' && action !== 'acknowledge' && action !== 'resolve') return invalid("'event_action' must be one of trigger, acknowledge, resolve");
    const dedupKey = body.dedup_key;
    if (dedupKey !== undefined && (typeof dedupKey !== 'string' || dedupKey.length === 0 || dedupKey.length > 255)) return invalid("'dedup_key' must be 1-255 characters");
    if (action !== 'trigger' && dedupKey === undefined) return invalid(`'dedup_key' is required to ${action}`);
    let key = dedupKey as string | undefined;
    if (action === 'trigger') {
      const p = body.payload as Record<string, unknown> | undefined;
      if (!p || typeof p !== 'object') return invalid("'payload' is required for trigger events");
      const payloadUnknown = Object.keys(p).filter((k) => !['summary', 'source', 'severity', 'timestamp', 'component', 'group', 'class', 'custom_details'].includes(k));
      if (payloadUnknown.length > 0) return invalid(...payloadUnknown.map((k) => `'payload.${k}' is not a recognised field`));
      if (typeof p.summary !== 'string' || p.summary.length === 0 || p.summary.length > 1024) return invalid("'payload.summary' must be 1-1024 characters");
      if (typeof p.source !== 'string' || p.source.length === 0) return invalid("'payload.source' is required");
      if (!['critical', 'error', 'warning', 'info'].includes(String(p.severity))) return invalid("'payload.severity' must be one of critical, error, warning, info");
      if (p.timestamp !== undefined && Number.isNaN(Date.parse(String(p.timestamp)))) return invalid("'payload.timestamp' must be an ISO 8601 timestamp");
      key ??= `generated-${this.events.length + 1}`;
      const alert = this.alerts.get(key);
      if (alert && alert.status !== 'resolved') alert.triggers += 1;
      else this.alerts.set(key, { status: 'triggered', summary: p.summary, severity: String(p.severity), triggers: 1 });
    } else {
      const alert = this.alerts.get(key as string);
      if (alert && alert.status !== 'resolved') alert.status = action === 'acknowledge' ? 'acknowledged' : 'resolved';
    }
    this.events.push({ body, contentType: req.headers['content-type'] });
    send(202, { status: 'success', message: 'Event processed', dedup_key: key });
  }
}
