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

/**
 * The GitHub issues API subset fleetops uses (list by label with paging, create), in memory.
 * `failNextCreateAfterStoring` stores an issue and then answers 502: the "created, but the answer
 * was lost" case a retry must not duplicate.
 */
export class FakeGitHub {
  readonly issues: StoredIssue[] = [];
  readonly requests: string[] = [];
  failNextCreateAfterStoring = 0;
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
    this.requests.push(`${req.method} ${url.pathname}${url.search}`);
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${this.token}`) return send(401, { message: 'Bad credentials' });
    if (url.pathname !== `/repos/${this.repo}/issues`) return send(404, { message: 'Not Found' });
    if (req.method === 'GET') {
      const label = url.searchParams.get('labels');
      const perPage = Number(url.searchParams.get('per_page') ?? 30);
      const page = Number(url.searchParams.get('page') ?? 1);
      const matching = this.issues.filter((i) => !label || i.labels.some((l) => l.name === label)).reverse();
      return send(200, matching.slice((page - 1) * perPage, page * perPage));
    }
    if (req.method === 'POST') {
      let raw = '';
      for await (const chunk of req) raw += chunk;
      const body = JSON.parse(raw) as { title?: string; body?: string; labels?: string[] };
      if (!body.title) return send(422, { message: 'Validation Failed', errors: [{ field: 'title', code: 'missing_field' }] });
      const issue = this.store({ title: body.title, body: body.body ?? '', labels: body.labels ?? [] });
      if (this.failNextCreateAfterStoring > 0) {
        this.failNextCreateAfterStoring -= 1;
        return send(502, { message: 'Server Error' });
      }
      return send(201, issue);
    }
    return send(405, { message: 'Method Not Allowed' });
  }
}
