import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import { FailureType } from '../../common/failures';

/**
 * The part of the GitHub REST issues API that action-item filing needs, through Octokit
 * (@octokit/rest) with GitHub's recommended throttling (@octokit/plugin-throttling: writes one at a
 * time, a second apart; rate-limit answers waited out) and retries of idempotent reads
 * (@octokit/plugin-retry). Listing reads the repository's issues by label, not the search index, so
 * an issue created a moment ago is already visible to a retry (the search API lags behind).
 *
 * Creating an issue is never retried inside the client: a create whose answer was lost may have
 * happened, so the activity fails (retryably) and its Temporal retry finds the issue by its marker.
 */

export const ACTION_ITEM_LABEL = 'fleetops-action-item';
/** The REST API version every request asks for (GitHub's `X-GitHub-Api-Version`). */
export const GITHUB_API_VERSION = '2022-11-28';

export interface GitHubIssue {
  number: number;
  html_url: string;
  title: string;
  body?: string | null;
}

export interface GitHubIssuesApi {
  listLabelled(label: string): Promise<GitHubIssue[]>;
  create(issue: { title: string; body: string; labels: string[] }): Promise<GitHubIssue>;
}

const PAGE_SIZE = 100;
/** 50 pages of 100 labelled issues; a repository past that needs a narrower label, not more paging. */
const MAX_PAGES = 50;
/** A rate limit that clears within this is waited out in the activity; a longer one becomes the next retry's delay. */
const MAX_WAIT_SECONDS = 10;
const REQUEST_TIMEOUT_MS = 15_000;

const FleetopsOctokit = Octokit.plugin(retry, throttling);

/** Octokit's warnings (rate limits, deprecations) as the activity's structured log; silent outside one. */
function activityLog(): { debug(m: string): void; info(m: string): void; warn(m: string): void; error(m: string): void } {
  const emit = (level: 'debug' | 'info' | 'warn' | 'error') => (message: string) => {
    try {
      Context.current().log[level](message, { component: 'github' });
    } catch {
      // Not in an activity (a unit test calling the API directly): nothing to log to.
    }
  };
  return { debug: () => undefined, info: emit('info'), warn: emit('warn'), error: emit('error') };
}

interface RequestErrorLike {
  status?: number;
  message?: string;
  response?: { headers?: Record<string, string | number | undefined> };
}

export function failureFor(err: unknown, what: string): ApplicationFailure {
  const e = err as RequestErrorLike;
  const status = typeof e.status === 'number' ? e.status : 0;
  const text = (e.message ?? String(err)).slice(0, 300);
  // Octokit reports a network failure (no answer) as status 500 with the fetch error's message.
  if (status === 0 || (status === 500 && !e.response)) {
    return ApplicationFailure.retryable(`GitHub ${what}: ${text}`, FailureType.AwsNetwork);
  }
  const message = `GitHub ${what}: HTTP ${status} ${text}`;
  // 403 is GitHub's secondary rate limit as often as a permission problem; retrying is safe either way.
  if (status >= 500 || status === 429 || status === 403) {
    const retryAfter = Number(e.response?.headers?.['retry-after']);
    return ApplicationFailure.create({
      message,
      type: FailureType.AwsUnavailable,
      nonRetryable: false,
      ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { nextRetryDelay: `${retryAfter}s` } : {}),
    });
  }
  return ApplicationFailure.nonRetryable(message, FailureType.InvalidRequest);
}

export type GitHubClient = InstanceType<typeof FleetopsOctokit>;

/** One Octokit per token: throttling (writes spaced out, rate limits waited out) spans every call made with it. */
export function createGitHubClient(opts: { apiUrl: string; token: string; fetch?: typeof fetch }): GitHubClient {
  const baseFetch = opts.fetch ?? fetch;
  const octokit = new FleetopsOctokit({
    auth: opts.token,
    baseUrl: opts.apiUrl.replace(/\/$/, ''),
    userAgent: 'fleetops',
    log: activityLog(),
    request: {
      fetch: (url: string | URL | Request, init?: RequestInit) => baseFetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }),
    },
    // Reads only (creates turn it off per request): 2 more tries on a 5xx, 1 s and 4 s apart.
    retry: { retries: 2 },
    throttle: {
      // Wait out a limit once if it clears soon; otherwise fail and let Temporal retry after it.
      onRateLimit: (retryAfter: number, _options: unknown, _o: unknown, retryCount: number) => retryCount < 1 && retryAfter <= MAX_WAIT_SECONDS,
      onSecondaryRateLimit: (retryAfter: number, _options: unknown, _o: unknown, retryCount: number) => retryCount < 1 && retryAfter <= MAX_WAIT_SECONDS,
    },
  });
  octokit.hook.before('request', (options) => {
    options.headers['x-github-api-version'] = GITHUB_API_VERSION;
  });
  return octokit;
}

export function createGitHubIssuesApi(octokit: GitHubClient, repoName: string): GitHubIssuesApi {
  const [owner, repo] = repoName.split('/') as [string, string];
  return {
    async listLabelled(label) {
      const all: GitHubIssue[] = [];
      let pages = 0;
      try {
        // Follows GitHub's `Link: <…>; rel="next"` header, as the API documents paging.
        for await (const page of octokit.paginate.iterator(octokit.rest.issues.listForRepo, { owner, repo, state: 'all', labels: label, per_page: PAGE_SIZE })) {
          all.push(...page.data.map((i) => ({ number: i.number, html_url: i.html_url, title: i.title, body: i.body })));
          if (++pages >= MAX_PAGES) break;
        }
      } catch (err) {
        throw failureFor(err, 'list issues');
      }
      return all;
    },
    async create(issue) {
      try {
        const res = await octokit.rest.issues.create({ owner, repo, ...issue, request: { retries: 0 } });
        return { number: res.data.number, html_url: res.data.html_url, title: res.data.title, body: res.data.body };
      } catch (err) {
        throw failureFor(err, 'create issue');
      }
    },
  };
}

/** Hidden in the issue body; a retry that finds it knows the item is filed already. */
export function actionItemMarker(incidentKey: string, itemId: string): string {
  return `<!-- fleetops-action-item: ${incidentKey}#${itemId} -->`;
}
