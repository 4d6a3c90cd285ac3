/**
 * Where the AWS Price List Query API answers ("Using the AWS Price List Query API", its endpoints),
 * whatever region the prices are for. No imports: config/ reads the list.
 */
export const PRICE_LIST_API_REGIONS = ['us-east-1', 'eu-central-1', 'ap-south-1', 'cn-northwest-1'] as const;
export type PriceListApiRegion = (typeof PRICE_LIST_API_REGIONS)[number];

/** The endpoint to ask for prices of instances in `region`: the China one for China regions, else us-east-1. */
export function priceListApiRegionFor(region: string): PriceListApiRegion {
  return region.startsWith('cn-') ? 'cn-northwest-1' : 'us-east-1';
}
