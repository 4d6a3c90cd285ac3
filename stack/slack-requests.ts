import { createHmac } from 'node:crypto';

/**
 * Requests as Slack sends them to an app's request URL, signed as Slack signs them
 * (https://docs.slack.dev/authentication/verifying-requests-from-slack): for tests and for trying the
 * local stack's Slack app without a workspace. Payload shapes follow
 * https://docs.slack.dev/interactivity/implementing-slash-commands (form fields),
 * https://docs.slack.dev/reference/interaction-payloads/block_actions-payload (`payload=<json>`) and
 * https://docs.slack.dev/apis/events-api/ (`event_callback` JSON).
 */

export function slackSignature(signingSecret: string, timestamp: string, body: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export interface SignedRequest {
  headers: Record<string, string>;
  body: string;
}

export function signed(signingSecret: string, body: string, contentType: string, atMs = Date.now()): SignedRequest {
  const timestamp = String(Math.floor(atMs / 1000));
  return {
    body,
    headers: { 'content-type': contentType, 'x-slack-request-timestamp': timestamp, 'x-slack-signature': slackSignature(signingSecret, timestamp, body) },
  };
}

export const TEAM = { id: 'T0FLEETOPS', domain: 'fleetops-local' };

/** The workspace a request comes from: this app's (TEAM) unless a test says otherwise. */
export interface Workspace {
  id: string;
  domain: string;
}

export function slashCommandBody(c: { text: string; userId: string; channelId: string; responseUrl: string; command?: string; team?: Workspace }): string {
  const team = c.team ?? TEAM;
  return new URLSearchParams({
    token: 'deprecated-verification-token',
    team_id: team.id,
    team_domain: team.domain,
    channel_id: c.channelId,
    channel_name: 'ops',
    user_id: c.userId,
    user_name: c.userId.toLowerCase(),
    command: c.command ?? '/fleetops',
    text: c.text,
    api_app_id: 'A0FLEETOPS',
    response_url: c.responseUrl,
    trigger_id: `${Date.now()}.${Math.floor(Math.random() * 1e9)}.0123456789abcdef`,
  }).toString();
}

/** A click on a button of a message the app posted (`block_actions`). */
export function blockActionsBody(c: {
  userId: string;
  channelId: string;
  messageTs: string;
  threadTs?: string;
  actionId: string;
  value: string;
  responseUrl: string;
  team?: Workspace;
}): string {
  const team = c.team ?? TEAM;
  const payload = {
    type: 'block_actions',
    user: { id: c.userId, username: c.userId.toLowerCase(), team_id: team.id },
    api_app_id: 'A0FLEETOPS',
    token: 'deprecated-verification-token',
    container: { type: 'message', message_ts: c.messageTs, channel_id: c.channelId, is_ephemeral: false, ...(c.threadTs ? { thread_ts: c.threadTs } : {}) },
    trigger_id: `${Date.now()}.${Math.floor(Math.random() * 1e9)}.0123456789abcdef`,
    team: { id: team.id, domain: team.domain },
    channel: { id: c.channelId, name: 'deploys' },
    message: { type: 'message', ts: c.messageTs, ...(c.threadTs ? { thread_ts: c.threadTs } : {}), text: '', bot_id: 'B0FLEETOPS' },
    response_url: c.responseUrl,
    actions: [{ type: 'button', action_id: c.actionId, block_id: 'fleetops_gate', value: c.value, action_ts: String(Date.now() / 1000) }],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** An `app_mention` event delivered through the Events API. */
export function appMentionBody(c: { userId: string; channelId: string; text: string; ts: string; threadTs?: string; eventId?: string; team?: Workspace }): string {
  const team = c.team ?? TEAM;
  return JSON.stringify({
    token: 'deprecated-verification-token',
    team_id: team.id,
    api_app_id: 'A0FLEETOPS',
    type: 'event_callback',
    event_id: c.eventId ?? `Ev${Date.now().toString(36).toUpperCase()}${Math.floor(Math.random() * 1e6)}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ team_id: team.id, user_id: 'U0FLEETOPS', is_bot: true }],
    event: {
      type: 'app_mention',
      user: c.userId,
      text: c.text,
      ts: c.ts,
      channel: c.channelId,
      event_ts: c.ts,
      ...(c.threadTs ? { thread_ts: c.threadTs } : {}),
    },
  });
}
