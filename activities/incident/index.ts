import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../common/failures';
import type { ActionItem, IncidentPolicy } from '../../common/incident/model';
import type { IncidentSeverity, IncidentTimelineEntry } from '../../common/workflow-inputs';
import type { AutomationKind } from '../../common/workflow-kinds';
import type { ActivityDeps } from '../deps';
import { ACTION_ITEM_LABEL, actionItemMarker, createGitHubIssuesApi, type GitHubIssuesApi } from './github';
import { openAutomationIncident } from './open-from-automation';

/**
 * Incident side effects: the severity policy the workflow runs by, the written postmortem, action
 * items filed as GitHub issues, and opening an incident from another workflow.
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

export function createIncidentActivities(deps: Pick<ActivityDeps, 'config' | 'fetch' | 'temporal'>, env: NodeJS.ProcessEnv = process.env) {
  const incidents = deps.config.incidents;

  /** `token` / `tokenFile` were resolved when the config was loaded; else the env var named by tokenEnv, read now. */
  function githubToken(): string | undefined {
    if (!incidents.github) return undefined;
    return incidents.github.token ?? (env[incidents.github.tokenEnv] || undefined);
  }

  // One client per token, so its throttling (writes spaced out, rate limits waited out) spans activity calls.
  let github: { token: string; api: GitHubIssuesApi } | undefined;
  function githubApi(): GitHubIssuesApi {
    const token = githubToken();
    if (!incidents.github || !token) {
      throw ApplicationFailure.nonRetryable('GitHub filing is not configured (incidents.github and its token: token, tokenFile or the tokenEnv variable)', FailureType.InvalidRequest);
    }
    if (github?.token !== token) {
      github = { token, api: createGitHubIssuesApi({ apiUrl: incidents.github.apiUrl, repo: incidents.github.repo, token, fetch: deps.fetch }) };
    }
    return github.api;
  }

  return {
    /** The severity's checklists and cadences; called once per incident, the result lives in its state. */
    async incidentPolicy(severity: IncidentSeverity): Promise<IncidentPolicy> {
      const chatTimeline = Boolean(deps.config.slack?.botToken && deps.config.slack.channels.incidents);
      return { ...incidents.severities[severity], severity, githubFiling: githubToken() !== undefined, ...(chatTimeline ? { chatTimeline } : {}) };
    },

    /** Writes the document whole (temp file, then rename), so a reader never sees half of it and a retry just rewrites it. */
    async writePostmortem(req: WritePostmortemRequest): Promise<string> {
      if (!/^[A-Za-z0-9._-]+\.md$/.test(req.fileName)) {
        throw ApplicationFailure.nonRetryable(`bad postmortem file name ${JSON.stringify(req.fileName)}`, FailureType.InvalidRequest);
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
      const api = githubApi();
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
