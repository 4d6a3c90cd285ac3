import { ApplicationFailure } from '@temporalio/common';
import { LogLevel, WebAPIHTTPError, WebAPIPlatformError, WebAPIRateLimitedError, WebAPIRequestError, WebClient } from '@slack/web-api';
import { FailureType } from '../../common/failures';
import type { SlackConfig } from '../../config/schema';

/**
 * The Slack Web API client (@slack/web-api) as fleetops uses it, in activities and in the router:
 * one attempt per call and rate limits rejected rather than waited out inside the client, so Temporal
 * does the retrying (an activity's retry policy, a rate limit's Retry-After as the next retry's delay).
 * `slack.apiUrl` is the client's slackApiUrl: Slack itself, or the local stack's stand-in.
 */

const REQUEST_TIMEOUT_MS = 10_000;

export function createSlackClient(slack: Pick<SlackConfig, 'botToken' | 'apiUrl'>, opts: { fetch?: typeof fetch } = {}): WebClient {
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

/** Slack error codes a retry of the same call cannot fix (config, permissions, a bad request). */
const PERMANENT_ERRORS = new Set([
  'not_authed',
  'invalid_auth',
  'account_inactive',
  'token_revoked',
  'missing_scope',
  'no_permission',
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'invalid_blocks',
  'invalid_blocks_format',
  'no_text',
  'msg_too_long',
  'invalid_arguments',
  'invalid_metadata_format',
  'cant_update_message',
  'message_not_found',
  'user_not_in_channel',
  'no_such_subteam',
  'thread_not_found',
  'unknown_method',
]);

/** The ApplicationFailure a failed Slack call becomes, classified once for every chat activity. */
export function slackFailure(err: unknown, what: string): ApplicationFailure {
  if (err instanceof WebAPIRateLimitedError) {
    return ApplicationFailure.create({
      message: `Slack ${what}: rate limited, retry after ${err.retryAfter} s`,
      type: FailureType.AwsThrottled,
      nonRetryable: false,
      nextRetryDelay: `${Math.max(1, err.retryAfter)}s`,
    });
  }
  if (err instanceof WebAPIPlatformError) {
    const code = err.data.error;
    const message = `Slack ${what}: ${code}`;
    return PERMANENT_ERRORS.has(code)
      ? ApplicationFailure.nonRetryable(message, FailureType.InvalidRequest)
      : ApplicationFailure.retryable(message, FailureType.AwsUnavailable);
  }
  if (err instanceof WebAPIHTTPError) {
    const message = `Slack ${what}: HTTP ${err.statusCode}`;
    return err.statusCode >= 500 || err.statusCode === 429
      ? ApplicationFailure.retryable(message, FailureType.AwsUnavailable)
      : ApplicationFailure.nonRetryable(message, FailureType.InvalidRequest);
  }
  if (err instanceof WebAPIRequestError) {
    return ApplicationFailure.retryable(`Slack ${what}: ${err.original?.message ?? err.message}`.slice(0, 300), FailureType.AwsNetwork);
  }
  return ApplicationFailure.retryable(`Slack ${what}: ${err instanceof Error ? err.message : String(err)}`.slice(0, 300), FailureType.AwsNetwork);
}
