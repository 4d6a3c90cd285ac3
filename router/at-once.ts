import { createHash } from 'node:crypto';
import { drainCoordinatorStartOptions } from '../contracts/drain-coordinator/start';
import type { AwsPlacement } from '../contracts/shared';
import type { DrainEvent, SpotDrainInput } from '../contracts/spot-drain/input';
import type { InterruptionNotice } from '../contracts/drain-coordinator/input';
import { interruptionNoticesSignal } from '../contracts/drain-coordinator/messages';
import { drainEventSignal } from '../contracts/spot-drain/messages';
import { targetOf, type RouteDecision } from './routes';

/**
 * The drain coordinator's share of an event batch (workflows/drain-coordinator/workflow.ts says why):
 * the instances that must be DRAINING now — a two-minute warning, an instance stopping or shutting
 * down — go to their account and region's coordinator in one signal-with-start, sent before the
 * drains' own. Rebalance recommendations, scheduled changes and lifecycle actions are not here: they
 * replace first or wait their turn in the disruption budget, which only their drain can decide. A dry
 * run changes nothing, so it gets no head start. Pure, like routes.ts.
 */

/** Drain events whose instance goes within minutes, whatever else its drain does. */
const AT_ONCE_KINDS: ReadonlySet<DrainEvent['kind']> = new Set(['interruption-warning', 'instance-stopping']);

export interface AtOnceNotice {
  /** The coordinator it goes to: one per account and region (`''` in a single-account config). */
  key: string;
  placement?: AwsPlacement;
  notice: InterruptionNotice;
}

export interface AtOnceBatch {
  /** Stands for the batch in the dispatcher: a digest of its event ids, so a redelivered batch is deduplicated. */
  batchId: string;
  decision: Extract<RouteDecision, { action: 'signalWithStart' }>;
}

/** The notices among a batch's decisions, one per instance (its first event). */
export function atOnceNotices(decisions: readonly RouteDecision[]): AtOnceNotice[] {
  const out: AtOnceNotice[] = [];
  const seen = new Set<string>();
  for (const d of decisions) {
    if (d.action !== 'signalWithStart' || d.signal.name !== drainEventSignal.name) continue;
    const input = d.args[0] as SpotDrainInput;
    const event = d.signal.arg as DrainEvent;
    if (input.dryRun || !AT_ONCE_KINDS.has(event.kind) || !event.deadline) continue;
    const key = input.placement ? `${input.placement.account}/${input.placement.region}` : '';
    if (seen.has(`${key}\u0000${event.instanceId}`)) continue;
    seen.add(`${key}\u0000${event.instanceId}`);
    out.push({
      key,
      ...(input.placement ? { placement: input.placement } : {}),
      notice: { instanceId: event.instanceId, eventId: event.eventId, eventTime: event.eventTime, deadline: event.deadline },
    });
  }
  return out;
}

/** The signal-with-start of one coordinator with its notices (all of one key). */
export function coordinatorSignal(placement: AwsPlacement | undefined, notices: InterruptionNotice[]): AtOnceBatch {
  // One notice an instance, its first (two messages of a receive may name the same instance).
  const seen = new Set<string>();
  const unique = notices.filter((n) => !seen.has(n.instanceId) && seen.add(n.instanceId));
  return {
    batchId: `at-once-${createHash('sha256').update(unique.map((n) => n.eventId).sort().join('\u0000')).digest('hex').slice(0, 32)}`,
    decision: { action: 'signalWithStart', ...targetOf(drainCoordinatorStartOptions(placement)), signal: { name: interruptionNoticesSignal.name, arg: unique } },
  };
}

/** The coordinator signals of one event batch: its notices grouped by account and region. */
export function atOnceBatches(decisions: readonly RouteDecision[]): AtOnceBatch[] {
  const groups = new Map<string, AtOnceNotice[]>();
  for (const n of atOnceNotices(decisions)) groups.set(n.key, [...(groups.get(n.key) ?? []), n]);
  return [...groups.values()].map((g) => coordinatorSignal(g[0]!.placement, g.map((n) => n.notice)));
}
