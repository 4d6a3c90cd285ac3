import { DescribeSpotPriceHistoryCommand, type _InstanceType } from '@aws-sdk/client-ec2';
import { z } from 'zod';
import type { BehaviourContext, BehaviourFactory, SimRequest } from '../behaviour';
import { awsErrorResponse, awsSuccessResponse, escapeXml, type SimResponse } from '../protocol';
import { indexed, param } from './support/ec2-params';
import { referenceSpotPrice, round } from './support/price-book';

/**
 * DescribeSpotPriceHistory as the EC2 API Reference describes it
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeSpotPriceHistory.html), which
 * moto answers too kindly: one row per offering with the price 0.00001, a 2006 timestamp and the
 * product description `Linux/UNIX (Amazon VPC)` whatever was asked, ignoring ProductDescriptions,
 * StartTime, EndTime and pagination, and dropping every row for a `product-description` filter.
 * Here each (instance type, zone) offered in the region (moto's offerings) has a price history, and:
 *  - a row per product description (RIProductDescription: `Linux/UNIX`, `Linux/UNIX (Amazon VPC)`,
 *    `Windows`, `Windows (Amazon VPC)`; Windows at twice the Linux price), only those
 *    ProductDescriptions names; InstanceTypes, AvailabilityZone and the `availability-zone`,
 *    `instance-type` and `product-description` filters narrow the rows; another filter name is
 *    InvalidParameterValue;
 *  - the price changes between StartTime (default: 90 days back) and EndTime (default: now), and
 *    the last change before StartTime, "the effective price as of the start time"; newest first;
 *  - MaxResults and NextToken page the rows; a token this behaviour did not give is
 *    InvalidParameterValue.
 * Prices default to support/price-book.ts's, in force from before the 90 days the API looks back.
 *
 * Routes: `POST /_sim/spot-price-history/prices` `{ prices: [{ instanceType, availabilityZone, price, at? }] }`
 * (a price change at `at`, ISO, default now; region us-east-1 unless `region`); `GET /` → the changes set.
 */

const PRODUCTS = ['Linux/UNIX', 'Linux/UNIX (Amazon VPC)', 'Windows', 'Windows (Amazon VPC)'] as const;
const FILTERS = ['availability-zone', 'instance-type', 'product-description'];
const NINETY_DAYS_MS = 90 * 86_400_000;

const pricesSchema = z
  .object({
    region: z.string().default('us-east-1'),
    prices: z.array(z.object({ instanceType: z.string().min(1), availabilityZone: z.string().min(1), price: z.number().positive(), at: z.iso.datetime().optional() }).strict()).min(1),
  })
  .strict();

interface Change {
  at: number;
  price: number;
}

interface Row {
  instanceType: string;
  zone: string;
  product: string;
  price: number;
  at: number;
}

export const spotPriceHistory: BehaviourFactory = () => {
  let since = Date.now();
  const changes = new Map<string, Change[]>();
  const keyOf = (region: string, type: string, zone: string) => `${region}/${type}/${zone}`;

  /** The changes of one offering, oldest first: the default price since the start, then what tests set. */
  function history(region: string, type: string, zone: string): Change[] {
    const set = changes.get(keyOf(region, type, zone)) ?? [];
    const base = referenceSpotPrice(type, zone);
    // The default has held for longer than the API looks back: every window starts with it.
    return [...(base === undefined ? [] : [{ at: since - NINETY_DAYS_MS - 86_400_000, price: base }]), ...set].sort((a, b) => a.at - b.at);
  }

  function invalid(req: SimRequest, message: string): SimResponse {
    return awsErrorResponse(req, { status: 400, code: 'InvalidParameterValue', message });
  }

  async function answer(req: SimRequest, ctx: BehaviourContext): Promise<SimResponse> {
    const p = req.params;
    // Query lists: `InstanceType.1`, `Filter.1.Name` with `Filter.1.Value.1` (EC2 API Reference, "Query requests").
    const flatValues = (prefix: string) =>
      Object.entries(p)
        .filter(([k]) => k.startsWith(`${prefix}.`) && /^\d+$/.test(k.slice(prefix.length + 1)))
        .sort(([a], [b]) => Number(a.slice(prefix.length + 1)) - Number(b.slice(prefix.length + 1)))
        .map(([, v]) => String(v));
    const filters = indexed(p, 'Filter').map((f, i) => ({ name: f.Name ?? '', values: flatValues(`Filter.${i + 1}.Value`) }));
    const bad = filters.find((f) => !FILTERS.includes(f.name));
    if (bad) return invalid(req, `The filter '${bad.name}' is invalid`);
    const types = flatValues('InstanceType');
    const products = flatValues('ProductDescription');
    const zone = param(p, 'AvailabilityZone');
    const start = param(p, 'StartTime') ? Date.parse(param(p, 'StartTime')!) : Date.now() - NINETY_DAYS_MS;
    const end = param(p, 'EndTime') ? Date.parse(param(p, 'EndTime')!) : Date.now();
    if (!Number.isFinite(start) || !Number.isFinite(end)) return invalid(req, 'StartTime and EndTime must be dates');
    const max = param(p, 'MaxResults') !== undefined ? Number(param(p, 'MaxResults')) : 1000;
    if (!Number.isInteger(max) || max < 5 || max > 1000) return invalid(req, `Value ( ${param(p, 'MaxResults')} ) for parameter maxResults is invalid. Parameter must be between 5 and 1000.`);
    let offset = 0;
    const token = param(p, 'NextToken');
    if (token) {
      const m = /^spot-prices:(\d+)$/.exec(Buffer.from(token, 'base64').toString('utf8'));
      if (!m) return invalid(req, `The pagination token '${token}' is invalid.`);
      offset = Number(m[1]);
    }

    // The offerings: moto knows which instance types each zone of the region has.
    const offered = await ctx.aws(req.region).ec2.send(new DescribeSpotPriceHistoryCommand({ ...(types.length ? { InstanceTypes: types as _InstanceType[] } : {}) }));
    const pass = (name: string, value: string) => filters.filter((f) => f.name === name).every((f) => f.values.includes(value));
    const rows: Row[] = [];
    for (const o of offered.SpotPriceHistory ?? []) {
      const type = o.InstanceType ?? '';
      const az = o.AvailabilityZone ?? '';
      if ((zone && az !== zone) || !pass('availability-zone', az) || !pass('instance-type', type)) continue;
      const changed = history(req.region, type, az);
      // In the window, plus the last change before it: the price in force at StartTime.
      const inWindow = changed.filter((c) => c.at > start && c.at <= end);
      const before = changed.filter((c) => c.at <= start).pop();
      for (const c of [...(before ? [before] : []), ...inWindow]) {
        for (const product of PRODUCTS) {
          if ((products.length && !products.includes(product)) || !pass('product-description', product)) continue;
          rows.push({ instanceType: type, zone: az, product, price: product.startsWith('Windows') ? round(c.price * 2) : c.price, at: c.at });
        }
      }
    }
    rows.sort((a, b) => b.at - a.at || a.instanceType.localeCompare(b.instanceType) || a.zone.localeCompare(b.zone) || a.product.localeCompare(b.product));
    const page = rows.slice(offset, offset + max);
    const next = offset + max < rows.length ? Buffer.from(`spot-prices:${offset + max}`).toString('base64') : undefined;
    const items = page
      .map(
        (r) =>
          `<item><instanceType>${escapeXml(r.instanceType)}</instanceType><productDescription>${escapeXml(r.product)}</productDescription>` +
          `<spotPrice>${r.price.toFixed(6)}</spotPrice><timestamp>${new Date(r.at).toISOString()}</timestamp><availabilityZone>${escapeXml(r.zone)}</availabilityZone></item>`,
      )
      .join('');
    return awsSuccessResponse(req, { xml: `<spotPriceHistorySet>${items}</spotPriceHistorySet>${next ? `<nextToken>${next}</nextToken>` : '<nextToken/>'}` });
  }

  return {
    name: 'spot-price-history',
    // Spot prices are the region's, the same in every account.
    allAccounts: true,
    intercept(req, ctx) {
      if (req.service !== 'ec2' || req.action !== 'DescribeSpotPriceHistory') return undefined;
      return answer(req, ctx);
    },
    route(req) {
      if (req.method === 'POST' && req.path === '/prices') {
        const body = pricesSchema.parse(req.body);
        for (const x of body.prices) {
          const key = keyOf(body.region, x.instanceType, x.availabilityZone);
          changes.set(key, [...(changes.get(key) ?? []), { at: x.at ? Date.parse(x.at) : Date.now(), price: x.price }]);
        }
        return { status: 200, body: { set: body.prices.length } };
      }
      if (req.method === 'GET' && req.path === '/') {
        return { status: 200, body: { since: new Date(since).toISOString(), changes: Object.fromEntries(changes) } };
      }
      return undefined;
    },
    reset() {
      changes.clear();
      since = Date.now();
    },
  };
};
