import { DescribeSpotPriceHistoryCommand, type DescribeSpotPriceHistoryCommandInput, type _InstanceType } from '@aws-sdk/client-ec2';
import { GetProductsCommand, PricingClient } from '@aws-sdk/client-pricing';
import { AWS_APP_IDS } from '../../common/aws-app-ids';
import { createOnDemandPrices } from '../../common/pricing/on-demand';
import { fetchOnDemandPrice, onDemandFilters, parsePriceList } from '../../common/pricing/price-list';
import { startEmulator } from '../../testkit/emulator';
import { useEmulator } from '../harness/emulator';

/**
 * The emulator's prices (simulator/behaviours/spot-price-history.ts, price-list.ts), held to the
 * shapes the EC2 and Price List API references give, and fleetops' reading of them
 * (common/pricing/): the product's GetProducts goes out with the worker's app id, as the worker's.
 */


const emu = useEmulator(() => startEmulator({ autoTick: false }));
let pricing: PricingClient;
let workerPricing: PricingClient;
beforeAll(() => {
  pricing = new PricingClient({ region: 'us-east-1', endpoint: emu.endpoint, maxAttempts: 1 });
  workerPricing = new PricingClient({ region: 'us-east-1', endpoint: emu.endpoint, maxAttempts: 1, userAgentAppId: AWS_APP_IDS.worker });
});
afterAll(() => {
  pricing?.destroy();
  workerPricing?.destroy();
});

const history = (input: DescribeSpotPriceHistoryCommandInput) => emu.aws.ec2.send(new DescribeSpotPriceHistoryCommand(input));

describe('DescribeSpotPriceHistory', () => {
  it('answers the asked product descriptions with prices per zone, the price in force at StartTime, newest first', async () => {
    const t0 = new Date(Date.now() - 3_600_000).toISOString();
    await emu.sim.request('POST', 'spot-price-history/prices', { prices: [{ instanceType: 'm5.large', availabilityZone: 'us-east-1a', price: 0.031, at: t0 }] });
    const now = await history({ InstanceTypes: ['m5.large'], ProductDescriptions: ['Linux/UNIX'], StartTime: new Date() });
    const rows = now.SpotPriceHistory ?? [];
    expect(rows.length).toBeGreaterThan(1);
    expect(new Set(rows.map((r) => r.ProductDescription))).toEqual(new Set(['Linux/UNIX']));
    expect(new Set(rows.map((r) => `${r.InstanceType}/${r.AvailabilityZone}`)).size).toBe(rows.length);
    expect(rows.find((r) => r.AvailabilityZone === 'us-east-1a')?.SpotPrice).toBe('0.031000');
    // The zones' prices differ, as on AWS; none is moto's 0.00001.
    expect(new Set(rows.map((r) => r.SpotPrice)).size).toBeGreaterThan(1);
    expect(rows.every((r) => Number(r.SpotPrice) > 0.01)).toBe(true);

    // A window: the change in it and the price before it, newest first.
    const window = await history({ InstanceTypes: ['m5.large'], ProductDescriptions: ['Linux/UNIX'], AvailabilityZone: 'us-east-1a', StartTime: new Date(Date.parse(t0) - 60_000) });
    const times = (window.SpotPriceHistory ?? []).map((r) => r.Timestamp!.getTime());
    expect(times).toHaveLength(2);
    expect(times[0]).toBeGreaterThan(times[1]!);
    expect(window.SpotPriceHistory?.[0]?.SpotPrice).toBe('0.031000');
  });

  it('filters by product-description and zone, pages with MaxResults and NextToken, refuses an unknown filter and a bad MaxResults', async () => {
    const vpc = await history({ InstanceTypes: ['m5.large', 'c5.large'], Filters: [{ Name: 'product-description', Values: ['Linux/UNIX (Amazon VPC)'] }, { Name: 'availability-zone', Values: ['us-east-1b'] }] });
    expect((vpc.SpotPriceHistory ?? []).map((r) => `${r.InstanceType} ${r.AvailabilityZone} ${r.ProductDescription}`).sort()).toEqual([
      'c5.large us-east-1b Linux/UNIX (Amazon VPC)',
      'm5.large us-east-1b Linux/UNIX (Amazon VPC)',
    ]);
    const all = (await history({ InstanceTypes: ['m5.large' as _InstanceType] })).SpotPriceHistory ?? [];
    const paged: string[] = [];
    let NextToken: string | undefined;
    do {
      const page = await history({ InstanceTypes: ['m5.large'], MaxResults: 5, NextToken });
      expect((page.SpotPriceHistory ?? []).length).toBeLessThanOrEqual(5);
      paged.push(...(page.SpotPriceHistory ?? []).map((r) => `${r.AvailabilityZone} ${r.ProductDescription}`));
      NextToken = page.NextToken || undefined;
    } while (NextToken);
    expect(paged).toEqual(all.map((r) => `${r.AvailabilityZone} ${r.ProductDescription}`));
    await expect(history({ Filters: [{ Name: 'spot-tier', Values: ['x'] }] })).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    await expect(history({ MaxResults: 2 })).rejects.toMatchObject({ name: 'InvalidParameterValue' });
  });
});

describe('GetProducts', () => {
  it('answers PriceList entries as JSON strings; the on-demand filters leave one product, whose OnDemand term is read', async () => {
    await emu.sim.request('POST', 'price-list/prices', { prices: [{ regionCode: 'us-east-1', instanceType: 'm5.large', usd: 0.096 }] });
    const res = await pricing.send(new GetProductsCommand({ ServiceCode: 'AmazonEC2', Filters: onDemandFilters('us-east-1', 'm5.large'), FormatVersion: 'aws_v1' }));
    expect(res.FormatVersion).toBe('aws_v1');
    expect(res.PriceList).toHaveLength(1);
    const product = JSON.parse(String(res.PriceList![0])) as { product: { attributes: Record<string, string> }; terms: Record<string, unknown> };
    expect(product.product.attributes).toMatchObject({ instanceType: 'm5.large', regionCode: 'us-east-1', operatingSystem: 'Linux', tenancy: 'Shared', capacitystatus: 'Used' });
    expect(Object.keys(product.terms).sort()).toEqual(['OnDemand', 'Reserved']);
    expect(parsePriceList(res.PriceList!)).toEqual(new Map([['m5.large', 0.096]]));
    // Without the filters a type has variants at other prices (Windows, Dedicated, reservations).
    const loose = await pricing.send(new GetProductsCommand({ ServiceCode: 'AmazonEC2', Filters: [{ Type: 'TERM_MATCH', Field: 'instanceType', Value: 'm5.large' }, { Type: 'TERM_MATCH', Field: 'regionCode', Value: 'us-east-1' }] }));
    expect(loose.PriceList!.length).toBeGreaterThan(3);
    await expect(fetchOnDemandPrice(workerPricing, 'us-east-1', 'm5.large')).resolves.toBe(0.096);
    await expect(fetchOnDemandPrice(workerPricing, 'us-east-1', 'no.such')).resolves.toBeUndefined();
  });

  it('pages with MaxResults and NextToken and refuses what the reference refuses', async () => {
    const filters = [{ Type: 'TERM_MATCH' as const, Field: 'regionCode', Value: 'eu-west-1' }];
    const all = (await pricing.send(new GetProductsCommand({ ServiceCode: 'AmazonEC2', Filters: filters }))).PriceList ?? [];
    const paged: string[] = [];
    let NextToken: string | undefined;
    do {
      const page = await pricing.send(new GetProductsCommand({ ServiceCode: 'AmazonEC2', Filters: filters, MaxResults: 7, NextToken }));
      paged.push(...(page.PriceList ?? []).map(String));
      NextToken = page.NextToken;
    } while (NextToken);
    expect(paged).toEqual(all.map(String));
    await expect(pricing.send(new GetProductsCommand({ ServiceCode: 'AmazonEC2', MaxResults: 101 }))).rejects.toMatchObject({ name: 'InvalidParameterException' });
    await expect(pricing.send(new GetProductsCommand({ ServiceCode: 'AmazonNoSuch' }))).rejects.toMatchObject({ name: 'NotFoundException' });
    await expect(pricing.send(new GetProductsCommand({ ServiceCode: 'AmazonEC2', NextToken: 'nope' }))).rejects.toMatchObject({ name: 'InvalidNextTokenException' });
  });

  it('on-demand prices fall back to the config table while the API fails, and are cached once it answers', async () => {
    let t = 0;
    const prices = createOnDemandPrices({ api: true, table: { 'm5.large': 0.1 }, endpoint: emu.endpoint, appId: AWS_APP_IDS.worker, now: () => t, retryAfterMs: 1_000, ttlMs: 10_000 });
    try {
      await emu.sim.setFaults({ id: 'pricing-down', service: 'pricing', fault: { kind: 'error', status: 503 } });
      const down = await prices.lookup('us-east-1', ['m5.large', 'c5.large']);
      expect([...down.prices]).toEqual([['m5.large', 0.1]]);
      expect(down.source.get('m5.large')).toBe('config');
      expect(down.apiError).toEqual(expect.any(String));
      await emu.sim.clearFaults();
      t += 2_000;
      const up = await prices.lookup('us-east-1', ['m5.large', 'c5.large']);
      expect(up.apiError).toBeUndefined();
      expect(up.source.get('m5.large')).toBe('price-list-api');
      expect(up.prices.get('c5.large')).toBeGreaterThan(0);
      // Cached: the API failing now changes nothing until the TTL.
      await emu.sim.setFaults({ id: 'pricing-down', service: 'pricing', fault: { kind: 'error', status: 503 } });
      expect((await prices.lookup('us-east-1', ['c5.large'])).source.get('c5.large')).toBe('price-list-api');
    } finally {
      await emu.sim.clearFaults();
      prices.destroy();
    }
  });
});
