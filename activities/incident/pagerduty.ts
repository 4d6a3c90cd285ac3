import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { FailureType } from '../../common/failures';
import type { PageRequest } from '../../common/incident/model';
import type { IncidentSeverity } from '../../common/incident/severity';

/**
 * PagerDuty Events API v2 (`POST /v2/enqueue`), a small typed call: the official JavaScript client
 * (@pagerduty/pdjs) has had no release in years and brings its own fetch polyfill, so this is plain
 * fetch with the request and answer shapes PagerDuty documents:
 *  - body: `routing_key`, `event_action` (trigger | acknowledge | resolve), `dedup_key` (≤ 255
 *    characters; here the incident's workflow id, so acknowledge and resolve find the alert trigger
 *    opened, and a repeated trigger joins it); a trigger adds `payload` { summary (≤ 1,024), source,
 *    severity (critical | error | warning | info), timestamp, component, class, custom_details },
 *    `client`, `client_url` and `links`;
 *  - answer: 202 { status: "success", message, dedup_key }; 400 an invalid event (not retried);
 *    429 too many events (retried, after Retry-After when given); 5xx retried.
 * The routing key is a credential: it is never logged and never part of an error message.
 */

/** fleetops severities in PagerDuty's terms. */
export const PAGERDUTY_SEVERITY: Record<IncidentSeverity, 'critical' | 'error' | 'warning' | 'info'> = {
  sev1: 'critical',
  sev2: 'error',
  sev3: 'warning',
  sev4: 'info',
};

const acceptedSchema = z.object({ status: z.literal('success'), message: z.string().optional(), dedup_key: z.string() });
const rejectedSchema = z.object({ status: z.string().optional(), message: z.string().optional(), errors: z.array(z.string()).optional() }).partial();

export interface PagerDutyOptions {
  routingKey: string;
  eventsUrl: string;
  fetch?: typeof fetch;
  /** The incident's page in the Temporal Web UI, for `client_url` and `links`. */
  incidentUrl: (workflowId: string) => string;
}

export interface PageResult {
  dedupKey: string;
  message?: string;
}

export function createPagerDutyEvents(opts: PagerDutyOptions) {
  const doFetch = opts.fetch ?? fetch;

  function bodyOf(page: PageRequest): Record<string, unknown> {
    const common = { routing_key: opts.routingKey, event_action: page.action, dedup_key: page.dedupKey.slice(0, 255) };
    if (page.action !== 'trigger') return common;
    const url = opts.incidentUrl(page.workflowId);
    return {
      ...common,
      payload: {
        summary: (page.summary ?? page.workflowId).slice(0, 1024),
        source: page.source ?? 'fleetops',
        severity: PAGERDUTY_SEVERITY[page.severity ?? 'sev2'],
        timestamp: new Date().toISOString(),
        component: 'fleetops',
        class: 'incident',
        custom_details: { workflowId: page.workflowId, severity: page.severity },
      },
      client: 'fleetops',
      client_url: url,
      links: [{ href: url, text: `fleetops incident ${page.workflowId}` }],
    };
  }

  return {
    async send(page: PageRequest): Promise<PageResult> {
      let res: Response;
      try {
        res = await doFetch(opts.eventsUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify(bodyOf(page)),
          signal: AbortSignal.timeout(10_000),
        });
      } catch (err) {
        throw ApplicationFailure.retryable(`PagerDuty ${page.action}: ${(err as Error).message}`, FailureType.AwsNetwork);
      }
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      if (res.status === 202) {
        const ok = acceptedSchema.safeParse(json);
        if (!ok.success) throw ApplicationFailure.retryable(`PagerDuty ${page.action}: HTTP 202 with an unexpected body`, FailureType.AwsUnavailable);
        return { dedupKey: ok.data.dedup_key, ...(ok.data.message ? { message: ok.data.message } : {}) };
      }
      const rejected = rejectedSchema.safeParse(json);
      const detail = rejected.success ? [rejected.data.message, ...(rejected.data.errors ?? [])].filter(Boolean).join('; ').slice(0, 300) : '';
      const message = `PagerDuty ${page.action}: HTTP ${res.status}${detail ? ` ${detail}` : ''}`;
      if (res.status === 429 || res.status >= 500) {
        const retryAfter = Number(res.headers.get('retry-after'));
        throw ApplicationFailure.create({
          message,
          type: FailureType.AwsUnavailable,
          nonRetryable: false,
          ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { nextRetryDelay: `${retryAfter}s` } : {}),
        });
      }
      throw ApplicationFailure.nonRetryable(message, FailureType.InvalidRequest);
    },
  };
}

export type PagerDutyEvents = ReturnType<typeof createPagerDutyEvents>;
