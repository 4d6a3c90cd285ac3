import { z } from 'zod';

/**
 * The EventBridge event envelope (AWS "Amazon EventBridge events" reference). Fields AWS may add later
 * (`replay-name`, ...) are kept, not rejected; the ones the router reads are checked strictly because
 * they end up in workflow ids, request ids and search attributes.
 */
export const EVENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export const envelopeSchema = z.looseObject({
  version: z.string().min(1).max(16),
  id: z.string().regex(EVENT_ID_PATTERN, 'must be an event id: letters, digits, ".", "_", ":" or "-", at most 128'),
  'detail-type': z.string().min(1).max(128),
  source: z.string().min(1).max(256),
  account: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id'),
  time: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 timestamp such as 2024-05-01T12:00:00Z' }),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as us-east-1'),
  resources: z.array(z.string().max(2048)).max(100),
  detail: z.record(z.string(), z.unknown()),
});

export type EventEnvelope = z.infer<typeof envelopeSchema>;

export const detailTypesOf = (def: { detailType: string | readonly string[] }): readonly string[] =>
  typeof def.detailType === 'string' ? [def.detailType] : def.detailType;
