import { DescribeSpotPriceHistoryCommand, type _InstanceType } from '@aws-sdk/client-ec2';
import type { AwsClients } from '../aws/clients';
import { awsCall } from '../aws/errors';

/**
 * The spot price in force now per instance type and zone (`<type>/<zone>`), Linux/UNIX: one
 * DescribeSpotPriceHistory from now, which answers the last change before its StartTime ("the
 * effective price as of the start time", EC2 API Reference). They order scale-in victims and price the
 * fleet in the capacity workflow's status. Absent where the API has none, and all absent when it
 * fails: they are never worth failing a read of the pools for.
 */
export async function spotPrices(aws: AwsClients, types: string[]): Promise<Map<string, number>> {
  const prices = new Map<string, number>();
  if (types.length === 0) return prices;
  try {
    const res = await awsCall('ec2:DescribeSpotPriceHistory', () =>
      aws.ec2.send(new DescribeSpotPriceHistoryCommand({ InstanceTypes: types as _InstanceType[], ProductDescriptions: ['Linux/UNIX'], StartTime: new Date() })),
    );
    // The latest change per type and zone is the price in force (the answer's order is not relied on).
    const latest = new Map<string, number>();
    for (const p of res.SpotPriceHistory ?? []) {
      const price = Number(p.SpotPrice);
      const key = `${p.InstanceType}/${p.AvailabilityZone}`;
      const at = p.Timestamp?.getTime() ?? 0;
      if (Number.isFinite(price) && at >= (latest.get(key) ?? -Infinity)) {
        prices.set(key, price);
        latest.set(key, at);
      }
    }
  } catch {
    // Without prices scale-in keeps pool order and the fleet report counts the instances as unpriced.
  }
  return prices;
}
