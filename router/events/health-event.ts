import { z } from 'zod';
import { defineEventKind } from './envelope';

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
});
