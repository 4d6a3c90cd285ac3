import { LogLevel, WebClient } from '@slack/web-api';

/**
 * The Slack Web API client (@slack/web-api) as fleetops uses it, in activities and in the router:
 * one attempt per call and rate limits rejected rather than waited out inside the client, so Temporal
 * does the retrying (an activity's retry policy, a rate limit's Retry-After as the next retry's delay;
 * activities/chat/client.ts classifies the errors). `slack.apiUrl` is the client's slackApiUrl: Slack
 * itself, or the local stack's stand-in.
 */

const REQUEST_TIMEOUT_MS = 10_000;

/** `slack` is the config's `slack` section (its bot token and Web API URL); common/ does not import config/. */
export function createSlackClient(slack: { botToken?: string | undefined; apiUrl: string }, opts: { fetch?: typeof fetch } = {}): WebClient {
  return new WebClient(slack.botToken, {
    slackApiUrl: slack.apiUrl.endsWith('/') ? slack.apiUrl : `${slack.apiUrl}/`,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: REQUEST_TIMEOUT_MS,
    // A method name is never an absolute URL here; refuse one rather than send the token elsewhere.
    allowAbsoluteUrls: false,
    logLevel: LogLevel.ERROR,
    ...(opts.fetch ? { fetch: opts.fetch as never } : {}),
  });
}
