import { drainStartOptions } from '../../contracts/spot-drain/start';
import { drainEventSignal } from '../../contracts/spot-drain/messages';
import type { AwsPlacement } from '../../contracts/shared';
import type { DrainEvent } from '../../contracts/spot-drain/input';
import { clustersAt, workflowPlacement } from '../../config/placement';
import type { FleetopsConfig } from '../../config/schema';
import type { EventEnvelope } from '../events/envelope';
import { dryRunOf, ignore, targetOf, type RouteDecision, type RouteOptions } from './decision';

/**
 * What the kinds that drain an instance share (spot warnings, rebalance recommendations, terminate
 * lifecycle actions, state changes, AWS Health scheduled changes).
 */

/**
 * Many accounts: the placement an AWS event's workflows carry (its envelope's account and region), or
 * why it is ignored: no configured cluster lives there, so nothing may act on it (and a drain for an
 * instance id known in another account is never joined from here: the id carries the account).
 * Single-account configs: no placement, nothing checked.
 */
export function drainPlacement(envelope: EventEnvelope, config: FleetopsConfig): { placement?: AwsPlacement } | { ignore: RouteDecision } {
  const { account, region } = envelope;
  const placement = workflowPlacement(config, { account, region });
  if (!placement) return {};
  if (clustersAt(config, { account, region }).length === 0) {
    return { ignore: ignore(`no cluster in the config is in account ${account}, region ${region}`) };
  }
  return { placement };
}

/** Start the instance's drain if it is not running, and signal it the event either way. */
export function drainSignalWithStart(
  signal: DrainEvent,
  where: { placement?: AwsPlacement },
  opts: RouteOptions,
  ctx: { why: string; lifecycleAction?: boolean },
): RouteDecision {
  return {
    action: 'signalWithStart',
    ...targetOf(drainStartOptions({ instanceId: signal.instanceId, ...where, ...dryRunOf(opts) }, ctx)),
    signal: { name: drainEventSignal.name, arg: signal },
  };
}
