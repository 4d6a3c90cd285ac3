import type { z } from 'zod';
import type { Behaviour, BehaviourFactory } from '../behaviour';
import { awsErrorResponse, awsSuccessResponse } from '../protocol';
import { applyRaise, dueRetries, scalingActivitiesResponse, withRaisedDesired } from './support/capacity-raises';
import { CLUSTER_TAG, configSchema, limitsSchema, newCapacityState, resetCapacityState, scheduleRegistrations, type PendingRaise } from './support/capacity-model';
import { createFleet } from './support/create-fleet';
import { instanceTagsOf, param, topLevelItems } from './support/ec2-params';
import { registerBootedInstance } from './support/register-booted';
import { historyResponse } from './support/spot-fleet-history';

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
 *  - an ASG raised past its limit keeps its raised DesiredCapacity and keeps trying, a failed scaling
 *    activity per try (support/capacity-raises.ts names the Auto Scaling page);
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
 * (replaces the limits); `POST /config` `{ bootDelaySeconds?, fulfilmentDelaySeconds?, asgRetrySeconds?, cluster? }`;
 * `GET /` → limits, config, pending raises, scheduled and done registrations.
 *
 * Where each part lives: support/create-fleet.ts (CreateFleet under limits), support/capacity-raises.ts
 * (Spot Fleet and ASG raises, failed scaling activities), support/spot-fleet-history.ts, and the
 * state in support/capacity-model.ts. This module holds the idempotency of CreateFleet, the
 * DescribeSpotFleetRequests rewrite, the boot-delayed registrations and the control routes.
 */

export const capacityBehaviour: BehaviourFactory = () => {
  const state = newCapacityState();
  const fingerprint = (params: Record<string, unknown>) =>
    JSON.stringify(Object.entries(params).filter(([k]) => k !== 'ClientToken').sort(([a], [b]) => a.localeCompare(b)));

  const behaviour: Behaviour = {
    name: 'capacity',

    async intercept(req, ctx) {
      if (req.service === 'ec2' && req.action === 'DescribeSpotFleetRequestHistory') return historyResponse(req, state);
      const token = req.service === 'ec2' && req.action === 'CreateFleet' ? param(req.params, 'ClientToken') : undefined;
      const seen = token !== undefined ? state.fleetTokens.get(token) : undefined;
      if (seen) {
        if (seen.fingerprint === fingerprint(req.params)) return { ...seen.res, body: Buffer.from(seen.res.body) };
        return awsErrorResponse(req, {
          status: 400,
          code: 'IdempotentParameterMismatch',
          message: `The client token you have provided is associated with a resource that is already deleted or has different parameters. Please use a different client token.`,
        });
      }
      if (req.service === 'ec2' && req.action === 'CreateFleet' && param(req.params, 'Type') === 'instant' && state.limits.overrides.length > 0) {
        return createFleet(req, ctx, state);
      }
      if (req.service === 'ec2' && req.action === 'ModifySpotFleetRequest') {
        const pool = param(req.params, 'SpotFleetRequestId') ?? '';
        const target = Number(param(req.params, 'TargetCapacity'));
        const raise: PendingRaise = {
          kind: 'spot-fleet',
          pool,
          target,
          applyAt: Date.now() + (state.config.fulfilmentDelaySeconds ?? 0) * 1000,
          ...(param(req.params, 'ExcessCapacityTerminationPolicy') ? { excessPolicy: param(req.params, 'ExcessCapacityTerminationPolicy') } : {}),
        };
        state.pending = state.pending.filter((x) => x.pool !== pool);
        if (raise.applyAt <= Date.now()) await applyRaise(ctx, state, raise);
        else {
          state.pending.push(raise);
          state.declared.set(pool, { target });
        }
        return awsSuccessResponse(req, { xml: '<return>true</return>' });
      }
      if (req.service === 'autoscaling' && req.action === 'SetDesiredCapacity') {
        const pool = param(req.params, 'AutoScalingGroupName') ?? '';
        const raise: PendingRaise = {
          kind: 'asg',
          pool,
          target: Number(param(req.params, 'DesiredCapacity')),
          applyAt: Date.now() + (state.config.fulfilmentDelaySeconds ?? 0) * 1000,
        };
        state.pending = state.pending.filter((x) => x.pool !== pool);
        if (raise.applyAt <= Date.now()) await applyRaise(ctx, state, raise);
        else state.pending.push(raise);
        return awsSuccessResponse(req, {});
      }
      if (req.service === 'autoscaling' && req.action === 'DescribeScalingActivities') {
        return scalingActivitiesResponse(req, state);
      }
      return undefined;
    },

    afterResponse(req, res) {
      if (req.service === 'ec2' && req.action === 'CreateFleet' && res.status === 200) {
        const token = param(req.params, 'ClientToken');
        if (token !== undefined && !state.fleetTokens.has(token)) state.fleetTokens.set(token, { fingerprint: fingerprint(req.params), res: { ...res, body: Buffer.from(res.body) } });
        // Launched by moto (no override limits set): these boot and join their cluster too. Instances this
        // behaviour launched itself are already scheduled; scheduleRegistrations() keeps one registration per instance.
        const ids = [...res.body.toString('utf8').matchAll(/<item>(i-[0-9a-f]+)<\/item>/g)].map((m) => m[1]!);
        scheduleRegistrations(state, ids, instanceTagsOf(req.params).find((t) => t.Key === CLUSTER_TAG)?.Value ?? state.config.cluster);
        return;
      }
      if (req.service === 'autoscaling' && res.status === 200) {
        if (req.action === 'DescribeAutoScalingGroups') return { ...res, body: Buffer.from(withRaisedDesired(res.body.toString('utf8'), state)) };
        // Taking an instance out with decrement lowers the desired count AWS keeps too.
        if (req.action === 'TerminateInstanceInAutoScalingGroup' && param(req.params, 'ShouldDecrementDesiredCapacity') === 'true') {
          const group = /<AutoScalingGroupName>([^<]+)<\/AutoScalingGroupName>/.exec(res.body.toString('utf8'))?.[1];
          const short = group ? state.asgShort.get(group) : undefined;
          if (short) short.target -= 1;
        }
        return;
      }
      if (!(req.service === 'ec2' && req.action === 'DescribeSpotFleetRequests') || res.status !== 200 || state.declared.size === 0) return;
      const body = topLevelItems(res.body.toString('utf8'), 'spotFleetRequestConfigSet', (item) => {
        const sfr = /<spotFleetRequestId>([^<]+)<\/spotFleetRequestId>/.exec(item)?.[1];
        const d = sfr ? state.declared.get(sfr) : undefined;
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
        const due = state.pending.filter((p) => p.applyAt <= now);
        state.pending = state.pending.filter((p) => p.applyAt > now);
        for (const p of due) await applyRaise(ctx, state, p);
        for (const p of dueRetries(state, now)) if (!state.pending.some((x) => x.pool === p.pool)) await applyRaise(ctx, state, p);
        for (const r of state.registrations) {
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
        const { limits, config, pending, registrations, failedActivities, declared } = state;
        return { status: 200, body: { limits, config, pending, registrations, failedActivities, declared: Object.fromEntries(declared) } };
      }
      if (req.method === 'POST' && req.path === '/limits') {
        const p = limitsSchema.safeParse(req.body ?? {});
        if (!p.success) return bad(p.error);
        state.limits = p.data;
        return { status: 200, body: state.limits };
      }
      if (req.method === 'POST' && req.path === '/config') {
        const p = configSchema.safeParse(req.body ?? {});
        if (!p.success) return bad(p.error);
        state.config = { ...state.config, ...p.data };
        return { status: 200, body: state.config };
      }
      return undefined;
    },

    reset() {
      resetCapacityState(state);
    },
  };
  return behaviour;
};