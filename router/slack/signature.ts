import type { IncomingHttpHeaders } from 'node:http';

/**
 * The cheap part of Slack's request signing, checked before the body is read
 * (https://docs.slack.dev/authentication/verifying-requests-from-slack): both headers present, a v0
 * signature of 64 hex digits, and a timestamp within five minutes of now, in either direction (a
 * signed request can be replayed only inside that window). The HMAC itself, which needs the body,
 * is Bolt's (router/slack/app.ts).
 */
export const SLACK_TIMESTAMP_WINDOW_SECONDS = 5 * 60;

export function signatureHeaderProblem(headers: IncomingHttpHeaders, nowMs: number): string | undefined {
  const timestamp = headers['x-slack-request-timestamp'];
  const signature = headers['x-slack-signature'];
  if (typeof timestamp !== 'string' || typeof signature !== 'string') return 'missing Slack signature headers (x-slack-signature, x-slack-request-timestamp)';
  if (!/^\d{1,12}$/.test(timestamp)) return 'x-slack-request-timestamp: not a Unix time in seconds';
  if (Math.abs(Math.floor(nowMs / 1000) - Number(timestamp)) > SLACK_TIMESTAMP_WINDOW_SECONDS) {
    return 'x-slack-request-timestamp: more than five minutes from now (stale or replayed)';
  }
  if (!/^v0=[0-9a-f]{64}$/.test(signature)) return 'x-slack-signature: not a v0 signature';
  return undefined;
}
