import { createHash } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../common/failures';
import type { ActionItem, PageRequest, PreviousIncident } from '../../common/incident/model';
import type { IncidentPolicy } from '../../config/incident-policy';
import type { IncidentSeverity, IncidentTimelineEntry } from '../../contracts/incident/input';
import type { AutomationKind } from '../../common/workflow-kinds';
import type { AwsClients } from '../aws/clients';
import { awsCall } from '../aws/errors';
import type { ActivityDeps } from '../deps';
import { workflowUiLink } from '../../common/ui-links';
import { ACTION_ITEM_LABEL, actionItemMarker, createGitHubClient, createGitHubIssuesApi, type GitHubClient } from './github';
import { openAutomationIncident } from './open-from-automation';
import { createPagerDutyEvents, type PageResult } from './pagerduty';
import { findPreviousIncident } from './previous';
import { createPostmortemPullRequestApi, type PostmortemPullRequest, type PostmortemPullRequestInput } from './pull-request';

/**
 * Incident side effects: the severity policy the workflow runs by, the postmortem stored (S3) and
 * proposed as a pull request, action items filed as GitHub issues, PagerDuty events, the previous
 * occurrence of a recurring incident, and opening an incident from another workflow.
 */

export interface FileActionItemsRequest {
  incidentKey: string;
  workflowId: string;
  incidentTitle: string;
  severity: IncidentSeverity;
  items: ActionItem[];
}

export interface FileActionItemsResult {
  /** Action item id → issue URL, for every item asked about. */
  links: Record<string, string>;
  created: string[];
  alreadyFiled: string[];
}

export interface WritePostmortemRequest {
  fileName: string;
  markdown: string;
}

export interface AutomationIncidentRequest {
  title: string;
  severity: IncidentSeverity;
  summary?: string;
  origin: { workflowId: string; workflowKind: AutomationKind };
  /** Same key, same incident, facts recorded once: e.g. `<drain workflow id>/<run id>/deadline-missed`. */
  key: string;
  entries: IncidentTimelineEntry[];
}

/** S3 is only needed when incidents.postmortemBucket is set, so tests of the other activities pass none. */
export type IncidentActivityDeps = Pick<ActivityDeps, 'config' | 'fetch' | 'temporal'> & { aws?: Pick<AwsClients, 's3'> };

export function createIncidentActivities(deps: IncidentActivityDeps, env: NodeJS.ProcessEnv = process.env) {
  const incidents = deps.config.incidents;
  const pagerduty = incidents.pagerduty
    ? createPagerDutyEvents({
        routingKey: incidents.pagerduty.routingKey,
        eventsUrl: incidents.pagerduty.eventsUrl,
        fetch: deps.fetch,
        incidentUrl: (workflowId) => workflowUiLink(deps.config.temporal.uiUrl, deps.config.temporal.namespace, workflowId),
      })
    : undefined;

  /** `token` / `tokenFile` were resolved when the config was loaded; else the env var named by tokenEnv, read now. */
  function githubToken(): string | undefined {
    if (!incidents.github) return undefined;
    return incidents.github.token ?? (env[incidents.github.tokenEnv] || undefined);
  }

  // One client per token, so its throttling (writes spaced out, rate limits waited out) spans activity calls.
  let github: { token: string; octokit: GitHubClient } | undefined;
  function githubClient(): { octokit: GitHubClient; config: NonNullable<typeof incidents.github> } {
    const token = githubToken();
    if (!incidents.github || !token) {
      throw ApplicationFailure.nonRetryable('GitHub filing is not configured (incidents.github and its token: token, tokenFile or the tokenEnv variable)', FailureType.InvalidRequest);
    }
    if (github?.token !== token) github = { token, octokit: createGitHubClient({ apiUrl: incidents.github.apiUrl, token, fetch: deps.fetch }) };
    return { octokit: github.octokit, config: incidents.github };
  }

  return {
    /** The severity's checklists and cadences; called once per incident, the result lives in its state. */
    async incidentPolicy(severity: IncidentSeverity): Promise<IncidentPolicy> {
      const paging = incidents.pagerduty?.severities.includes(severity) === true;
      const chatTimeline = Boolean(deps.config.slack?.botToken && deps.config.slack.channels.incidents);
      return {
        ...incidents.severities[severity],
        severity,
        githubFiling: githubToken() !== undefined,
        ...(paging ? { paging } : {}),
        ...(chatTimeline ? { chatTimeline } : {}),
      };
    },

    /**
     * Stores the document whole: in S3 (`s3://<postmortemBucket>/<postmortemPrefix><fileName>`) when a
     * bucket is configured, else in postmortemDir (temp file, then rename). Either way a retry just
     * writes the same bytes to the same place again. Returns where it went.
     */
    async writePostmortem(req: WritePostmortemRequest): Promise<string> {
      if (!/^[A-Za-z0-9._-]+\.md$/.test(req.fileName)) {
        throw ApplicationFailure.nonRetryable(`bad postmortem file name ${JSON.stringify(req.fileName)}`, FailureType.InvalidRequest);
      }
      if (incidents.postmortemBucket) {
        if (!deps.aws) throw ApplicationFailure.nonRetryable('incidents.postmortemBucket is set but this worker has no S3 client', FailureType.InvalidRequest);
        const s3 = deps.aws.s3;
        const key = `${incidents.postmortemPrefix}${req.fileName}`;
        const body = Buffer.from(req.markdown, 'utf8');
        await awsCall('s3:PutObject', () =>
          s3.send(
            new PutObjectCommand({
              Bucket: incidents.postmortemBucket,
              Key: key,
              Body: body,
              ContentType: 'text/markdown; charset=utf-8',
              // S3 rejects the upload if the bytes it received differ from these.
              ContentMD5: createHash('md5').update(body).digest('base64'),
            }),
          ),
        );
        return `s3://${incidents.postmortemBucket}/${key}`;
      }
      const dir = resolve(incidents.postmortemDir);
      await mkdir(dir, { recursive: true });
      const path = join(dir, req.fileName);
      const tmp = `${path}.${process.pid}.tmp`;
      await writeFile(tmp, req.markdown, 'utf8');
      await rename(tmp, path);
      return path;
    },

    /**
     * Files each action item as an issue unless one carrying its marker exists, so a retry after a
     * lost completion (or a second check) files nothing twice.
     */
    async fileActionItems(req: FileActionItemsRequest): Promise<FileActionItemsResult> {
      const { octokit, config } = githubClient();
      const api = createGitHubIssuesApi(octokit, config.repo);
      const existing = await api.listLabelled(ACTION_ITEM_LABEL);
      const result: FileActionItemsResult = { links: {}, created: [], alreadyFiled: [] };
      for (const item of req.items) {
        const marker = actionItemMarker(req.incidentKey, item.id);
        const found = existing.find((i) => i.body?.includes(marker));
        if (found) {
          result.links[item.id] = found.html_url;
          result.alreadyFiled.push(item.id);
          continue;
        }
        const created = await api.create({
          title: `[${req.severity}] ${item.text}`.slice(0, 256),
          labels: [ACTION_ITEM_LABEL, `action-${item.type}`],
          body: [
            `Action item ${item.id} (${item.type}) from the postmortem of **${req.incidentTitle}** (${req.severity}).`,
            '',
            item.text,
            '',
            `Owner: ${item.owner}`,
            `Incident workflow: \`${req.workflowId}\``,
            '',
            marker,
          ].join('\n'),
        });
        result.links[item.id] = created.html_url;
        result.created.push(item.id);
      }
      return result;
    },

    /** Opens (or finds, on a retry) the pull request adding the postmortem to incidents.github.postmortemRepo. */
    async openPostmortemPullRequest(req: PostmortemPullRequestInput): Promise<PostmortemPullRequest> {
      const { octokit, config } = githubClient();
      return createPostmortemPullRequestApi(octokit, { repo: config.postmortemRepo, baseBranch: config.postmortemBaseBranch }).open(req);
    },

    /** One PagerDuty Events API v2 event; the workflow only asks when incidents.pagerduty pages its severity. */
    async sendPage(page: PageRequest): Promise<PageResult> {
      if (!pagerduty) throw ApplicationFailure.nonRetryable('PagerDuty is not configured (incidents.pagerduty)', FailureType.InvalidRequest);
      return pagerduty.send(page);
    },

    /** The closed incident this one recurs (same workflow id, an earlier run), or null. */
    async previousIncident(req: { workflowId: string; runId: string }): Promise<PreviousIncident | null> {
      const client = deps.temporal?.client ?? Context.current().client;
      return findPreviousIncident(client, req);
    },

    /**
     * Opens an incident for another workflow (signal-with-start), facts first on its timeline. A
     * retry lands on the same incident id and the facts' key makes the incident record them once.
     */
    async openIncidentFromAutomation(req: AutomationIncidentRequest): Promise<{ workflowId: string }> {
      // Injected in tests; in the worker, the activity context's client (the worker's own connection).
      const client = deps.temporal?.client ?? Context.current().client;
      return openAutomationIncident(client.workflow, {
        title: req.title,
        severity: req.severity,
        ...(req.summary ? { summary: req.summary } : {}),
        origin: req.origin,
        key: req.key,
        entries: req.entries,
      });
    },
  };
}

export type IncidentActivities = ReturnType<typeof createIncidentActivities>;
