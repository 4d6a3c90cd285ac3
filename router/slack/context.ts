import type { WebClient } from '@slack/web-api';
import type { Client } from '@temporalio/client';
import { workflowUiLink } from '../../activities/notifications';
import type { Logger } from '../../common/logger';
import type { FleetopsConfig, SlackConfig } from '../../config/schema';
import { toCliError } from '../../cli/errors';

/** What the Slack app's handlers work with: config, a Temporal client, the Web API client, a log. */
export interface SlackHandlerContext {
  config: FleetopsConfig;
  slack: SlackConfig;
  temporal: Client;
  /** Undefined without a bot token: nothing can be posted or updated, answers go through response_url. */
  web: WebClient | undefined;
  log: Logger;
  /** Deadline of one Temporal call made while answering (a query, an update). */
  callTimeoutMs: number;
}

export function uiLink(ctx: SlackHandlerContext, workflowId: string): string {
  return workflowUiLink(ctx.config.temporal.uiUrl, ctx.config.temporal.namespace, workflowId);
}

/** Runs a Temporal call with the handler deadline. */
export function withDeadline<T>(ctx: SlackHandlerContext, fn: () => Promise<T>): Promise<T> {
  return ctx.temporal.connection.withDeadline(Date.now() + ctx.callTimeoutMs, fn);
}

/** What a user is told when a Temporal call fails: the CLI's wording (not found, rejected: <why>, no answer in time). */
export function explain(err: unknown, workflowId?: string): string {
  const known = toCliError(err, workflowId);
  if (known) return known.message;
  return `failed: ${err instanceof Error ? err.message : String(err)}`.slice(0, 500);
}
