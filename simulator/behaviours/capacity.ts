import {
  DescribeAutoScalingGroupsCommand,
  SetDesiredCapacityCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  DescribeLaunchTemplateVersionsCommand,
  DescribeSpotFleetInstancesCommand,
  DescribeSpotFleetRequestsCommand,
  ModifySpotFleetRequestCommand,
  RunInstancesCommand,
  type Instance,
  type _InstanceType,
} from '@aws-sdk/client-ec2';
import { z } from 'zod';
import { registerBootedInstance } from './support/register-booted';
import type { Behaviour, BehaviourContext, BehaviourFactory, SimRequest } from '../behaviour';
import { awsErrorResponse, awsSuccessResponse, type SimResponse } from '../protocol';

/**
 * EC2 capacity as the capacity workflow meets it, which moto does not model (moto launches whatever
 * is asked at once and never registers container instances):
 *  - per-pool capacity limits that fail the way AWS fails: CreateFleet `instant` answers with what it
 *    could launch and an `Errors` entry per override that ran out (InsufficientInstanceCapacity...);
 *    an ASG raised past its limit gets a failed scaling activity;
 *  - a Spot Fleet raised past its limit stays `pending_fulfillment` (ActivityStatus says nothing of
 *    capacity: AWS sets `error` for a broken request, not for a shortage) and tells it only in its
 *    history, as "Spot Fleet event types"
 *    (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-fleet-event-types.html) and
 *    DescribeSpotFleetRequestHistory (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeSpotFleetRequestHistory.html)
 *    document: an `information` / `launchSpecTemporarilyBlacklisted` record per launch specification
 *    (type, AMI, platform, zone, the capacity error) and an `error` / `allLaunchSpecsTemporarilyBlacklisted`
 *    record once every specification failed. moto has no history; this behaviour answers
 *    DescribeSpotFleetRequestHistory from what it recorded (StartTime and EventType filter it);
 *  - delayed fulfilment of Spot Fleet and ASG raises (`fulfilmentDelaySeconds`);
 *  - new instances join an ECS cluster `bootDelaySeconds` after launch, through
 *    RegisterContainerInstance with an identity document naming the EC2 instance, as the ECS agent does:
 *    CreateFleet launches (whether limits are set or not) join the cluster their `fleetops:cluster`
 *    instance tag names, else `cluster`; Spot Fleet and ASG raises join `cluster`;
 *  - CreateFleet honours its ClientToken as "Ensuring idempotency in Amazon EC2 API requests"
 *    (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html) says, which moto
 *    ignores: a repeated token with the same parameters answers the first request's result (its
 *    fleet and instances, nothing new launched); with other parameters, IdempotentParameterMismatch.
 *
 * Routes under `/_sim/capacity`: `POST /limits` `{ overrides?: [{instanceType?, availabilityZone?,
 * market?, available, errorCode?}], pools?: {<sfr id or ASG name>: {maxUnits, errorCode?}} }`
 * (replaces the limits); `POST /config` `{ bootDelaySeconds?, fulfilmentDelaySeconds?, cluster? }`;
 * `GET /` → limits, config, pending raises, scheduled and done registrations.
 */

const CAPACITY_CODES = ['InsufficientInstanceCapacity', 'MaxSpotInstanceCountExceeded', 'SpotMaxPriceTooLow', 'InstanceLimitExceeded', 'VcpuLimitExceeded'] as const;

const overrideLimitSchema = z
  .object({
    instanceType: z.string().optional(),
    availabilityZone: z.string().optional(),
    market: z.enum(['spot', 'on-demand']).optional(),
    /** Units still available; each launch takes its weight off. */
    available: z.number().nonnegative(),
    errorCode: z.enum(CAPACITY_CODES).default('InsufficientInstanceCapacity'),
  })
  .strict();

const limitsSchema = z
  .object({
    overrides: z.array(overrideLimitSchema).default([]),
    pools: z.record(z.string(), z.object({ maxUnits: z.number().nonnegative(), errorCode: z.enum(CAPACITY_CODES).default('InsufficientInstanceCapacity') }).strict()).default({}),
  })
  .strict();

const configSchema = z
  .object({
    bootDelaySeconds: z.number().nonnegative().max(3600).optional(),
    fulfilmentDelaySeconds: z.number().nonnegative().max(3600).optional(),
    /** Cluster that instances of Spot Fleet / ASG raises (and untagged CreateFleet launches) join; none: they join no cluster. */
    cluster: z.string().min(1).optional(),
  })
  .strict();

type Limits = z.infer<typeof limitsSchema>;

interface PendingRaise {
  kind: 'spot-fleet' | 'asg';
  pool: string;
  target: number;
  applyAt: number;
  excessPolicy?: string;
}

interface Registration {
  instanceId: string;
  cluster: string;
  registerAt: number;
  registeredAt?: string;
  error?: string;
}

interface HistoryRecord {
  at: string;
  type: 'error' | 'information' | 'fleetRequestChange' | 'instanceChange';
  subType: string;
  description: string;
}

interface FailedActivity {
  asg: string;
  at: string;
  code: string;
  message: string;
}

const CLUSTER_TAG = 'fleetops:cluster';

function xmlEscape(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);
}

/** `Prefix.1.Field`, `Prefix.2.Field`... → one record per index. */
function indexed(params: Record<string, unknown>, prefix: string): Record<string, string>[] {
  const out = new Map<number, Record<string, string>>();
  const re = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(\\d+)\\.(.+)$`);
  for (const [k, v] of Object.entries(params)) {
    const m = re.exec(k);
    if (!m) continue;
    const i = Number(m[1]);
    const rec = out.get(i) ?? {};
    rec[m[2]!] = String(v);
    out.set(i, rec);
  }
  return [...out.entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => r);
}

function param(params: Record<string, unknown>, name: string): string | undefined {
  const v = params[name];
  return v === undefined ? undefined : String(v);
}

/** The tags a CreateFleet request puts on the instances it launches. */
function instanceTagsOf(params: Record<string, unknown>): { Key: string; Value: string }[] {
  return indexed(params, 'TagSpecification')
    .map((t, i) => ({ type: t.ResourceType, tags: indexed(params, `TagSpecification.${i + 1}.Tag`).map((x) => ({ Key: x.Key ?? '', Value: x.Value ?? '' })) }))
    .filter((t) => t.type === 'instance')
    .flatMap((t) => t.tags);
}

/** Rewrites each top-level `<item>` of the `<set>` element (nested items, e.g. launch specs, stay inside their parent). */
function topLevelItems(xml: string, set: string, rewrite: (item: string) => string): string {
  const open = xml.indexOf(`<${set}>`);
  const close = xml.indexOf(`</${set}>`);
  if (open < 0 || close < 0) return xml;
  const start = open + set.length + 2;
  const inner = xml.slice(start, close);
  let out = '';
  let depth = 0;
  let itemStart = -1;
  const tag = /<(\/?)item>/g;
  let last = 0;
  for (let m = tag.exec(inner); m; m = tag.exec(inner)) {
    if (m[1] === '') {
      if (depth === 0) {
        out += inner.slice(last, m.index);
        itemStart = m.index;
      }
      depth += 1;
    } else {
      depth -= 1;
      if (depth === 0 && itemStart >= 0) {
        const end = m.index + m[0].length;
        out += rewrite(inner.slice(itemStart, end));
        last = end;
        itemStart = -1;
      }
    }
  }
  out += inner.slice(last);
  return xml.slice(0, start) + out + xml.slice(close);
}

export const capacityBehaviour: BehaviourFactory = () => {
  let limits: Limits = { overrides: [], pools: {} };
  let config: z.infer<typeof configSchema> = {};
  let pending: PendingRaise[] = [];
  let registrations: Registration[] = [];
  let failedActivities: FailedActivity[] = [];
  /** Spot Fleets whose declared target differs from moto's, and whether they failed. */
  const declared = new Map<string, { target: number; error?: string }>();
  /** DescribeSpotFleetRequestHistory records per Spot Fleet (moto keeps none). */
  const fleetHistory = new Map<string, HistoryRecord[]>();

  async function recordBlocked(ctx: BehaviourContext, sfr: string, code: string): Promise<void> {
    const res = await ctx.aws().ec2.send(new DescribeSpotFleetRequestsCommand({ SpotFleetRequestIds: [sfr] }));
    const specs = res.SpotFleetRequestConfigs?.[0]?.SpotFleetRequestConfig?.LaunchSpecifications ?? [];
    const at = new Date().toISOString();
    const records = fleetHistory.get(sfr) ?? [];
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
    fleetHistory.set(sfr, records);
  }

  function historyResponse(req: SimRequest): SimResponse {
    const sfr = param(req.params, 'SpotFleetRequestId') ?? '';
    const start = Date.parse(param(req.params, 'StartTime') ?? '');
    if (!sfr || Number.isNaN(start)) {
      return awsErrorResponse(req, { status: 400, code: 'MissingParameter', message: 'The request must contain the parameters SpotFleetRequestId and StartTime' });
    }
    const eventType = param(req.params, 'EventType');
    const records = (fleetHistory.get(sfr) ?? []).filter((r) => Date.parse(r.at) >= start && (!eventType || r.type === eventType));
    const now = new Date().toISOString();
    const items = records
      .map(
        (r) =>
          `<item><eventInformation><eventSubType>${xmlEscape(r.subType)}</eventSubType><eventDescription>${xmlEscape(r.description)}</eventDescription></eventInformation>` +
          `<eventType>${r.type}</eventType><timestamp>${r.at}</timestamp></item>`,
      )
      .join('');
    return awsSuccessResponse(req, {
      xml: `<spotFleetRequestId>${xmlEscape(sfr)}</spotFleetRequestId><startTime>${new Date(start).toISOString()}</startTime><lastEvaluatedTime>${now}</lastEvaluatedTime><historyRecordSet>${items}</historyRecordSet>`,
    });
  }
  let fleetSeq = 0;
  /** CreateFleet answers by ClientToken, with the parameters they answered (the token excluded). */
  const fleetTokens = new Map<string, { fingerprint: string; res: SimResponse }>();
  const fingerprint = (params: Record<string, unknown>) =>
    JSON.stringify(Object.entries(params).filter(([k]) => k !== 'ClientToken').sort(([a], [b]) => a.localeCompare(b)));

  const bootMs = () => (config.bootDelaySeconds ?? 0) * 1000;

  function schedule(instanceIds: string[], cluster: string | undefined): void {
    if (!cluster) return;
    const at = Date.now() + bootMs();
    for (const id of instanceIds) {
      if (!registrations.some((r) => r.instanceId === id)) registrations.push({ instanceId: id, cluster, registerAt: at });
    }
  }

  function overrideLimit(type: string, az: string | undefined, market: string) {
    return limits.overrides.find(
      (l) => (!l.instanceType || l.instanceType === type) && (!l.availabilityZone || l.availabilityZone === az) && (!l.market || l.market === market),
    );
  }

  async function spotFleetInstances(ctx: BehaviourContext, sfr: string): Promise<string[]> {
    const res = await ctx.aws().ec2.send(new DescribeSpotFleetInstancesCommand({ SpotFleetRequestId: sfr }));
    return (res.ActiveInstances ?? []).map((i) => i.InstanceId ?? '').filter(Boolean);
  }

  async function asgInstances(ctx: BehaviourContext, name: string): Promise<string[]> {
    const res = await ctx.aws().autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }));
    return (res.AutoScalingGroups?.[0]?.Instances ?? []).map((i) => i.InstanceId ?? '').filter(Boolean);
  }

  /** Applies a raise to moto, clipped to the pool's limit; new instances are scheduled to join the cluster. */
  async function apply(ctx: BehaviourContext, p: PendingRaise): Promise<void> {
    const rule = limits.pools[p.pool];
    const allowed = rule ? Math.min(p.target, rule.maxUnits) : p.target;
    if (p.kind === 'spot-fleet') {
      const before = new Set(await spotFleetInstances(ctx, p.pool));
      await ctx.aws().ec2.send(
        new ModifySpotFleetRequestCommand({
          SpotFleetRequestId: p.pool,
          TargetCapacity: allowed,
          ...(p.excessPolicy ? { ExcessCapacityTerminationPolicy: p.excessPolicy as 'noTermination' } : {}),
        }),
      );
      if (allowed < p.target) {
        const code = rule?.errorCode ?? 'InsufficientInstanceCapacity';
        declared.set(p.pool, { target: p.target, error: code });
        await recordBlocked(ctx, p.pool, code);
      } else declared.delete(p.pool);
      schedule((await spotFleetInstances(ctx, p.pool)).filter((id) => !before.has(id)), config.cluster);
    } else {
      const before = new Set(await asgInstances(ctx, p.pool));
      await ctx.aws().autoscaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: p.pool, DesiredCapacity: allowed }));
      if (allowed < p.target) {
        const code = rule?.errorCode ?? 'InsufficientInstanceCapacity';
        failedActivities.push({
          asg: p.pool,
          at: new Date().toISOString(),
          code,
          message: `Launching a new EC2 instance. Status Reason: ${code}: We currently do not have sufficient capacity in the Availability Zone you requested. Launching EC2 instance failed.`,
        });
      }
      schedule((await asgInstances(ctx, p.pool)).filter((id) => !before.has(id)), config.cluster);
    }
  }

  async function createFleet(req: SimRequest, ctx: BehaviourContext): Promise<SimResponse> {
    const p = req.params;
    const total = Number(param(p, 'TargetCapacitySpecification.TotalTargetCapacity') ?? 0);
    const market = param(p, 'TargetCapacitySpecification.DefaultTargetCapacityType') ?? 'on-demand';
    const ltId = param(p, 'LaunchTemplateConfigs.1.LaunchTemplateSpecification.LaunchTemplateId');
    const ltName = param(p, 'LaunchTemplateConfigs.1.LaunchTemplateSpecification.LaunchTemplateName');
    const ltVersion = param(p, 'LaunchTemplateConfigs.1.LaunchTemplateSpecification.Version') ?? '$Latest';
    const overrides = indexed(p, 'LaunchTemplateConfigs.1.Overrides');
    const instanceTags = instanceTagsOf(p);
    const cluster = instanceTags.find((t) => t.Key === CLUSTER_TAG)?.Value ?? config.cluster;

    const versions = await ctx.aws().ec2.send(
      new DescribeLaunchTemplateVersionsCommand({ ...(ltId ? { LaunchTemplateId: ltId } : { LaunchTemplateName: ltName }), Versions: [ltVersion] }),
    );
    const lt = versions.LaunchTemplateVersions?.[0];
    const imageId = lt?.LaunchTemplateData?.ImageId ?? 'ami-12c6146b';
    const ltSpecXml = `<launchTemplateSpecification><launchTemplateId>${xmlEscape(lt?.LaunchTemplateId ?? ltId ?? '')}</launchTemplateId><version>${xmlEscape(String(lt?.VersionNumber ?? ltVersion))}</version></launchTemplateSpecification>`;

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
      const limit = overrideLimit(type, az, market);
      const count = limit ? Math.min(wanted, Math.floor(limit.available / weight)) : wanted;
      const overrideXml = `<overrides><instanceType>${xmlEscape(type)}</instanceType>${az ? `<availabilityZone>${xmlEscape(az)}</availabilityZone>` : ''}${o.SubnetId ? `<subnetId>${xmlEscape(o.SubnetId)}</subnetId>` : ''}<weightedCapacity>${weight}</weightedCapacity></overrides>`;
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
            `<instanceIds>${ids.map((id) => `<item>${id}</item>`).join('')}</instanceIds><instanceType>${xmlEscape(type)}</instanceType></item>`,
        );
      }
      if (count < wanted && limit) {
        errorsXml.push(
          `<item><launchTemplateAndOverrides>${ltSpecXml}${overrideXml}</launchTemplateAndOverrides><lifecycle>${market}</lifecycle>` +
            `<errorCode>${limit.errorCode}</errorCode><errorMessage>${xmlEscape(`There is no ${market} capacity available that matches your request (${type}${az ? ` in ${az}` : ''}).`)}</errorMessage></item>`,
        );
      }
    }
    schedule(launchedIds, cluster);
    fleetSeq += 1;
    const fleetId = `fleet-${(0x1000000 + fleetSeq).toString(16)}-sim0-4000-8000-${Date.now().toString(16).padStart(12, '0').slice(-12)}`;
    return awsSuccessResponse(req, {
      xml: `<fleetId>${fleetId}</fleetId><errorSet>${errorsXml.join('')}</errorSet><fleetInstanceSet>${launchedXml.join('')}</fleetInstanceSet>`,
    });
  }

  const behaviour: Behaviour = {
    name: 'capacity',

    async intercept(req, ctx) {
      if (req.service === 'ec2' && req.action === 'DescribeSpotFleetRequestHistory') return historyResponse(req);
      const token = req.service === 'ec2' && req.action === 'CreateFleet' ? param(req.params, 'ClientToken') : undefined;
      const seen = token !== undefined ? fleetTokens.get(token) : undefined;
      if (seen) {
        if (seen.fingerprint === fingerprint(req.params)) return { ...seen.res, body: Buffer.from(seen.res.body) };
        return awsErrorResponse(req, {
          status: 400,
          code: 'IdempotentParameterMismatch',
          message: `The client token you have provided is associated with a resource that is already deleted or has different parameters. Please use a different client token.`,
        });
      }
      if (req.service === 'ec2' && req.action === 'CreateFleet' && param(req.params, 'Type') === 'instant' && limits.overrides.length > 0) {
        return createFleet(req, ctx);
      }
      if (req.service === 'ec2' && req.action === 'ModifySpotFleetRequest') {
        const pool = param(req.params, 'SpotFleetRequestId') ?? '';
        const target = Number(param(req.params, 'TargetCapacity'));
        const raise: PendingRaise = {
          kind: 'spot-fleet',
          pool,
          target,
          applyAt: Date.now() + (config.fulfilmentDelaySeconds ?? 0) * 1000,
          ...(param(req.params, 'ExcessCapacityTerminationPolicy') ? { excessPolicy: param(req.params, 'ExcessCapacityTerminationPolicy') } : {}),
        };
        pending = pending.filter((x) => x.pool !== pool);
        if (raise.applyAt <= Date.now()) await apply(ctx, raise);
        else {
          pending.push(raise);
          declared.set(pool, { target });
        }
        return awsSuccessResponse(req, { xml: '<return>true</return>' });
      }
      if (req.service === 'autoscaling' && req.action === 'SetDesiredCapacity') {
        const pool = param(req.params, 'AutoScalingGroupName') ?? '';
        const raise: PendingRaise = {
          kind: 'asg',
          pool,
          target: Number(param(req.params, 'DesiredCapacity')),
          applyAt: Date.now() + (config.fulfilmentDelaySeconds ?? 0) * 1000,
        };
        pending = pending.filter((x) => x.pool !== pool);
        if (raise.applyAt <= Date.now()) await apply(ctx, raise);
        else pending.push(raise);
        return awsSuccessResponse(req, {});
      }
      if (req.service === 'autoscaling' && req.action === 'DescribeScalingActivities') {
        const name = param(req.params, 'AutoScalingGroupName');
        const acts = failedActivities.filter((a) => !name || a.asg === name).reverse();
        const xml = acts
          .map(
            (a, i) =>
              `<member><ActivityId>sim-${i}-${xmlEscape(a.at)}</ActivityId><AutoScalingGroupName>${xmlEscape(a.asg)}</AutoScalingGroupName>` +
              `<Description>Launching a new EC2 instance.  Status Reason: ${xmlEscape(a.code)}</Description><Cause>${xmlEscape('a user request raised the desired capacity')}</Cause>` +
              `<StartTime>${a.at}</StartTime><EndTime>${a.at}</EndTime><StatusCode>Failed</StatusCode><StatusMessage>${xmlEscape(a.message)}</StatusMessage><Progress>100</Progress></member>`,
          )
          .join('');
        return awsSuccessResponse(req, { xml: `<Activities>${xml}</Activities>` });
      }
      return undefined;
    },

    afterResponse(req, res) {
      if (req.service === 'ec2' && req.action === 'CreateFleet' && res.status === 200) {
        const token = param(req.params, 'ClientToken');
        if (token !== undefined && !fleetTokens.has(token)) fleetTokens.set(token, { fingerprint: fingerprint(req.params), res: { ...res, body: Buffer.from(res.body) } });
        // Launched by moto (no override limits set): these boot and join their cluster too. Instances this
        // behaviour launched itself are already scheduled; schedule() keeps one registration per instance.
        const ids = [...res.body.toString('utf8').matchAll(/<item>(i-[0-9a-f]+)<\/item>/g)].map((m) => m[1]!);
        schedule(ids, instanceTagsOf(req.params).find((t) => t.Key === CLUSTER_TAG)?.Value ?? config.cluster);
        return;
      }
      if (!(req.service === 'ec2' && req.action === 'DescribeSpotFleetRequests') || res.status !== 200 || declared.size === 0) return;
      const body = topLevelItems(res.body.toString('utf8'), 'spotFleetRequestConfigSet', (item) => {
        const sfr = /<spotFleetRequestId>([^<]+)<\/spotFleetRequestId>/.exec(item)?.[1];
        const d = sfr ? declared.get(sfr) : undefined;
        if (!d) return item;
        return item
          .replace(/<targetCapacity>[^<]*<\/targetCapacity>/, `<targetCapacity>${d.target}</targetCapacity>`)
          // A shortage leaves the fleet pending_fulfillment; only its history says why.
          .replace(/^<item>/, `<item><activityStatus>pending_fulfillment</activityStatus>`);
      });
      return { ...res, body: Buffer.from(body) };
    },

    tick: {
      intervalMs: 500,
      async run(ctx) {
        const now = Date.now();
        const due = pending.filter((p) => p.applyAt <= now);
        pending = pending.filter((p) => p.applyAt > now);
        for (const p of due) await apply(ctx, p);
        for (const r of registrations) {
          if (r.registeredAt || r.error || r.registerAt > now) continue;
          try {
            r.error = await registerBootedInstance(ctx, r.cluster, r.instanceId);
            if (!r.error) r.registeredAt = new Date().toISOString();
          } catch (err) {
            r.error = (err as Error).message;
            ctx.log.warn({ err, instanceId: r.instanceId }, 'capacity: RegisterContainerInstance failed');
          }
        }
      },
    },

    route(req) {
      const bad = (error: z.ZodError) => ({ status: 400, body: { error: error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') } });
      if (req.method === 'GET' && req.path === '/') {
        return { status: 200, body: { limits, config, pending, registrations, failedActivities, declared: Object.fromEntries(declared) } };
      }
      if (req.method === 'POST' && req.path === '/limits') {
        const p = limitsSchema.safeParse(req.body ?? {});
        if (!p.success) return bad(p.error);
        limits = p.data;
        return { status: 200, body: limits };
      }
      if (req.method === 'POST' && req.path === '/config') {
        const p = configSchema.safeParse(req.body ?? {});
        if (!p.success) return bad(p.error);
        config = { ...config, ...p.data };
        return { status: 200, body: config };
      }
      return undefined;
    },

    reset() {
      limits = { overrides: [], pools: {} };
      config = {};
      pending = [];
      registrations = [];
      failedActivities = [];
      declared.clear();
      fleetTokens.clear();
      fleetHistory.clear();
    },
  };
  return behaviour;
};
