import type { PoolConfig } from '../config/schema';

/**
 * Capacity values the capacity workflow, its activities and its clients share. Pool kinds come from
 * the config schema (`poolSchema` in config/schema.ts), so a kind added there is a kind everywhere;
 * activities/capacity/pools/index.ts then fails to compile until it has a driver.
 */
export type PoolKind = PoolConfig['kind'];
export type Market = 'spot' | 'on-demand';
