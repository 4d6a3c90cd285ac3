import { GetProductsCommand, type Filter, type PricingClient } from '@aws-sdk/client-pricing';

export { PRICE_LIST_API_REGIONS, priceListApiRegionFor, type PriceListApiRegion } from './regions';

/**
 * On-demand EC2 prices from the AWS Price List Query API (GetProducts, "AWS Price List Service API
 * Reference": https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_pricing_GetProducts.html).
 * Each PriceList entry is one product as a JSON string: `product.attributes`
 * (instanceType, regionCode, operatingSystem, tenancy, preInstalledSw, capacitystatus, ...) and
 * `terms.OnDemand.<sku.offerTermCode>.priceDimensions.<rateCode>` with `unit` `Hrs` and
 * `pricePerUnit.USD` a decimal string ("Reading the service price list file for an AWS service",
 * https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/reading-service-price-list-file-for-services.html).
 * The API answers only at a few endpoints, whatever region the prices are for (regions.ts).
 */

/**
 * What fleetops pays for on demand: Linux, shared tenancy, no pre-installed software, capacity used
 * (not an unused reservation). What runs on spot is the same product at the spot price.
 */
export function onDemandFilters(regionCode: string, instanceType: string): Filter[] {
  const term = (Field: string, Value: string): Filter => ({ Type: 'TERM_MATCH', Field, Value });
  return [
    term('regionCode', regionCode),
    term('instanceType', instanceType),
    term('operatingSystem', 'Linux'),
    term('tenancy', 'Shared'),
    term('preInstalledSw', 'NA'),
    term('capacitystatus', 'Used'),
  ];
}

interface PriceDimension {
  unit?: string;
  pricePerUnit?: Record<string, string>;
}
interface ProductEntry {
  product?: { attributes?: Record<string, string> };
  terms?: { OnDemand?: Record<string, { priceDimensions?: Record<string, PriceDimension> }> };
}

/**
 * The hourly USD on-demand price of each instance type in PriceList entries (JSON strings as the API
 * sends them; the SDK may hand them over as string objects). Several products of one type (license
 * models the filters did not tell apart) give their lowest non-zero price. Malformed entries are skipped.
 */
export function parsePriceList(entries: readonly unknown[]): Map<string, number> {
  const prices = new Map<string, number>();
  for (const entry of entries) {
    let p: ProductEntry;
    try {
      p = (typeof entry === 'object' && entry !== null && !(entry instanceof String) ? entry : JSON.parse(String(entry))) as ProductEntry;
    } catch {
      continue;
    }
    const type = p.product?.attributes?.instanceType;
    if (!type) continue;
    for (const term of Object.values(p.terms?.OnDemand ?? {})) {
      for (const dim of Object.values(term.priceDimensions ?? {})) {
        const usd = Number(dim.pricePerUnit?.USD);
        if (dim.unit !== 'Hrs' || !Number.isFinite(usd) || usd <= 0) continue;
        prices.set(type, Math.min(usd, prices.get(type) ?? Infinity));
      }
    }
  }
  return prices;
}

/** One instance type's on-demand price in `regionCode` (GetProducts, every page); undefined when the list has none. */
export async function fetchOnDemandPrice(client: PricingClient, regionCode: string, instanceType: string): Promise<number | undefined> {
  const entries: unknown[] = [];
  let NextToken: string | undefined;
  do {
    const res = await client.send(
      new GetProductsCommand({ ServiceCode: 'AmazonEC2', Filters: onDemandFilters(regionCode, instanceType), FormatVersion: 'aws_v1', MaxResults: 100, NextToken }),
    );
    entries.push(...(res.PriceList ?? []));
    NextToken = res.NextToken;
  } while (NextToken);
  return parsePriceList(entries).get(instanceType);
}
