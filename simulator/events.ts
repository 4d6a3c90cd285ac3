import { randomUUID } from 'node:crypto';
import type { Logger } from '../common/logger';

/**
 * Events AWS itself publishes to EventBridge (interruption warnings, rebalance recommendations,
 * lifecycle actions, alarm state changes...), published by the simulator's behaviours the way AWS
 * does: `PutEvents` on the region's default event bus, where the account's rules (the AWS-side kit
 * in deploy/aws/) decide what reaches the events queue. Every published event is also recorded, so
 * tests can see what AWS would have sent (`GET /_sim/events`) even where no rule delivers it.
 *
 * Follows "Amazon EventBridge events" and "Events from AWS services"
 * (https://docs.aws.amazon.com/eventbridge/latest/ref/events.html,
 * https://docs.aws.amazon.com/eventbridge/latest/ref/events-structure.html): an envelope of
 * `version` "0", a unique `id`, `detail-type`, `source`, `account`, `time` (UTC, seconds), `region`,
 * `resources` and `detail`. PutEvents cannot set `id`, `account` or `version` (EventBridge assigns
 * them); the recorded envelope shows what the bus delivers, with the id moto assigned.
 */

export interface AwsEventInput {
  source: string;
  detailType: string;
  detail: Record<string, unknown>;
  resources?: string[];
  /** Defaults to now. */
  time?: Date;
  region?: string;
  /** The account whose default bus it is published on (a member account); moto's default account when unset. */
  account?: string;
  /** The bus, when not the default one: fleetops' own events go to the kit's command bus (stack.json aws.commandBusName). */
  eventBusName?: string;
}

export interface PublishedEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
  /** False while PutEvents is on its way, and when the bus refused it (recorded anyway, with the reason). */
  delivered: boolean;
  error?: string;
}

/** moto's default account (its docs: "Account ID ... 123456789012 by default"). */
export const DEFAULT_ACCOUNT = '123456789012';

export interface EventPublisher {
  publish(event: AwsEventInput): Promise<PublishedEvent>;
  published(): readonly PublishedEvent[];
  clear(): void;
}

/** EventBridge's `time`: ISO 8601 in UTC without fractional seconds. */
export const eventTime = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export function createEventPublisher(opts: { motoUrl: string; log: Logger; maxRecorded?: number }): EventPublisher {
  const recorded: PublishedEvent[] = [];
  const max = opts.maxRecorded ?? 10_000;
  return {
    async publish(input) {
      const region = input.region ?? 'us-east-1';
      const time = input.time ?? new Date();
      const entry = {
        Source: input.source,
        DetailType: input.detailType,
        Detail: JSON.stringify(input.detail),
        Resources: input.resources ?? [],
        Time: Math.floor(time.getTime() / 1000),
        EventBusName: input.eventBusName ?? 'default',
      };
      const event: PublishedEvent = {
        version: '0',
        id: randomUUID(),
        'detail-type': input.detailType,
        source: input.source,
        account: input.account ?? DEFAULT_ACCOUNT,
        time: eventTime(time),
        region,
        resources: input.resources ?? [],
        detail: input.detail,
        delivered: false,
      };
      // Recorded when published, in publishing order, so a reader never misses an event whose
      // PutEvents is still on its way (behaviours publish without waiting); delivery fills in after.
      recorded.push(event);
      if (recorded.length > max) recorded.splice(0, recorded.length - max);
      try {
        // The JSON 1.1 protocol straight to moto (not through the simulator: AWS's own publishing is
        // never throttled by the account's API limits). The credential scope names the region.
        const res = await fetch(opts.motoUrl, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-amz-json-1.1',
            'x-amz-target': 'AWSEvents.PutEvents',
            authorization: `AWS4-HMAC-SHA256 Credential=fleetops/20260101/${region}/events/aws4_request, SignedHeaders=host, Signature=0`,
            // moto's way to act in another account (what AWS does for the account the event happens in).
            ...(input.account ? { 'x-moto-account-id': input.account } : {}),
          },
          body: JSON.stringify({ Entries: [entry] }),
        });
        const body = (await res.json().catch(() => ({}))) as { FailedEntryCount?: number; Entries?: { EventId?: string; ErrorMessage?: string }[] };
        const result = body.Entries?.[0];
        if (!res.ok || (body.FailedEntryCount ?? 0) > 0) {
          event.error = result?.ErrorMessage ?? `PutEvents answered HTTP ${res.status}`;
        } else {
          event.delivered = true;
          if (result?.EventId) event.id = result.EventId;
        }
      } catch (err) {
        event.error = err instanceof Error ? err.message : String(err);
      }
      if (event.error) opts.log.warn({ source: event.source, detailType: event['detail-type'], error: event.error }, 'event not published');
      return event;
    },
    published: () => recorded,
    clear: () => void (recorded.length = 0),
  };
}
