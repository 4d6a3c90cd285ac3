import { DEMO } from '../../stack/demo-seed/demo';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { createIncidentActivities } from '../../activities/incident';
import type { PostmortemPullRequestInput } from '../../activities/incident/pull-request';
import { FailureType } from '../../common/failures';
import { startEmulator } from '../../testkit/emulator';
import { useEmulator } from '../harness/emulator';
import { FakeGitHub, incidentTestConfig } from './fixtures';

/**
 * The closed postmortem leaves the worker: stored in S3 (moto behind the simulator, read back with
 * GetObject) and proposed as a pull request to the GitHub stand-in, which checks the documented
 * request shapes (branch ref, contents with base64 and blob sha, pull request fields). Both are
 * retried by Temporal, so every step is tested for a retry after it.
 */

const TOKEN_ENV = 'FLEETOPS_TEST_PUBLISH_GITHUB_TOKEN';
/** The kit's PostmortemBucket (the demo's, as the local stack deploys it) and default PostmortemPrefix, as the IAM proof's stack has them (scripts/iam/kit-policies.ts). */
const BUCKET = DEMO.postmortemBucket;
const PREFIX = 'postmortems/';

const emu = useEmulator(() => startEmulator());
let github: FakeGitHub;

beforeEach(async () => {
  github = new FakeGitHub('acme/ops', 'publish-token');
  await github.start();
});

afterEach(async () => {
  await github.stop();
});

const MARKDOWN = '# API 5xx — postmortem\n\n**Status:** Complete\n\nNon-ASCII survives: café, ✓\n';

function activities(incidents: Record<string, unknown> = {}, opts: { github?: boolean } = {}) {
  const config = incidentTestConfig({
    postmortemDir: mkdtempSync(join(tmpdir(), 'pm-')),
    ...(opts.github ? { githubApiUrl: github.url, tokenEnv: TOKEN_ENV } : {}),
    incidents,
  });
  return createIncidentActivities({ config, aws: emu.worker }, { [TOKEN_ENV]: 'publish-token' });
}

async function readObject(key: string): Promise<{ body: string; contentType?: string }> {
  const out = await emu.aws.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return { body: (await out.Body?.transformToString('utf-8')) ?? '', contentType: out.ContentType };
}

describe('postmortem in S3', () => {
  it('stores the document under the prefix, read back byte for byte; a retry writes the same object again', async () => {
    await emu.aws.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const acts = activities({ postmortemBucket: BUCKET, postmortemPrefix: PREFIX });
    const where = await acts.writePostmortem({ fileName: '2025-03-04-alarm-api-5xx-01234567.md', markdown: MARKDOWN });
    expect(where).toBe(`s3://${BUCKET}/${PREFIX}2025-03-04-alarm-api-5xx-01234567.md`);
    expect(await readObject(`${PREFIX}2025-03-04-alarm-api-5xx-01234567.md`)).toEqual({ body: MARKDOWN, contentType: 'text/markdown; charset=utf-8' });

    expect(await acts.writePostmortem({ fileName: '2025-03-04-alarm-api-5xx-01234567.md', markdown: MARKDOWN })).toBe(where);
    const listed = await emu.aws.s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual([`${PREFIX}2025-03-04-alarm-api-5xx-01234567.md`]);
  });

  it('fails without retry when the bucket does not exist, naming the call; refuses a file name that is not a plain .md name', async () => {
    // The configured bucket, never created (the emulator is reset before each test).
    const acts = activities({ postmortemBucket: BUCKET, postmortemPrefix: PREFIX });
    const err = await acts.writePostmortem({ fileName: 'x.md', markdown: MARKDOWN }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect((err as ApplicationFailure).message).toMatch(/^s3:PutObject: NoSuchBucket \(HTTP 404\)/);
    const bad = await acts.writePostmortem({ fileName: '../escape.md', markdown: MARKDOWN }).catch((e: unknown) => e);
    expect((bad as ApplicationFailure).type).toBe(FailureType.InvalidRequest);
  });
});

const prRequest = (fileName = '2025-03-04-alarm-api-5xx-01234567.md'): PostmortemPullRequestInput => ({
  incidentKey: 'incident-alarm-api-5xx/01234567',
  workflowId: 'incident-alarm-api-5xx',
  title: 'API 5xx above threshold',
  severity: 'sev1',
  fileName,
  markdown: MARKDOWN,
});

describe('postmortem pull request', () => {
  it('creates a branch from the default branch, puts postmortems/<file> on it, opens the PR; the documented request shapes', async () => {
    const pr = await activities({}, { github: true }).openPostmortemPullRequest(prRequest());
    const branch = 'fleetops/postmortem-2025-03-04-alarm-api-5xx-01234567';
    expect(pr).toEqual({ url: github.pulls[0]!.html_url, number: github.pulls[0]!.number, branch, path: 'postmortems/2025-03-04-alarm-api-5xx-01234567.md', created: true });
    expect(github.fileOn(branch, pr.path)).toBe(MARKDOWN);
    expect(github.fileOn('main', pr.path)).toBeUndefined();
    expect(github.pulls[0]).toMatchObject({ base: { ref: 'main' }, head: { ref: branch }, title: 'Postmortem: API 5xx above threshold (sev1)' });
    expect(github.pulls[0]!.body).toContain('<!-- fleetops-postmortem: incident-alarm-api-5xx/01234567 -->');
    expect(github.recorded.map((r) => `${r.method} ${decodeURIComponent(r.url)}`)).toEqual([
      `GET /repos/acme/ops/pulls?head=acme:${branch}&state=all&per_page=10`,
      'GET /repos/acme/ops',
      'GET /repos/acme/ops/git/ref/heads/main',
      'POST /repos/acme/ops/git/refs',
      `GET /repos/acme/ops/contents/${pr.path}?ref=${branch}`,
      `PUT /repos/acme/ops/contents/${pr.path}`,
      'POST /repos/acme/ops/pulls',
    ]);
    for (const r of github.recorded) {
      expect(r.headers.authorization).toMatch(/^(token|Bearer) publish-token$/);
      expect(r.headers.apiVersion).toBe('2022-11-28');
    }
  });

  it('a retry after any step finishes the job once: branch reused, file not committed twice, PR found', async () => {
    const acts = activities({}, { github: true });
    // The file write succeeded but its answer was lost.
    github.failNextContentsPutAfterStoring = 1;
    const first = await acts.openPostmortemPullRequest(prRequest()).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(ApplicationFailure);
    expect((first as ApplicationFailure).nonRetryable).toBe(false);
    expect((first as ApplicationFailure).message).toMatch(/^GitHub postmortem pull request \(put the postmortem file\): HTTP 500/);
    const branch = 'fleetops/postmortem-2025-03-04-alarm-api-5xx-01234567';
    const headAfterFirst = github.branches.get(branch)!.sha;

    // The pull request was opened but its answer was lost.
    github.failNextPullCreateAfterStoring = 1;
    const second = await acts.openPostmortemPullRequest(prRequest()).catch((e: unknown) => e);
    expect((second as ApplicationFailure).nonRetryable).toBe(false);
    expect(github.branches.get(branch)!.sha).toBe(headAfterFirst); // same text: no second commit
    expect(github.pulls).toHaveLength(1);

    const third = await acts.openPostmortemPullRequest(prRequest());
    expect(third).toMatchObject({ created: false, url: github.pulls[0]!.html_url });
    expect(github.pulls).toHaveLength(1);
    expect(github.fileOn(branch, third.path)).toBe(MARKDOWN);
  });

  it('targets the configured repository and base branch; a bad token fails without retry', async () => {
    github.branches.set('postmortems', { sha: github.branches.get('main')!.sha, files: new Map() });
    const config = incidentTestConfig({ postmortemDir: mkdtempSync(join(tmpdir(), 'pm-')), githubApiUrl: github.url, tokenEnv: TOKEN_ENV });
    const withBase = createIncidentActivities(
      { config: { ...config, incidents: { ...config.incidents, github: { ...config.incidents.github!, postmortemBaseBranch: 'postmortems' } } } },
      { [TOKEN_ENV]: 'publish-token' },
    );
    const pr = await withBase.openPostmortemPullRequest(prRequest('2025-03-05-x-1.md'));
    expect(github.pulls.find((p) => p.number === pr.number)?.base.ref).toBe('postmortems');
    expect(github.recorded.some((r) => r.url === '/repos/acme/ops')).toBe(false);

    const bad = createIncidentActivities({ config }, { [TOKEN_ENV]: 'wrong' });
    const err = await bad.openPostmortemPullRequest(prRequest()).catch((e: unknown) => e);
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect((err as ApplicationFailure).message).toMatch(/^GitHub postmortem pull request \(list pull requests\): HTTP 401/);
  });
});
