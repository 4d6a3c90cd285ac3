import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../common/failures';

/**
 * The part of the GitHub REST issues API that action-item filing needs: list a repository's issues
 * by label (paged) and create one. Listing is read from the repository, not the search index, so an
 * issue created a moment ago is already visible to a retry (the search API lags behind).
 */

export const ACTION_ITEM_LABEL = 'fleetops-action-item';

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

function failureFor(status: number, what: string, text: string): ApplicationFailure {
  const message = `GitHub ${what}: HTTP ${status}${text ? ` ${text.slice(0, 300)}` : ''}`;
  // 403 is GitHub's secondary rate limit as often as a permission problem; retrying is safe either way.
  if (status >= 500 || status === 429 || status === 403) return ApplicationFailure.retryable(message, FailureType.AwsUnavailable);
  return ApplicationFailure.nonRetryable(message, FailureType.InvalidRequest);
}

export function createGitHubIssuesApi(opts: { apiUrl: string; repo: string; token: string; fetch: typeof fetch }): GitHubIssuesApi {
  const base = `${opts.apiUrl.replace(/\/$/, '')}/repos/${opts.repo}`;
  const headers = {
    accept: 'application/vnd.github+json',
    authorization: `Bearer ${opts.token}`,
    'x-github-api-version': '2022-11-28',
    'user-agent': 'fleetops',
  };

  async function call<T>(what: string, url: string, init: RequestInit): Promise<T> {
    let res: Response;
    try {
      res = await opts.fetch(url, { ...init, headers: { ...headers, ...(init.body ? { 'content-type': 'application/json' } : {}) }, signal: AbortSignal.timeout(15_000) });
    } catch (err) {
      throw ApplicationFailure.retryable(`GitHub ${what}: ${(err as Error).message}`, FailureType.AwsNetwork);
    }
    if (!res.ok) throw failureFor(res.status, what, await res.text().catch(() => ''));
    return (await res.json()) as T;
  }

  return {
    async listLabelled(label) {
      const all: GitHubIssue[] = [];
      for (let page = 1; page <= MAX_PAGES; page++) {
        const q = new URLSearchParams({ state: 'all', labels: label, per_page: String(PAGE_SIZE), page: String(page) });
        const batch = await call<GitHubIssue[]>('list issues', `${base}/issues?${q}`, { method: 'GET' });
        all.push(...batch);
        if (batch.length < PAGE_SIZE) break;
      }
      return all;
    },
    async create(issue) {
      return call<GitHubIssue>('create issue', `${base}/issues`, { method: 'POST', body: JSON.stringify(issue) });
    },
  };
}

/** Hidden in the issue body; a retry that finds it knows the item is filed already. */
export function actionItemMarker(incidentKey: string, itemId: string): string {
  return `<!-- fleetops-action-item: ${incidentKey}#${itemId} -->`;
}
