import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { createIncidentActivities, type FileActionItemsRequest } from '../../activities/incident';
import { ACTION_ITEM_LABEL } from '../../activities/incident/github';
import { FailureType } from '../../common/failures';
import { FakeGitHub, incidentTestConfig } from './fixtures';

const TOKEN_ENV = 'FLEETOPS_TEST_GH_TOKEN';

let github: FakeGitHub;

beforeEach(async () => {
  github = new FakeGitHub('acme/ops', 'secret-token');
  await github.start();
});

afterEach(async () => {
  await github.stop();
});

/** `null`: the token env var is not set. */
function activities(token: string | null = 'secret-token') {
  const config = incidentTestConfig({ postmortemDir: mkdtempSync(join(tmpdir(), 'pm-')), githubApiUrl: github.url, tokenEnv: TOKEN_ENV });
  return createIncidentActivities({ config }, token === null ? {} : { [TOKEN_ENV]: token });
}

const request = (incidentKey = 'incident-alarm-api/abcd1234'): FileActionItemsRequest => ({
  incidentKey,
  workflowId: 'incident-alarm-api',
  incidentTitle: 'API 5xx',
  severity: 'sev1',
  items: [
    { id: 'AI-1', type: 'prevent', text: 'Canary every flag rollout', owner: 'erin' },
    { id: 'AI-2', type: 'process', text: 'Page the owner on rollouts', owner: 'frank' },
  ],
});

describe('GitHub action item filing', () => {
  it('files each item once with label, owner and marker; a second run files nothing and returns the same links', async () => {
    const acts = activities();
    const first = await acts.fileActionItems(request());
    expect(first.created).toEqual(['AI-1', 'AI-2']);
    expect(github.issues).toHaveLength(2);
    const [issue1] = github.issues;
    expect(issue1.title).toBe('[sev1] Canary every flag rollout');
    expect(issue1.labels.map((l) => l.name)).toEqual([ACTION_ITEM_LABEL, 'action-prevent']);
    expect(issue1.body).toContain('Owner: erin');
    expect(issue1.body).toContain('<!-- fleetops-action-item: incident-alarm-api/abcd1234#AI-1 -->');

    const again = await acts.fileActionItems(request());
    expect(again.created).toEqual([]);
    expect(again.alreadyFiled).toEqual(['AI-1', 'AI-2']);
    expect(again.links).toEqual(first.links);
    expect(github.issues).toHaveLength(2);
  });

  it('does not file twice when an issue was created but the answer was lost', async () => {
    const acts = activities();
    github.failNextCreateAfterStoring = 1;
    const err = await acts.fileActionItems(request()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).nonRetryable).toBe(false);
    expect(github.issues).toHaveLength(1);

    // Temporal's retry of the activity: AI-1 is found by its marker, only AI-2 is created.
    const retry = await acts.fileActionItems(request());
    expect(retry.alreadyFiled).toEqual(['AI-1']);
    expect(retry.created).toEqual(['AI-2']);
    expect(github.issues).toHaveLength(2);
    expect(retry.links['AI-1']).toBe(github.issues[0].html_url);
  });

  it('sends the request shape GitHub documents: token, API version, JSON body with the create fields', async () => {
    await activities().fileActionItems(request());
    expect(github.recorded.map((r) => `${r.method} ${r.url}`)).toEqual([
      `GET /repos/acme/ops/issues?state=all&labels=${ACTION_ITEM_LABEL}&per_page=100`,
      'POST /repos/acme/ops/issues',
      'POST /repos/acme/ops/issues',
    ]);
    for (const r of github.recorded) {
      expect(r.headers.authorization).toMatch(/^(token|Bearer) secret-token$/);
      expect(r.headers.apiVersion).toBe('2022-11-28');
      expect(r.headers.accept).toMatch(/^application\/vnd\.github/);
      expect(r.headers.userAgent).toMatch(/^fleetops /);
    }
    expect(github.recorded[1].headers.contentType).toMatch(/^application\/json/);
  });

  it('retries a failed listing inside the activity; a rate limit that lasts becomes the next retry delay', async () => {
    const acts = activities();
    github.failNextList = 1;
    expect((await acts.fileActionItems(request())).created).toEqual(['AI-1', 'AI-2']);
    expect(github.requests.filter((r) => r.startsWith('GET'))).toHaveLength(2);

    github.secondaryLimitNext = { retryAfterSeconds: 120 };
    const err = await acts.fileActionItems(request('incident-alarm-api/77770000')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).nonRetryable).toBe(false);
    expect((err as ApplicationFailure).message).toMatch(/^GitHub create issue: HTTP 403 .*secondary rate limit/);
    expect((err as ApplicationFailure).nextRetryDelay).toBe('120s');
    expect(github.issues).toHaveLength(2);
  });

  it('finds an earlier filing past the first page of labelled issues', async () => {
    const acts = activities();
    await acts.fileActionItems(request());
    github.seed(230, ACTION_ITEM_LABEL);
    const again = await acts.fileActionItems(request());
    expect(again.created).toEqual([]);
    expect(github.issues).toHaveLength(232);
    expect(github.requests.filter((r) => r.startsWith('GET')).slice(-3)).toEqual([
      `GET /repos/acme/ops/issues?state=all&labels=${ACTION_ITEM_LABEL}&per_page=100`,
      `GET /repos/acme/ops/issues?state=all&labels=${ACTION_ITEM_LABEL}&per_page=100&page=2`,
      `GET /repos/acme/ops/issues?state=all&labels=${ACTION_ITEM_LABEL}&per_page=100&page=3`,
    ]);
  });

  it('keeps incidents apart: the same item id in another incident is filed separately', async () => {
    const acts = activities();
    await acts.fileActionItems(request('incident-alarm-api/abcd1234'));
    const other = await acts.fileActionItems(request('incident-alarm-api/ffff0000'));
    expect(other.created).toEqual(['AI-1', 'AI-2']);
    expect(github.issues).toHaveLength(4);
  });

  it('fails without retry on a bad token, and reports filing off when the token is not set', async () => {
    const bad = activities('wrong-token');
    const err = await bad.fileActionItems(request()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect((err as ApplicationFailure).type).toBe(FailureType.InvalidRequest);
    expect((err as ApplicationFailure).message).toMatch(/^GitHub list issues: HTTP 401/);

    expect((await activities('secret-token').incidentPolicy('sev1')).githubFiling).toBe(true);
    const off = activities(null);
    expect((await off.incidentPolicy('sev1')).githubFiling).toBe(false);
    await expect(off.fileActionItems(request())).rejects.toThrow('GitHub filing is not configured');
  });
});
