import type { WebClient } from '@slack/web-api';
import type { Client } from '@temporalio/client';
import { workflowUiLink } from '../../common/ui-links';
import type { Logger } from '../../common/logger';
import { explainTemporalError } from '../../common/temporal-errors';
import type { FleetopsConfig, SlackConfig } from '../../config/schema';

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

/** What a user is told when a Temporal call fails: the CLI's wording (common/temporal-errors.ts). */
export function explain(err: unknown, workflowId?: string): string {
  const known = explainTemporalError(err, workflowId);
  if (known) return known.message;
  return `failed: ${err instanceof Error ? err.message : String(err)}`.slice(0, 500);
}
