import { PricingClient } from '@aws-sdk/client-pricing';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { fetchOnDemandPrice } from './price-list';
import { priceListApiRegionFor, type PriceListApiRegion } from './regions';

/**
 * On-demand prices as the savings estimate uses them: the Price List API's, asked once per instance
 * type and region and kept for `ttlMs` (prices change a few times a year), else the config table
 * (`pricing.onDemandHourly`). An API that cannot be reached (no route to the endpoint, access
 * denied) is not asked again for `retryAfterMs`, so a collector does not wait on it every round.
 * Types are asked one after another: the Price List Query API has a low request rate.
 */

export type PriceSource = 'price-list-api' | 'config';

export interface PriceLookup {
  /** USD an hour on demand, by instance type. */
  prices: Map<string, number>;
  source: Map<string, PriceSource>;
  /** Why the API was not used, when it was not (for the CLI's note and the worker's log). */
  apiError?: string;
}

export interface OnDemandPriceOptions {
  /** false: the table only. */
  api: boolean;
  /** The API endpoint; default by the instances' region (regions.ts). */
  apiRegion?: PriceListApiRegion;
  table: Readonly<Record<string, number>>;
  /** An endpoint override (the local emulator), for every API region. */
  endpoint?: string;
  /** SDK app id (common/aws-app-ids.ts) of the calling process. */
  appId?: string;
  ttlMs?: number;
  retryAfterMs?: number;
  now?: () => number;
  /** Tests: a client of their own per API region. */
  clientFor?: (apiRegion: PriceListApiRegion) => PricingClient;
}

export interface OnDemandPrices {
  lookup(region: string, instanceTypes: readonly string[]): Promise<PriceLookup>;
  destroy(): void;
}

export function createOnDemandPrices(opts: OnDemandPriceOptions): OnDemandPrices {
  const now = opts.now ?? Date.now;
  const ttlMs = opts.ttlMs ?? 12 * 3600_000;
  const retryAfterMs = opts.retryAfterMs ?? 15 * 60_000;
  const cache = new Map<string, { price: number | undefined; at: number }>();
  const clients = new Map<PriceListApiRegion, PricingClient>();
  let down: { until: number; error: string } | undefined;

  const clientFor = (apiRegion: PriceListApiRegion): PricingClient => {
    let c = clients.get(apiRegion);
    if (!c) {
      c =
        opts.clientFor?.(apiRegion) ??
        new PricingClient({
          region: apiRegion,
          ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
          ...(opts.appId ? { userAgentAppId: opts.appId } : {}),
          maxAttempts: 2,
          // A report must not hang on an endpoint it cannot reach: the table answers instead.
          requestHandler: new NodeHttpHandler({ connectionTimeout: 3_000, requestTimeout: 10_000 }),
        });
      clients.set(apiRegion, c);
    }
    return c;
  };

  async function fromApi(region: string, type: string): Promise<number | undefined> {
    const key = `${region}/${type}`;
    const hit = cache.get(key);
    if (hit && now() - hit.at < ttlMs) return hit.price;
    const price = await fetchOnDemandPrice(clientFor(opts.apiRegion ?? priceListApiRegionFor(region)), region, type);
    cache.set(key, { price, at: now() });
    return price;
  }

  return {
    async lookup(region, instanceTypes) {
      const out: PriceLookup = { prices: new Map(), source: new Map() };
      for (const type of [...new Set(instanceTypes)].sort()) {
        let price: number | undefined;
        if (opts.api && !(down && now() < down.until)) {
          try {
            price = await fromApi(region, type);
            down = undefined;
          } catch (err) {
            down = { until: now() + retryAfterMs, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
          }
        }
        if (price !== undefined) {
          out.prices.set(type, price);
          out.source.set(type, 'price-list-api');
        } else if (opts.table[type] !== undefined) {
          out.prices.set(type, opts.table[type]);
          out.source.set(type, 'config');
        }
      }
      if (!opts.api) out.apiError = 'off (pricing.priceListApi: false)';
      else if (down && now() < down.until) out.apiError = down.error;
      return out;
    },
    destroy() {
      for (const c of clients.values()) c.destroy();
      clients.clear();
    },
  };
}
