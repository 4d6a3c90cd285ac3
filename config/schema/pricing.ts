import { z } from 'zod';
import { PRICE_LIST_API_REGIONS } from '../../common/pricing/regions';
import { positiveSeconds } from './fields';

/**
 * `pricing`: where the savings estimate (`fleetops fleet`, the worker's fleet cost gauges) takes
 * on-demand prices from. Spot prices are EC2's (DescribeSpotPriceHistory, read with the pools).
 */
export const pricingSchema = z
  .object({
    /** Ask the AWS Price List Query API (GetProducts) for on-demand prices; false: the table below only. */
    priceListApi: z.boolean().default(true),
    /** The Price List API endpoint; unset: us-east-1 (cn-northwest-1 for clusters in China regions). */
    priceListApiRegion: z.enum(PRICE_LIST_API_REGIONS).optional(),
    /** USD an hour on demand, by instance type: used when the Price List API cannot be reached or has no price for the type. */
    onDemandHourly: z.record(z.string().regex(/^[a-z0-9-]+\.[a-z0-9-]+$/, 'must be an instance type such as m5.large'), z.number().positive()).default({}),
  })
  .strict();

/** `metrics`: the worker's fleet gauges (workers/fleet-metrics.ts). */
export const metricsSchema = z
  .object({
    /** How often the worker asks each cluster's capacity workflow for its pools, and prices them. */
    fleetEverySeconds: positiveSeconds.default(60),
  })
  .strict();
