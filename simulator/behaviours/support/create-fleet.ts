import { DescribeLaunchTemplateVersionsCommand, RunInstancesCommand, type Instance, type _InstanceType } from '@aws-sdk/client-ec2';
import type { BehaviourContext, SimRequest } from '../../behaviour';
import { awsSuccessResponse, escapeXml, type SimResponse } from '../../protocol';
import { CLUSTER_TAG, scheduleRegistrations, type CapacityState } from './capacity-model';
import { indexed, instanceTagsOf, param } from './ec2-params';

/**
 * CreateFleet of type `instant` under the capacity behaviour's override limits, answered as
 * CreateFleet (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateFleet.html) answers
 * an instant fleet: the instances it could launch per override in `fleetInstanceSet`, and an
 * `errorSet` entry (errorCode, errorMessage) per override that ran out of capacity. Launched
 * instances join the cluster their `fleetops:cluster` tag names, else the configured cluster.
 */

function overrideLimit(state: CapacityState, type: string, az: string | undefined, market: string) {
  return state.limits.overrides.find(
    (l) => (!l.instanceType || l.instanceType === type) && (!l.availabilityZone || l.availabilityZone === az) && (!l.market || l.market === market),
  );
}

export async function createFleet(req: SimRequest, ctx: BehaviourContext, state: CapacityState): Promise<SimResponse> {
  const p = req.params;
  const total = Number(param(p, 'TargetCapacitySpecification.TotalTargetCapacity') ?? 0);
  const market = param(p, 'TargetCapacitySpecification.DefaultTargetCapacityType') ?? 'on-demand';
  const ltId = param(p, 'LaunchTemplateConfigs.1.LaunchTemplateSpecification.LaunchTemplateId');
  const ltName = param(p, 'LaunchTemplateConfigs.1.LaunchTemplateSpecification.LaunchTemplateName');
  const ltVersion = param(p, 'LaunchTemplateConfigs.1.LaunchTemplateSpecification.Version') ?? '$Latest';
  const overrides = indexed(p, 'LaunchTemplateConfigs.1.Overrides');
  const instanceTags = instanceTagsOf(p);
  const cluster = instanceTags.find((t) => t.Key === CLUSTER_TAG)?.Value ?? state.config.cluster;

  const versions = await ctx.aws().ec2.send(
    new DescribeLaunchTemplateVersionsCommand({ ...(ltId ? { LaunchTemplateId: ltId } : { LaunchTemplateName: ltName }), Versions: [ltVersion] }),
  );
  const lt = versions.LaunchTemplateVersions?.[0];
  const imageId = lt?.LaunchTemplateData?.ImageId ?? 'ami-12c6146b';
  const ltSpecXml = `<launchTemplateSpecification><launchTemplateId>${escapeXml(lt?.LaunchTemplateId ?? ltId ?? '')}</launchTemplateId><version>${escapeXml(String(lt?.VersionNumber ?? ltVersion))}</version></launchTemplateSpecification>`;

  let remaining = total;
  const launchedXml: string[] = [];
  const errorsXml: string[] = [];
  const launchedIds: string[] = [];
  for (const o of overrides) {
    if (remaining <= 0) break;
    const type = o.InstanceType ?? lt?.LaunchTemplateData?.InstanceType ?? 'm5.large';
    const az = o.AvailabilityZone;
    const weight = Number(o.WeightedCapacity ?? 1);
    const wanted = Math.ceil(remaining / weight);
    const limit = overrideLimit(state, type, az, market);
    const count = limit ? Math.min(wanted, Math.floor(limit.available / weight)) : wanted;
    const overrideXml = `<overrides><instanceType>${escapeXml(type)}</instanceType>${az ? `<availabilityZone>${escapeXml(az)}</availabilityZone>` : ''}${o.SubnetId ? `<subnetId>${escapeXml(o.SubnetId)}</subnetId>` : ''}<weightedCapacity>${weight}</weightedCapacity></overrides>`;
    if (count > 0) {
      const run = await ctx.aws().ec2.send(
        new RunInstancesCommand({
          ImageId: imageId,
          InstanceType: type as _InstanceType,
          MinCount: count,
          MaxCount: count,
          ...(o.SubnetId ? { SubnetId: o.SubnetId } : {}),
          ...(az ? { Placement: { AvailabilityZone: az } } : {}),
          ...(market === 'spot' ? { InstanceMarketOptions: { MarketType: 'spot' } } : {}),
          ...(instanceTags.length ? { TagSpecifications: [{ ResourceType: 'instance', Tags: instanceTags }] } : {}),
        }),
      );
      const ids = (run.Instances ?? []).map((i: Instance) => i.InstanceId ?? '').filter(Boolean);
      launchedIds.push(...ids);
      if (limit) limit.available -= ids.length * weight;
      remaining -= ids.length * weight;
      launchedXml.push(
        `<item><launchTemplateAndOverrides>${ltSpecXml}${overrideXml}</launchTemplateAndOverrides><lifecycle>${market}</lifecycle>` +
          `<instanceIds>${ids.map((id) => `<item>${id}</item>`).join('')}</instanceIds><instanceType>${escapeXml(type)}</instanceType></item>`,
      );
    }
    if (count < wanted && limit) {
      errorsXml.push(
        `<item><launchTemplateAndOverrides>${ltSpecXml}${overrideXml}</launchTemplateAndOverrides><lifecycle>${market}</lifecycle>` +
          `<errorCode>${limit.errorCode}</errorCode><errorMessage>${escapeXml(`There is no ${market} capacity available that matches your request (${type}${az ? ` in ${az}` : ''}).`)}</errorMessage></item>`,
      );
    }
  }
  scheduleRegistrations(state, launchedIds, cluster);
  state.fleetSeq += 1;
  const fleetId = `fleet-${(0x1000000 + state.fleetSeq).toString(16)}-sim0-4000-8000-${Date.now().toString(16).padStart(12, '0').slice(-12)}`;
  return awsSuccessResponse(req, {
    xml: `<fleetId>${fleetId}</fleetId><errorSet>${errorsXml.join('')}</errorSet><fleetInstanceSet>${launchedXml.join('')}</fleetInstanceSet>`,
  });
}
