import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ChatThread, DeployChatFacts } from '../common/chat';
import { FailureType } from '../common/failures';
import type { FleetopsKindValue } from '../common/search-attributes';
import { workflowUiLink } from '../common/ui-links';
import { createChatPoster } from './chat/post';
import type { ActivityDeps } from './deps';

/**
 * Slack-compatible webhook notifications, sent from an activity so a failed send is retried durably.
 *
 * Each notification carries an idempotency key chosen by the workflow (e.g. `<workflowId>/phase/<n>`).
 * The key goes out as the `Idempotency-Key` header for receivers that honour it, and the worker keeps
 * the keys it has delivered, so an activity retry after a send that succeeded (but whose completion
 * was lost) does not post again from the same worker.
 *
 * With `slack` configured (bot token and a channel for the kind), the same notification also goes to
 * Slack through the Web API, as one thread per workflow run (activities/chat/post.ts): the workflow
 * hands back the `chat` thread the previous notification returned.
 */
export interface Notification {
  kind: FleetopsKindValue;
  workflowId: string;
  /** Short headline, e.g. "deploy demo/web: rolled back". */
  title: string;
  text: string;
  idempotencyKey: string;
  /** Extra fields shown as `key: value` lines. */
  fields?: Record<string, string>;
  /** The chat thread an earlier notification of this run returned; the first one starts it. */
  chat?: ChatThread;
  /** Detail for the chat thread only (a role change, a checklist item), not for webhooks. */
  chatOnly?: boolean;
  /** A deploy's phase change: its chat thread shows the phase, and a gate gets Approve and Abort buttons. */
  deploy?: DeployChatFacts;
}

export interface NotifyResult {
  sent: string[];
  skipped: string[];
  /** The chat thread to hand back with the next notification (unset when chat is off for this kind). */
  chat?: ChatThread;
}

/** The workflow run the current activity belongs to, when running as one (a unit test may call directly). */
function currentRunId(): string | undefined {
  try {
    return Context.current().info.workflowExecution?.runId;
  } catch {
    return undefined;
  }
}

const DELIVERED_LIMIT = 10_000;

export function createNotificationActivities(deps: ActivityDeps) {
  const delivered = new Set<string>();
  const doFetch = deps.fetch ?? fetch;
  const chat = createChatPoster(deps.config.slack, deps.fetch ? { fetch: deps.fetch } : {});

  function remember(key: string): void {
    delivered.add(key);
    if (delivered.size > DELIVERED_LIMIT) {
      const oldest = delivered.values().next().value;
      if (oldest !== undefined) delivered.delete(oldest);
    }
  }

  return {
    async notify(n: Notification): Promise<NotifyResult> {
      const hooks = n.chatOnly ? [] : deps.config.notifications.webhooks.filter((h) => !h.kinds || h.kinds.includes(n.kind));
      const link = workflowUiLink(deps.config.temporal.uiUrl, deps.config.temporal.namespace, n.workflowId);
      const lines = [
        `*${n.title}*`,
        n.text,
        ...Object.entries(n.fields ?? {}).map(([k, v]) => `${k}: ${v}`),
        `<${link}|${n.workflowId}>`,
      ];
      const body = JSON.stringify({ text: lines.filter(Boolean).join('\n') });
      const result: NotifyResult = { sent: [], skipped: [] };
      for (const hook of hooks) {
        const key = `${n.idempotencyKey}@${hook.name}`;
        if (delivered.has(key)) {
          result.skipped.push(hook.name);
          continue;
        }
        let res: Response;
        try {
          res = await doFetch(hook.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'idempotency-key': key },
            body,
            signal: AbortSignal.timeout(10_000),
          });
        } catch (err) {
          throw ApplicationFailure.retryable(`webhook ${hook.name}: ${(err as Error).message}`, FailureType.AwsNetwork);
        }
        if (res.status >= 500 || res.status === 429) {
          throw ApplicationFailure.retryable(`webhook ${hook.name}: HTTP ${res.status}`, FailureType.AwsUnavailable);
        }
        if (!res.ok) {
          throw ApplicationFailure.nonRetryable(`webhook ${hook.name}: HTTP ${res.status}`, FailureType.InvalidRequest);
        }
        remember(key);
        result.sent.push(hook.name);
      }
      if (chat.enabled(n.kind)) {
        const thread = await chat.post(n, { workflowId: n.workflowId, runId: currentRunId(), link: { url: link, label: n.workflowId } });
        if (thread) result.chat = thread;
        result.sent.push('slack');
      } else if (n.chat) {
        result.chat = n.chat;
      }
      return result;
    },
  };
}

export type NotificationActivities = ReturnType<typeof createNotificationActivities>;
