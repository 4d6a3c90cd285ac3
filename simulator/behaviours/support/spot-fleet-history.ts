import { DescribeSpotFleetRequestsCommand } from '@aws-sdk/client-ec2';
import type { BehaviourContext, SimRequest } from '../../behaviour';
import { awsErrorResponse, awsSuccessResponse, escapeXml, type SimResponse } from '../../protocol';
import type { CapacityState } from './capacity-model';
import { param } from './ec2-params';

/**
 * The Spot Fleet history the capacity behaviour keeps (moto keeps none). A raise past the pool's
 * limit is recorded as "Spot Fleet event types"
 * (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-fleet-event-types.html) lists: an
 * `information` / `launchSpecTemporarilyBlacklisted` record per launch specification and an `error` /
 * `allLaunchSpecsTemporarilyBlacklisted` record; DescribeSpotFleetRequestHistory
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeSpotFleetRequestHistory.html)
 * answers from them, filtered by StartTime and EventType.
 */

export async function recordBlocked(ctx: BehaviourContext, state: CapacityState, sfr: string, code: string): Promise<void> {
  const res = await ctx.aws().ec2.send(new DescribeSpotFleetRequestsCommand({ SpotFleetRequestIds: [sfr] }));
  const specs = res.SpotFleetRequestConfigs?.[0]?.SpotFleetRequestConfig?.LaunchSpecifications ?? [];
  const at = new Date().toISOString();
  const records = state.fleetHistory.get(sfr) ?? [];
  for (const spec of specs) {
    const zone = spec.Placement?.AvailabilityZone;
    records.push({
      at,
      type: 'information',
      subType: 'launchSpecTemporarilyBlacklisted',
      description: `${spec.InstanceType ?? 'unknown'}, ${spec.ImageId ?? ''}, Linux/UNIX${zone ? `, ${zone}` : ''}: ${code}: There is no Spot capacity available that matches your request.`,
    });
  }
  records.push({ at, type: 'error', subType: 'allLaunchSpecsTemporarilyBlacklisted', description: 'All launch specifications are temporarily blacklisted after several failed attempts to launch instances.' });
  state.fleetHistory.set(sfr, records);
}

export function historyResponse(req: SimRequest, state: CapacityState): SimResponse {
  const sfr = param(req.params, 'SpotFleetRequestId') ?? '';
  const start = Date.parse(param(req.params, 'StartTime') ?? '');
  if (!sfr || Number.isNaN(start)) {
    return awsErrorResponse(req, { status: 400, code: 'MissingParameter', message: 'The request must contain the parameters SpotFleetRequestId and StartTime' });
  }
  const eventType = param(req.params, 'EventType');
  const records = (state.fleetHistory.get(sfr) ?? []).filter((r) => Date.parse(r.at) >= start && (!eventType || r.type === eventType));
  const now = new Date().toISOString();
  const items = records
    .map(
      (r) =>
        `<item><eventInformation><eventSubType>${escapeXml(r.subType)}</eventSubType><eventDescription>${escapeXml(r.description)}</eventDescription></eventInformation>` +
        `<eventType>${r.type}</eventType><timestamp>${r.at}</timestamp></item>`,
    )
    .join('');
  return awsSuccessResponse(req, {
    xml: `<spotFleetRequestId>${escapeXml(sfr)}</spotFleetRequestId><startTime>${new Date(start).toISOString()}</startTime><lastEvaluatedTime>${now}</lastEvaluatedTime><historyRecordSet>${items}</historyRecordSet>`,
  });
}
