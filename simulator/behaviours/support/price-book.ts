/**
 * The prices the emulator quotes when a test sets none: plausible, deterministic figures, not AWS's.
 * On demand: by instance size (a `large` at 0.096 USD an hour, doubling per size up), 10 % more for
 * families with local disks (m5d, c6gd). Spot: 30 % of on demand,
 * a tenth of a cent an hour more per zone letter after `a`, so zones differ as they do on AWS.
 * Used by spot-price-history.ts and price-list.ts; tests set exact figures through their routes.
 *
 * The shape follows AWS's pages, the figures do not: "Amazon EC2 instance type naming conventions"
 * (https://docs.aws.amazon.com/ec2/latest/instancetypes/instance-type-names.html: a family, a `d` for
 * local NVMe disks, a size where each step up doubles vCPUs and memory), "Amazon EC2 On-Demand Pricing"
 * (https://aws.amazon.com/ec2/pricing/on-demand/: an hourly USD price per type and region, which
 * roughly doubles with the size) and "Amazon EC2 Spot Instances Pricing"
 * (https://aws.amazon.com/ec2/spot/pricing/: a lower price per type that differs by Availability Zone).
 */

const SIZE_STEPS: Record<string, number> = { nano: -4, micro: -3, small: -2, medium: -1, large: 0, xlarge: 1 };

/** Steps above `large`: xlarge 1, 2xlarge 2, 4xlarge 3, 8xlarge 4, 12xlarge ~4.6, metal as 24xlarge. */
function sizeSteps(size: string): number | undefined {
  if (size in SIZE_STEPS) return SIZE_STEPS[size];
  if (size === 'metal') return 1 + Math.log2(24);
  const m = /^(\d+)xlarge$/.exec(size);
  return m ? 1 + Math.log2(Number(m[1])) : undefined;
}

/** USD an hour on demand, Linux, shared tenancy; undefined for a name that is not `<family>.<size>`. */
export function referenceOnDemandPrice(instanceType: string): number | undefined {
  const [family, size] = instanceType.split('.');
  if (!family || !size) return undefined;
  const steps = sizeSteps(size);
  if (steps === undefined) return undefined;
  const disk = /\dd/.test(family) ? 1.1 : 1;
  return round(0.096 * 2 ** steps * disk);
}

/** USD an hour on spot in `zone` (its letter after the region name sets the offset). */
export function referenceSpotPrice(instanceType: string, zone: string): number | undefined {
  const od = referenceOnDemandPrice(instanceType);
  if (od === undefined) return undefined;
  const letter = zone.charCodeAt(zone.length - 1) - 'a'.charCodeAt(0);
  return round(od * 0.3 + Math.max(0, letter) * 0.001);
}

export const round = (n: number): number => Math.round(n * 1e6) / 1e6;
