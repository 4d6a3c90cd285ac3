import { z } from 'zod';
import { EC2_INSTANCE_ID } from '../../common/aws-ids';
import type { DrainEvent } from '../../contracts/spot-drain/input';
import { ignore, type RouteDecision } from '../routing/decision';
import { drainPlacement, drainSignalWithStart } from '../routing/drain';
import { defineEventKind } from './kind';

/**
 * `aws.health` / `AWS Health Event` ("Reference: AWS Health events Amazon EventBridge schema",
 * https://docs.aws.amazon.com/health/latest/ug/aws-health-events-eventbridge-schema.html). Only EC2
 * scheduled changes (`service` EC2, `eventTypeCategory` scheduledChange: instance retirement, stop,
 * reboot or network maintenance) are acted on; the affected instances are in `affectedEntities`.
 * AWS Health writes `startTime` as an RFC 1123 date ("Sat, 05 Jun 2016 15:10:09 GMT"); ISO 8601 is
 * accepted too.
 */
const httpOrIsoDate = z
  .string()
  .max(64)
  .refine((s) => Number.isFinite(Date.parse(s)), 'must be a date such as "Wed, 10 May 2023 06:10:00 GMT"');

export const healthEvent = defineEventKind({
  kind: 'health-event',
  source: 'aws.health',
  detailType: 'AWS Health Event',
  detail: z.looseObject({
    eventArn: z.string().min(1).max(2048),
    service: z.string().min(1).max(64),
    eventTypeCode: z.string().regex(/^[A-Z0-9_]{1,128}$/, 'must be an AWS Health event type code such as AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED'),
    eventTypeCategory: z.string().min(1).max(64),
    startTime: httpOrIsoDate.optional(),
    endTime: httpOrIsoDate.optional(),
    statusCode: z.string().max(32).optional(),
    affectedEntities: z.array(z.looseObject({ entityValue: z.string().max(2048) })).max(1000).default([]),
  }),
  rule: {
    id: 'HealthScheduledChangeRule',
    does: 'a drain per affected instance (EC2 scheduled changes only)',
    bus: 'default',
    detail: { service: ['EC2'], eventTypeCategory: ['scheduledChange'] },
  },
  /**
   * An EC2 scheduled change (retirement, stop, reboot or network maintenance) drains each affected
   * instance now, replacement first, on the relaxed deadline or before `startTime`, whichever is
   * earlier. Other services and categories, and closed events, are not ours.
   */
  route: ({ envelope, detail }, config, opts) => {
    const what = `${detail.service} ${detail.eventTypeCategory} ${detail.eventTypeCode}`;
    if (detail.service !== 'EC2' || detail.eventTypeCategory !== 'scheduledChange') return ignore(`AWS Health ${what}: only EC2 scheduled changes drain instances`);
    if (detail.statusCode === 'closed') return ignore(`AWS Health ${what} is closed`);
    // affectedEntities names the instances; `resources` repeats them (and is all there is in some samples).
    const instances = [...new Set([...detail.affectedEntities.map((e) => e.entityValue), ...envelope.resources])].filter((v) => EC2_INSTANCE_ID.test(v));
    if (instances.length === 0) return ignore(`AWS Health ${what} names no EC2 instance`);
    const where = drainPlacement(envelope, config);
    if ('ignore' in where) return where.ignore;
    const startMs = detail.startTime ? Date.parse(detail.startTime) : NaN;
    const deadline = Number.isFinite(startMs) ? new Date(startMs).toISOString() : undefined;
    return {
      action: 'each',
      decisions: instances.map((instanceId): RouteDecision => {
        const signal: DrainEvent = { kind: 'scheduled-change', instanceId, eventId: envelope.id, eventTime: envelope.time, ...(deadline ? { deadline } : {}) };
        return drainSignalWithStart(signal, where, opts, { why: `${detail.eventTypeCode}${deadline ? ` at ${deadline}` : ''}` });
      }),
    };
  },
});
