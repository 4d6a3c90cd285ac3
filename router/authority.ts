import { ROUTER_SCOPES, type RouterScope } from '../common/router-scopes';
import type { ParsedEvent } from './events';

/**
 * Who may make the router act, and on what. A request over HTTP acts with its bearer token's scopes;
 * a message from the events queue acts with the queue's. What an event needs:
 *
 *   aws-events  an AWS-source envelope (`aws.*`: drains, scale requests, alarm incidents, ECS events).
 *               These normally come only through the queue EventBridge feeds: a token that may post
 *               them can drain instances and fake alarms in every configured account.
 *   deploy      a `Deploy Requested`, a `Release Requested`.
 *   force       a `Deploy Requested` with `force: true` (a deploy through an incident freeze), on top of deploy.
 *   incident    an `Incident Declared`.
 *
 * Anything else (an unknown non-AWS source) starts nothing and needs no scope beyond being let in.
 */
export const SCOPES = ROUTER_SCOPES;
export type Scope = RouterScope;

/** A named HTTP bearer token. `secret` is never logged; `name` is what logs and identities carry. */
export interface RouterToken {
  name: string;
  secret: string;
  scopes: readonly Scope[];
}

/** FLEETOPS_ROUTER_TOKEN's name and scopes: what a deploy bot or a person's tooling needs, nothing AWS. */
export const DEFAULT_TOKEN_NAME = 'default';
export const DEFAULT_TOKEN_SCOPES: readonly Scope[] = ['deploy', 'incident'];

/**
 * Where an event came from, which decides what it may do:
 *  - `token`: an HTTP request; it needs the scopes above, and a deploy's requester is the token
 *    (`token:<name>`), whatever the body says.
 *  - `queue`: the events queue (EventBridge, or an ASG hook sending directly). Whoever can send to it
 *    has AWS credentials in the account; a deploy's `requestedBy` is kept, but a forced deploy is
 *    refused: a freeze is lifted by a person with a token that has `force`, not by a queue message.
 */
export type Principal = { kind: 'token'; token: Pick<RouterToken, 'name' | 'scopes'> } | { kind: 'queue' };

export const QUEUE_PRINCIPAL: Principal = { kind: 'queue' };
const QUEUE_SCOPES: readonly Scope[] = ['aws-events', 'deploy', 'incident'];

export const tokenIdentity = (name: string): `token:${string}` => `token:${name}`;

/** The scopes an event needs (router/events names every kind: a new kind must be placed here). */
export function scopesFor(event: ParsedEvent): Scope[] {
  switch (event.kind) {
    case 'deploy-requested':
      return event.detail.force ? ['deploy', 'force'] : ['deploy'];
    case 'release-requested':
      // A release is many deploys, each with the checks of one; it never forces through a freeze.
      return ['deploy'];
    case 'incident-declared':
      return ['incident'];
    case 'spot-interruption-warning':
    case 'rebalance-recommendation':
    case 'instance-state-change':
    case 'health-event':
    case 'lifecycle-test-notification':
    case 'lifecycle-terminate':
    case 'lifecycle-launch':
    case 'alarm-state-change':
    case 'ecs-deployment-state-change':
    case 'ecs-service-action':
      return ['aws-events'];
    case 'unknown':
      // An AWS source the router does not route is still AWS's to send: refused without the scope, so
      // a kind added later is never open to every token by accident. (EventBridge sources are lower case.)
      return event.envelope.source.toLowerCase().startsWith('aws.') ? ['aws-events'] : [];
  }
}

/** The first scope `event` needs that `principal` lacks, or undefined when it may act. */
export function missingScope(principal: Principal, event: ParsedEvent): Scope | undefined {
  const held = principal.kind === 'queue' ? QUEUE_SCOPES : principal.token.scopes;
  return scopesFor(event).find((s) => !held.includes(s));
}

/** Why a principal may not carry an event out, in words for a 403 body or a dead-lettered message's log line. */
export function refusal(principal: Principal, scope: Scope): string {
  if (principal.kind === 'queue') {
    return scope === 'force'
      ? 'detail.force: a deploy through a freeze is not accepted from the events queue (post it over HTTP with a token that has the force scope)'
      : `the events queue may not send events that need the ${scope} scope`;
  }
  return `token "${principal.token.name}" lacks the ${scope} scope`;
}
