import { POOL_DRIVERS } from '../../activities/capacity/pools';
import { instanceWeight } from '../../config/instance-weight';
import { clusterSchema, poolSchema } from '../../config/schema';

/** The pool-driver table and the one instance-weight rule, without AWS. */

describe('pool drivers', () => {
  it('has a driver for every pool kind the config schema accepts', () => {
    const kinds = poolSchema.options.map((o) => o.shape.kind.value).sort();
    expect(Object.keys(POOL_DRIVERS).sort()).toEqual(kinds);
  });
});

describe('instanceWeight', () => {
  const cluster = clusterSchema.parse({
    pools: [
      {
        name: 'fleet',
        kind: 'ec2-fleet',
        launchTemplate: { name: 'lt' },
        overrides: [
          { instanceType: 'm5.xlarge', availabilityZone: 'us-east-1a', weight: 2 },
          { instanceType: 'm5.xlarge', availabilityZone: 'us-east-1b', weight: 3 },
        ],
      },
      { name: 'sfr', kind: 'spot-fleet', spotFleetRequestId: 'sfr-0123abcd' },
    ],
    instanceWeights: { 'm5.xlarge': 4, 'c5.large': 5 },
  });
  const [fleet, sfr] = cluster.pools;

  it("takes the pool's own override (in the instance's zone) before the cluster's instanceWeights", () => {
    expect(instanceWeight(cluster, 'm5.xlarge', { pool: fleet, availabilityZone: 'us-east-1b' })).toBe(3);
    expect(instanceWeight(cluster, 'm5.xlarge', { pool: fleet, availabilityZone: 'us-east-1c' })).toBe(2);
    expect(instanceWeight(cluster, 'm5.xlarge', { pool: fleet })).toBe(2);
  });

  it('uses instanceWeights for pools whose overrides do not say, and 1 when nothing does', () => {
    expect(instanceWeight(cluster, 'm5.xlarge', { pool: sfr })).toBe(4);
    expect(instanceWeight(cluster, 'c5.large', { pool: fleet })).toBe(5);
    expect(instanceWeight(cluster, 't3.micro', { pool: fleet })).toBe(1);
    expect(instanceWeight(cluster, undefined)).toBe(1);
  });

  it('searches every pool in ladder order when the pool is not known (a drain)', () => {
    expect(instanceWeight(cluster, 'm5.xlarge')).toBe(2);
    expect(instanceWeight(cluster, 'c5.large')).toBe(5);
  });
});
