import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { WorkflowNotFoundError } from '@temporalio/common';
import { SLACK_TIMESTAMP_WINDOW_SECONDS } from './signature';
import { withDeadline, type SlackHandlerContext } from './context';

/**
 * A signed Slack request is valid for five minutes (router/slack/signature.ts): whoever captures one
 * can send it again inside that window, and its signature still verifies. What the router does for a
 * request is therefore made idempotent on a key of the request itself, kept in Temporal, not in this
 * process: several routers run, and any of them may get the copy.
 *
 * The key is a hash of the request's `X-Slack-Signature` and timestamp. A replay is byte for byte the
 * request it copies, so it has the same key; two different requests never do (the signature is an
 * HMAC of the timestamp and the whole body, trigger_id and response_url included). The signature is
 * hashed so nothing stored could be sent back as a signature.
 *
 * How each action uses it:
 *  - declaring an incident: the key is part of the workflow id, started with REJECT_DUPLICATE, so the
 *    copy's start fails with WorkflowExecutionAlreadyStarted (the server's own atomic check).
 *  - incident changes (note, assign, severity, resolve): the key is the Temporal update id; the server
 *    answers a repeated update id with the first outcome and applies nothing twice. Mentions use the
 *    Events API's event_id instead, which Slack's own redeliveries keep (they are signed anew).
 *  - deploys: the id `deploy-<cluster>-<service>` is fixed (one deploy per service), so the key goes
 *    in the run's memo. The copy is recognised by the current run (describe: strongly consistent), by
 *    an earlier run started inside the window (visibility: the copied run is older than the current
 *    one, so it is listed by then), or, when both arrive together, by the start's FAIL conflict policy
 *    letting one through and the other finding the first's key (deployReplayOf).
 */

export const SLACK_REQUEST_MEMO = 'slackRequest';

export function requestKeyOf(headers: IncomingHttpHeaders): string {
  const signature = String(headers['x-slack-signature'] ?? '');
  const timestamp = String(headers['x-slack-request-timestamp'] ?? '');
  return createHash('sha256').update(`${timestamp}:${signature}`).digest('hex').slice(0, 32);
}

/** Whether a deploy run of `workflowId` was started by the request with `key` (a replay of it is then ignored). */
export async function deployReplayOf(ctx: SlackHandlerContext, workflowId: string, key: string): Promise<boolean> {
  try {
    const current = await withDeadline(ctx, () => ctx.temporal.workflow.getHandle(workflowId).describe());
    if (current.memo?.[SLACK_REQUEST_MEMO] === key) return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
  // A minute over the window: the copy may arrive at its very end, after runs that started before it.
  const since = new Date(Date.now() - (SLACK_TIMESTAMP_WINDOW_SECONDS + 60) * 1000).toISOString();
  const runs = ctx.temporal.workflow.list({ query: `WorkflowId = '${workflowId}' AND StartTime >= '${since}'` });
  for await (const run of runs) if (run.memo?.[SLACK_REQUEST_MEMO] === key) return true;
  return false;
}
