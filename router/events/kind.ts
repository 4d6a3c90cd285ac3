import type { z } from 'zod';
import type { FleetopsConfig } from '../../config/schema';
import type { RouteOptions, RouteResult } from '../routing/decision';
import type { EventEnvelope } from './envelope';

/**
 * One event kind, whole: which envelopes it claims, how its `detail` is validated, what it becomes
 * (its route) and the EventBridge rule that brings it to the events queue. The rules of both
 * CloudFormation templates (deploy/aws/) and the queue policies' lists of them are generated from
 * these definitions (`make kit`, stack/kit-rules.ts); a test fails when the committed templates differ.
 */
export interface EventKindDefinition<K extends string, D> {
  kind: K;
  source: string;
  /** The detail-type, or several that share one meaning (and one EventBridge rule). */
  detailType: string | readonly string[];
  /**
   * Claims only envelopes whose raw detail passes this, before the detail is validated: a kind that
   * shares a detail-type with another (a test notification beside the lifecycle action) comes first
   * in EVENT_KINDS with a `when`.
   */
  when?: (detail: Record<string, unknown>) => boolean;
  detail: z.ZodType<D>;
  /** The EventBridge rule of this kind, or the kinds whose rules carry its events too. */
  rule: EventRule | SharedRule;
  /**
   * What a validated event of this kind becomes. Pure — no I/O — so every route is testable without a
   * server; router/dispatch.ts carries the decision out. Throws RouteValidationError for a detail
   * that names something the config does not know.
   */
  route: (event: KindEvent<K, D>, config: FleetopsConfig, opts: RouteOptions) => RouteResult;
}

/** A validated event of one kind. */
export interface KindEvent<K extends string, D> {
  kind: K;
  envelope: EventEnvelope;
  detail: D;
}

/** The EventBridge rule that delivers a kind's events to the events queue (its pattern: the kind's source and detail-types, plus `detail`). */
export interface EventRule {
  /** The rule's logical id in deploy/aws/fleetops-events.yaml (and fleetops-member.yaml for AWS events). */
  id: string;
  /** What the events become, for the rule's description (`fleetops <kind> -> <does>`). */
  does: string;
  /**
   * `default`: AWS publishes the kind on the default bus, and member accounts forward it there
   * (fleetops-member.yaml has the same rule). `commands`: fleetops' own command bus (CommandBus),
   * where only the operators may send.
   */
  bus: 'default' | 'commands';
  /** Pattern extras: only events whose detail fields hold one of these values reach the router. */
  detail?: Readonly<Record<string, readonly string[]>>;
  /** Why the rule is as it is: a comment above it in the template. */
  note?: string;
}

/** A kind that shares its detail-types with other kinds (told apart by `when`): their rules carry it. */
export interface SharedRule {
  sharedWith: readonly string[];
}

export function defineEventKind<K extends string, D>(def: EventKindDefinition<K, D>): EventKindDefinition<K, D> {
  return def;
}
