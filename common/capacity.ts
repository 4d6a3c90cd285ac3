/**
 * Capacity values the capacity workflow, its activities and its clients share. Pool kinds (PoolKind)
 * are the config's (config/schema/pools.ts), so a kind added there is a kind everywhere.
 */
export type Market = 'spot' | 'on-demand';
