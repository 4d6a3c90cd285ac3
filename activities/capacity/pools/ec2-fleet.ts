import { CreateFleetCommand, type CreateFleetCommandInput, type _InstanceType } from '@aws-sdk/client-ec2';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../../common/failures';
import { mutatingAwsCall } from '../../aws/dry-run';
import { classifyAwsError } from '../../aws/errors';
import { POOL_TAG_CLUSTER, POOL_TAG_POOL, type LaunchedInstance, type OverrideCapacityError } from '../types';
import { LIVE_STATES, describeInstances, fromEc2, invalid, terminateInstance, weightIn, type PoolDriver } from './driver';

/**
 * `ec2-fleet`: EC2 Fleet `instant` from a launch template and instance-type overrides. There is no
 * fleet to keep: each request is one CreateFleet that answers with what it launched and, per
 * override, what could not launch; the pool's instances are found by the tags fleetops puts on them.
 */
export const ec2FleetDriver: PoolDriver<'ec2-fleet'> = {
  market: (pool) => pool.market,
  async describe(ctx, pool) {
    const list = await describeInstances(ctx, [
      { Name: 'instance-state-name', Values: LIVE_STATES },
      { Name: `tag:${POOL_TAG_CLUSTER}`, Values: [ctx.cluster] },
      { Name: `tag:${POOL_TAG_POOL}`, Values: [pool.name] },
    ]);
    // An `instant` fleet launches once: nothing replaces a lost instance.
    return { instances: fromEc2(list), replaces: { interrupted: false, onRebalance: false } };
  },

  // CreateFleet `instant` reports its errors in its answer; there is nothing to watch afterwards.
  capacityError: async () => undefined,

  /** CreateFleet `instant`, price-capacity-optimized over the overrides not marked unavailable. */
  async request(ctx, pool, input) {
    const excluded = (o: { instanceType: string; availabilityZone?: string }) =>
      input.excludeOverrides.some((x) => x.instanceType === o.instanceType && (x.availabilityZone === undefined || x.availabilityZone === o.availabilityZone));
    const overrides = pool.overrides.filter((o) => !excluded(o));
    if (overrides.length === 0) throw invalid(`pool ${pool.name}: every override is marked unavailable`);
    const params: CreateFleetCommandInput = {
      Type: 'instant',
      ClientToken: input.clientToken,
      TargetCapacitySpecification: { TotalTargetCapacity: input.units, DefaultTargetCapacityType: pool.market },
      ...(pool.market === 'spot'
        ? { SpotOptions: { AllocationStrategy: 'price-capacity-optimized' } }
        : { OnDemandOptions: { AllocationStrategy: 'lowest-price' } }),
      LaunchTemplateConfigs: [
        {
          LaunchTemplateSpecification: {
            ...(pool.launchTemplate.id ? { LaunchTemplateId: pool.launchTemplate.id } : { LaunchTemplateName: pool.launchTemplate.name }),
            Version: pool.launchTemplate.version,
          },
          Overrides: overrides.map((o) => ({
            InstanceType: o.instanceType as _InstanceType,
            ...(o.subnetId ? { SubnetId: o.subnetId } : {}),
            ...(o.availabilityZone ? { AvailabilityZone: o.availabilityZone } : {}),
            WeightedCapacity: o.weight,
          })),
        },
      ],
      TagSpecifications: [
        {
          ResourceType: 'instance',
          Tags: [
            { Key: POOL_TAG_CLUSTER, Value: input.cluster },
            { Key: POOL_TAG_POOL, Value: pool.name },
          ],
        },
      ],
    };
    const m = await mutatingAwsCall(input.dryRun, 'ec2:CreateFleet', { ...params }, () => ctx.aws.ec2.send(new CreateFleetCommand(params)));
    if (m.dryRun) return { kind: 'instant', launched: [], launchedUnits: 0, errors: [], dryRunCall: m.call };
    const launched: LaunchedInstance[] = [];
    for (const group of m.result.Instances ?? []) {
      const o = group.LaunchTemplateAndOverrides?.Overrides;
      const type = group.InstanceType ?? o?.InstanceType;
      for (const id of group.InstanceIds ?? []) {
        launched.push({
          instanceId: id,
          instanceType: type ?? 'unknown',
          ...(o?.AvailabilityZone ? { availabilityZone: o.AvailabilityZone } : {}),
          // What AWS says it counted; the config's weight only when it does not say.
          weight: o?.WeightedCapacity ?? weightIn(ctx, pool, type, o?.AvailabilityZone),
        });
      }
    }
    const errors: OverrideCapacityError[] = (m.result.Errors ?? []).map((e) => {
      const o = e.LaunchTemplateAndOverrides?.Overrides;
      const cfg = pool.overrides.find((x) => x.instanceType === o?.InstanceType && (!o?.SubnetId || x.subnetId === o.SubnetId));
      const zone = o?.AvailabilityZone ?? cfg?.availabilityZone;
      return {
        instanceType: o?.InstanceType ?? 'unknown',
        ...(zone ? { availabilityZone: zone } : {}),
        code: e.ErrorCode ?? 'Unknown',
        message: e.ErrorMessage ?? '',
      };
    });
    // Nothing launched and no error is about capacity: the request itself is wrong; say so instead of skipping the pool quietly.
    if (launched.length === 0 && errors.length > 0 && errors.every((e) => classifyAwsError({ name: e.code }).type !== FailureType.AwsCapacityUnavailable)) {
      const first = errors[0]!;
      const c = classifyAwsError({ name: first.code });
      throw ApplicationFailure.create({ type: c.type, nonRetryable: true, message: `ec2:CreateFleet: ${first.code}: ${first.message}` });
    }
    return { kind: 'instant', launched, launchedUnits: launched.reduce((s, i) => s + i.weight, 0), errors };
  },

  // No target: an `instant` fleet launches once and is not asked again.
  withdraw: async () => [],

  // No target to lower: terminating the instance is all.
  remove: (ctx, _pool, input) => terminateInstance(ctx, input.instanceId, input.dryRun),
};
