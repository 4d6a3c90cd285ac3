import { METRICS, workerHistogramBuckets } from '../../common/metric-names';
import { hourlyCost } from '../../common/pricing/cost';
import { onDemandFilters, parsePriceList } from '../../common/pricing/price-list';
import { priceListApiRegionFor } from '../../common/pricing/regions';
import { fleetCost, fleetInstanceTypes, fleetView } from '../../contracts/capacity/fleet';
import type { CapacityStatus } from '../../contracts/capacity/messages';

/**
 * The pure parts of the fleet report: the Price List entries read, the cost arithmetic, the fleet view
 * of a capacity status, and the table of metric names the worker, router and dashboards share.
 */

/** A product as GetProducts sends it (a JSON string), with an on-demand and a reserved term. */
function product(instanceType: string, usd: string, extra: Record<string, string> = {}): string {
  return JSON.stringify({
    product: { productFamily: 'Compute Instance', attributes: { instanceType, regionCode: 'us-east-1', operatingSystem: 'Linux', ...extra }, sku: 'SKU1' },
    serviceCode: 'AmazonEC2',
    terms: {
      OnDemand: { 'SKU1.JRTCKXETXF': { priceDimensions: { 'SKU1.JRTCKXETXF.6YS6EN2CT7': { unit: 'Hrs', pricePerUnit: { USD: usd } } }, offerTermCode: 'JRTCKXETXF' } },
      Reserved: { 'SKU1.4NA7Y494T4': { priceDimensions: { 'SKU1.4NA7Y494T4.6YS6EN2CT7': { unit: 'Hrs', pricePerUnit: { USD: '0.0010000000' } } } } },
    },
  });
}

describe('Price List entries', () => {
  it('reads the OnDemand hourly USD price per instance type, never the reserved one; the lowest non-zero of several products; skips what is malformed', () => {
    const prices = parsePriceList([
      product('m5.large', '0.0960000000'),
      // A capacity reservation's allocated hours are 0 on the price list: not a price.
      product('m5.large', '0.0000000000', { capacitystatus: 'AllocatedCapacityReservation' }),
      product('m5.large', '0.1200000000', { licenseModel: 'Bring your own license' }),
      new String(product('c5.large', '0.0850000000')),
      '{not json',
      JSON.stringify({ product: { attributes: {} } }),
    ]);
    expect(prices).toEqual(
      new Map([
        ['m5.large', 0.096],
        ['c5.large', 0.085],
      ]),
    );
  });

  it('asks for Linux, shared tenancy, no pre-installed software, capacity used, in the instances\' region, at the endpoint for it', () => {
    expect(onDemandFilters('eu-west-1', 'm5.large').map((f) => `${f.Type} ${f.Field}=${f.Value}`)).toEqual([
      'TERM_MATCH regionCode=eu-west-1',
      'TERM_MATCH instanceType=m5.large',
      'TERM_MATCH operatingSystem=Linux',
      'TERM_MATCH tenancy=Shared',
      'TERM_MATCH preInstalledSw=NA',
      'TERM_MATCH capacitystatus=Used',
    ]);
    expect(priceListApiRegionFor('eu-west-1')).toBe('us-east-1');
    expect(priceListApiRegionFor('cn-north-1')).toBe('cn-northwest-1');
  });
});

describe('hourly cost', () => {
  const od = (t: string) => ({ 'm5.large': 0.096, 'c5.large': 0.085 })[t];

  it('prices spot at its spot price and on-demand on demand, against all on demand', () => {
    const c = hourlyCost(
      [
        { market: 'spot', instanceType: 'm5.large', instances: 3, spotPrice: 0.03 },
        { market: 'on-demand', instanceType: 'c5.large', instances: 1 },
      ],
      od,
    );
    expect(c).toEqual({ actual: 0.175, onDemand: 0.373, savingsRatio: 0.530831, pricedInstances: 4, unpricedInstances: 0, unpricedTypes: [] });
  });

  it('leaves out instances without both prices (and says which), so both totals price the same instances', () => {
    const c = hourlyCost(
      [
        { market: 'spot', instanceType: 'm5.large', instances: 2, spotPrice: 0.03 },
        { market: 'spot', instanceType: 'c5.large', instances: 1 },
        { market: 'on-demand', instanceType: 'x9.huge', instances: 2 },
        { market: 'spot', instanceType: 'x9.huge', instances: 1, spotPrice: 0.5 },
      ],
      od,
    );
    expect(c).toMatchObject({ actual: 0.06, onDemand: 0.192, pricedInstances: 2, unpricedInstances: 4, unpricedTypes: ['c5.large', 'x9.huge'] });
    expect(hourlyCost([], od).savingsRatio).toBeUndefined();
  });
});

const status = (over: Partial<CapacityStatus> = {}): CapacityStatus => ({
  phase: 'idle',
  summary: 'idle',
  cluster: 'demo',
  cleanups: 0,
  booting: { units: 0, instances: 0 },
  pools: [
    {
      name: 'spot-instant',
      kind: 'ec2-fleet',
      market: 'spot',
      targetUnits: 3,
      actualUnits: 3,
      activeUnits: 2,
      offerings: [
        { instanceType: 'm5.large', availabilityZone: 'us-east-1a', instances: 2, units: 2, activeInstances: 2, activeUnits: 2, spotPrice: 0.03 },
        { instanceType: 'm5a.large', availabilityZone: 'us-east-1b', instances: 1, units: 1, activeInstances: 0, activeUnits: 0, spotPrice: 0.028 },
      ],
    },
    { name: 'on-demand', kind: 'asg', market: 'on-demand', targetUnits: 2, actualUnits: 2, activeUnits: 2, offerings: [{ instanceType: 'm5.large', instances: 2, units: 2, activeInstances: 2, activeUnits: 2 }] },
    // Recorded before offerings existed: counts, but no types or zones.
    { name: 'spot-diversified', kind: 'spot-fleet', market: 'spot', targetUnits: 0, actualUnits: 0, activeUnits: 0 },
  ],
  poolsAt: '2026-01-01T00:00:00.000Z',
  unavailable: [],
  pending: { out: 0, in: 0, unmet: 2, requests: 0, unmetSince: '2026-01-01T00:00:00.000Z' },
  fallback: { onDemandUnits: 2, floorUnits: 0, movableUnits: 2, since: '2025-12-31T23:00:00.000Z' },
  decisions: [],
  signalsReceived: 0,
  duplicates: 0,
  plans: 0,
  continuedRuns: 0,
  ...over,
});

describe('fleet view of a capacity status', () => {
  it('has each pool\'s types, zones, units wanted and ACTIVE, its share, the spot share, unmet units and fallback', () => {
    const v = fleetView(status());
    expect(v.pools.map((p) => [p.name, p.market, p.instanceTypes.join(','), p.zones.join(','), p.wantedUnits, p.activeUnits, p.shareOfActive])).toEqual([
      ['spot-instant', 'spot', 'm5.large,m5a.large', 'us-east-1a,us-east-1b', 3, 2, 0.5],
      ['on-demand', 'on-demand', 'm5.large', 'unknown', 2, 2, 0.5],
      ['spot-diversified', 'spot', '', '', 0, 0, 0],
    ]);
    expect(v.units).toEqual({ wanted: 5, active: 4, activeSpot: 2 });
    expect(v.spotShare).toBe(0.5);
    expect(v.unmet).toEqual({ units: 2, since: '2026-01-01T00:00:00.000Z' });
    expect(v.fallback?.movableUnits).toBe(2);
    expect(fleetInstanceTypes(v)).toEqual(['m5.large', 'm5a.large']);
    // Live instances are what is billed: the not yet ACTIVE m5a.large too.
    expect(fleetCost(v, (t) => ({ 'm5.large': 0.096, 'm5a.large': 0.086 })[t])).toMatchObject({ actual: 0.28, onDemand: 0.47, pricedInstances: 5 });
    expect(fleetView(status({ pools: [] })).spotShare).toBeUndefined();
  });
});

describe('metric names', () => {
  it('are unique, prefixed fleetops_, counters end in _total once, and the drain margin histogram has second buckets', () => {
    const all = Object.values(METRICS);
    expect(new Set(all.map((m) => m.name)).size).toBe(all.length);
    for (const m of all) {
      expect(m.name).toMatch(/^fleetops_[a-z_]+$/);
      // The exporter adds no suffix (countersTotalSuffix off): a counter's name carries `_total`, once.
      if (m.type === 'counter') expect(m.name).toMatch(/^(?!.*_total_total$).*_total$/);
      else expect(m.name).not.toMatch(/_total$/);
      expect(m.labels).not.toContain('instance_id');
    }
    expect(workerHistogramBuckets()).toEqual({ fleetops_drain_seconds_left: [0, 10, 30, 60, 90, 120, 300, 600, 900] });
  });
});
