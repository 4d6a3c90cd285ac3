import type { z } from 'zod';
import { formatPath } from '../../config/load';
import { alarmStateChange } from './alarm-state-change';
import { deployRequested } from './deploy-requested';
import { ecsDeploymentStateChange } from './ecs-deployment-state-change';
import { ecsServiceAction } from './ecs-service-action';
import { detailTypesOf, envelopeSchema, type EventEnvelope } from './envelope';
import type { EventKindDefinition } from './kind';
import { healthEvent } from './health-event';
import { incidentDeclared } from './incident-declared';
import { instanceStateChange } from './instance-state-change';
import { lifecycleLaunch } from './lifecycle-launch';
import { lifecycleTerminate } from './lifecycle-terminate';
import { lifecycleTestNotification } from './lifecycle-test-notification';
import { rebalanceRecommendation } from './rebalance-recommendation';
import { releaseRequested } from './release-requested';
import { spotInterruptionWarning } from './spot-interruption-warning';

/**
 * Every event kind the router understands (each file defines a kind whole: parser, route, EventBridge
 * rule); anything else is `unknown` and ends `ignored`. Where two kinds share a source and
 * detail-type, the first whose `when` accepts the detail claims the event. The order is also the
 * order of the rules in the kit's templates (`make kit`).
 */
export const EVENT_KINDS = [
  spotInterruptionWarning,
  rebalanceRecommendation,
  instanceStateChange,
  healthEvent,
  lifecycleTestNotification,
  lifecycleTerminate,
  lifecycleLaunch,
  alarmStateChange,
  ecsDeploymentStateChange,
  ecsServiceAction,
  deployRequested,
  incidentDeclared,
  releaseRequested,
] as const;

type ParsedOf<T> = T extends EventKindDefinition<infer K, infer D> ? { kind: K; envelope: EventEnvelope; detail: D } : never;
export type RoutableEvent = ParsedOf<(typeof EVENT_KINDS)[number]>;
export type EventKindName = RoutableEvent['kind'];
export type ParsedEvent = RoutableEvent | { kind: 'unknown'; envelope: EventEnvelope };

const byKey = new Map<string, EventKindDefinition<string, unknown>[]>();
for (const k of EVENT_KINDS as readonly EventKindDefinition<string, unknown>[]) {
  for (const detailType of detailTypesOf(k)) {
    const key = `${k.source}\u0000${detailType}`;
    byKey.set(key, [...(byKey.get(key) ?? []), k]);
  }
}

export type ParseResult = { ok: true; event: ParsedEvent } | { ok: false; error: string };

function describeIssues(error: z.ZodError, prefix: readonly PropertyKey[]): string {
  // The first two issues are enough to fix the event; a hostile body could produce thousands.
  const shown = error.issues.slice(0, 2).map((i) => `${formatPath([...prefix, ...i.path])}: ${i.message}`);
  const more = error.issues.length - shown.length;
  return shown.join('; ') + (more > 0 ? ` (and ${more} more)` : '');
}

/**
 * Validates one envelope and, for a known kind, its detail. `at` is the path prefix of the event in
 * the request (`events[3]` in a batch) so the message names the event and the field.
 */
export function parseEvent(raw: unknown, at: readonly PropertyKey[] = []): ParseResult {
  const envelope = envelopeSchema.safeParse(raw);
  if (!envelope.success) return { ok: false, error: describeIssues(envelope.error, at) };
  const def = byKey.get(`${envelope.data.source}\u0000${envelope.data['detail-type']}`)?.find((k) => !k.when || k.when(envelope.data.detail));
  if (!def) return { ok: true, event: { kind: 'unknown', envelope: envelope.data } };
  const detail = def.detail.safeParse(envelope.data.detail);
  if (!detail.success) return { ok: false, error: describeIssues(detail.error, [...at, 'detail']) };
  return { ok: true, event: { kind: def.kind, envelope: envelope.data, detail: detail.data } as RoutableEvent };
}
