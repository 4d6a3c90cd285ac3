import type { PoolConfig, PoolKind } from '../../../config/schema';
import { asgDriver } from './asg';
import type { PoolDriver } from './driver';
import { ec2FleetDriver } from './ec2-fleet';
import { spotFleetDriver } from './spot-fleet';

export type { PoolContext, PoolDriver, PoolOf, PoolState } from './driver';

/**
 * One driver per pool kind. The type makes the table complete: a kind added to `poolSchema`
 * (config/schema/pools.ts) does not compile until it has a driver here.
 */
export const POOL_DRIVERS: { readonly [K in PoolKind]: PoolDriver<K> } = {
  'ec2-fleet': ec2FleetDriver,
  'spot-fleet': spotFleetDriver,
  asg: asgDriver,
};

/**
 * The driver of a pool's kind, for a pool whose kind is known only at run time. The cast is safe
 * because the table pairs each kind with its own driver; TypeScript cannot follow that pairing
 * through the union.
 */
export function driverFor(pool: PoolConfig): PoolDriver<PoolKind> {
  return POOL_DRIVERS[pool.kind] as PoolDriver<PoolKind>;
}
