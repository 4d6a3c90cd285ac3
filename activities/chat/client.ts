import { ApplicationFailure } from '@temporalio/common';
import { WebAPIHTTPError, WebAPIPlatformError, WebAPIRateLimitedError, WebAPIRequestError } from '@slack/web-api';
import { FailureType } from '../../common/failures';

/**
 * How a failed Slack Web API call (through common/slack/client.ts, which never retries on its own)
 * becomes an activity failure, so Temporal's retry policy does the retrying.
 */

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
