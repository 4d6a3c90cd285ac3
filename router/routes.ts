import { knownAccounts, routesByAccount } from '../config/placement';
import type { FleetopsConfig } from '../config/schema';
import { EVENT_KINDS, type ParsedEvent, type RoutableEvent } from './events';
import type { EventKindDefinition } from './events/kind';
import { ignore, type RouteOptions, type RouteResult } from './routing/decision';

export { decisionsOf, RouteValidationError, shortIdOf, targetOf, type RouteDecision, type RouteOptions, type RouteResult } from './routing/decision';
export { matchAlarmRoute } from './events/alarm-state-change';

/**
 * Routing: what each event becomes (docs/contract.md, Events). Each kind's route sits with its
 * definition (router/events/<kind>.ts); this is the part every event shares. Pure — no I/O — so
 * every rule is testable without a server; router/dispatch.ts carries decisions out.
 */

type AnyRoute = (event: RoutableEvent, config: FleetopsConfig, opts: RouteOptions) => RouteResult;

// EVENT_KINDS pairs each kind with its own route, so an event only ever reaches the route of its kind.
const routeOfKind = new Map((EVENT_KINDS as readonly EventKindDefinition<string, unknown>[]).map((k) => [k.kind, k.route as AnyRoute]));

/** What one validated event becomes. Throws RouteValidationError for details that name unknown config. */
export function routeEvent(event: ParsedEvent, config: FleetopsConfig, opts: RouteOptions = {}): RouteResult {
  // Many accounts: what AWS publishes in an account no cluster is in is not ours (fleetops' own events carry no AWS account meaning).
  if (event.envelope.source.startsWith('aws.') && routesByAccount(config) && !knownAccounts(config).has(event.envelope.account)) {
    return ignore(`event from account ${event.envelope.account}, which no cluster in the config is in`);
  }
  if (event.kind === 'unknown') return ignore(`no route for ${event.envelope.source} / ${event.envelope['detail-type']}`);
  const route = routeOfKind.get(event.kind);
  if (!route) throw new Error(`event kind ${event.kind} has no route`); // cannot happen: every definition has one
  return route(event, config, opts);
}
