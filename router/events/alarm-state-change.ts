import { z } from 'zod';
import { defineEventKind } from './envelope';

const alarmState = z.looseObject({
  value: z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']),
  reason: z.string().max(4096).default(''),
  timestamp: z.string().max(64).optional(),
});

/** `aws.cloudwatch` / `CloudWatch Alarm State Change`: sent on every transition, not while a state lasts. */
export const alarmStateChange = defineEventKind({
  kind: 'alarm-state-change',
  source: 'aws.cloudwatch',
  detailType: 'CloudWatch Alarm State Change',
  detail: z.looseObject({
    alarmName: z.string().min(1).max(255),
    state: alarmState,
    previousState: alarmState.optional(),
  }),
});
