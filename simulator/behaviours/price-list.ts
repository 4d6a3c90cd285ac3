import { z } from 'zod';
import type { Behaviour, BehaviourFactory, SimRequest } from '../behaviour';
import { awsErrorResponse, awsSuccessResponse, type SimResponse } from '../protocol';
import { KNOWN_REGIONS, KNOWN_TYPES, productsOf, type Product } from './support/price-list-products';

/**
 * The AWS Price List Query API's GetProducts, which moto does not have, as the AWS Price List Service
 * API Reference describes it (https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_pricing_GetProducts.html;
 * JSON 1.1, target `AWSPriceListService.GetProducts`, signing name `pricing`):
 *  - ServiceCode is required (1-32 characters); a code other than AmazonEC2 is NotFoundException;
 *  - Filters (each Type, Field, Value required): TERM_MATCH and EQUALS an attribute (or `ServiceCode`)
 *    equal to Value, CONTAINS a substring, ANY_OF / NONE_OF one of Value's comma-separated values;
 *    a product must match every filter; another Type is InvalidParameterException;
 *  - FormatVersion, when given, is `aws_v1`; MaxResults 1-100 (default 100); NextToken pages, and a
 *    token this behaviour did not give is InvalidNextTokenException;
 *  - the answer is `{ FormatVersion: 'aws_v1', PriceList: [<product as a JSON string>...], NextToken? }`:
 *    PriceList entries are JSON documents in strings (support/price-list-products.ts has their shape).
 * Products: each instance type a query names (else a handful) in each region it names (else a
 * few), every variant the filters must tell apart; prices from support/price-book.ts unless set.
 *
 * Routes: `POST /_sim/price-list/prices` `{ prices: [{ regionCode, instanceType, usd }] }` (the Linux,
 * shared tenancy, on-demand hourly price; other variants follow it); `GET /` → the prices set.
 */

const FILTER_TYPES = ['TERM_MATCH', 'EQUALS', 'CONTAINS', 'ANY_OF', 'NONE_OF'] as const;

const requestSchema = z.object({
  ServiceCode: z.string().min(1).max(32),
  Filters: z.array(z.object({ Type: z.string(), Field: z.string().min(1).max(1024), Value: z.string().min(1).max(1024) })).optional(),
  FormatVersion: z.string().optional(),
  NextToken: z.string().optional(),
  MaxResults: z.number().int().optional(),
});

const pricesSchema = z
  .object({ prices: z.array(z.object({ regionCode: z.string().min(1), instanceType: z.string().min(1), usd: z.number().positive() }).strict()).min(1) })
  .strict();

type Filter = { Type: string; Field: string; Value: string };

function matches(p: Product, f: Filter): boolean {
  const actual = f.Field === 'ServiceCode' ? p.serviceCode : p.attributes[f.Field];
  if (actual === undefined) return f.Type === 'NONE_OF';
  const list = f.Value.split(',').map((v) => v.trim());
  switch (f.Type) {
    case 'TERM_MATCH':
    case 'EQUALS':
      return actual === f.Value;
    case 'CONTAINS':
      return actual.includes(f.Value);
    case 'ANY_OF':
      return list.includes(actual);
    default:
      return !list.includes(actual);
  }
}

export const priceList: BehaviourFactory = () => {
  const set = new Map<string, number>();
  const publishedAt = '2026-01-01T00:00:00Z';

  function getProducts(req: SimRequest): SimResponse {
    const invalid = (message: string) => awsErrorResponse(req, { status: 400, code: 'InvalidParameterException', message });
    const parsed = requestSchema.safeParse(req.params);
    if (!parsed.success) return invalid(`One or more parameters had an invalid value: ${parsed.error.issues.map((i) => i.path.join('.') || i.message).join(', ')}`);
    const r = parsed.data;
    if (r.ServiceCode !== 'AmazonEC2') return awsErrorResponse(req, { status: 400, code: 'NotFoundException', message: `Service code ${r.ServiceCode} not found` });
    if (r.FormatVersion !== undefined && r.FormatVersion !== 'aws_v1') return invalid(`Invalid FormatVersion: ${r.FormatVersion}`);
    const max = r.MaxResults ?? 100;
    if (max < 1 || max > 100) return invalid('MaxResults must be between 1 and 100');
    const filters = r.Filters ?? [];
    const badType = filters.find((f) => !(FILTER_TYPES as readonly string[]).includes(f.Type));
    if (badType) return invalid(`Invalid filter type: ${badType.Type}`);
    let offset = 0;
    if (r.NextToken !== undefined) {
      const m = /^price-list:(\d+)$/.exec(Buffer.from(r.NextToken, 'base64').toString('utf8'));
      if (!m) return awsErrorResponse(req, { status: 400, code: 'InvalidNextTokenException', message: 'The pagination token is invalid. Try again without a pagination token.' });
      offset = Number(m[1]);
    }
    // The universe a query can reach: the types and regions it pins (by an exact filter), else the known ones.
    const pinned = (field: string, known: string[]) => {
      const exact = filters.find((f) => f.Field === field && (f.Type === 'TERM_MATCH' || f.Type === 'EQUALS'));
      const anyOf = filters.find((f) => f.Field === field && f.Type === 'ANY_OF');
      return exact ? [exact.Value] : anyOf ? anyOf.Value.split(',').map((v) => v.trim()) : known;
    };
    const products = pinned('regionCode', KNOWN_REGIONS).flatMap((region) =>
      pinned('instanceType', KNOWN_TYPES).flatMap((type) => productsOf(region, type, set.get(`${region}/${type}`), publishedAt)),
    );
    const hits = products.filter((p) => filters.every((f) => matches(p, f)));
    const page = hits.slice(offset, offset + max);
    const next = offset + max < hits.length ? Buffer.from(`price-list:${offset + max}`).toString('base64') : undefined;
    return awsSuccessResponse(req, { json: { FormatVersion: 'aws_v1', PriceList: page.map((p) => p.json), ...(next ? { NextToken: next } : {}) } });
  }

  const behaviour: Behaviour = {
    name: 'price-list',
    // Prices are public: the same whatever account asks.
    allAccounts: true,
    intercept(req) {
      if (req.service !== 'pricing' || req.action !== 'GetProducts') return undefined;
      return getProducts(req);
    },
    route(req) {
      if (req.method === 'POST' && req.path === '/prices') {
        const body = pricesSchema.parse(req.body);
        for (const x of body.prices) set.set(`${x.regionCode}/${x.instanceType}`, x.usd);
        return { status: 200, body: { set: body.prices.length } };
      }
      if (req.method === 'GET' && req.path === '/') return { status: 200, body: { prices: Object.fromEntries(set) } };
      return undefined;
    },
    reset() {
      set.clear();
    },
  };
  return behaviour;
};
