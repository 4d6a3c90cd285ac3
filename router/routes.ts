import { createHash } from 'node:crypto';
import type { SearchAttributePair, WorkflowIdReusePolicy } from '@temporalio/common';
import { CAPACITY_WORKFLOW_TYPE, capacityStartOptions } from '../common/starts/capacity';
import { DEPLOY_WORKFLOW_TYPE } from '../common/starts/deploy';
import { DeployRequestRefused, deployStartFor } from '../common/starts/deploy-request';
import { drainStartOptions } from '../common/starts/drain';
import { INCIDENT_WORKFLOW_TYPE, incidentStartOptions } from '../common/starts/incident';
import { launchStartOptions } from '../common/starts/launch';
import { EC2_INSTANCE_ID } from '../common/aws-ids';
import type {
  AwsPlacement,
  CapacityInput,
  CapacityRequest,
  DeployEcsEvent,
  DeployInput,
  DrainCoordinatorInput,
  DrainEvent,
  IncidentAlarmEvent,
  InterruptionNotice,
  IncidentInput,
  LaunchInput,
  SpotDrainInput,
} from '../common/workflow-inputs';
import { alarmEventSignal } from '../workflows/incident/messages';
import { alarmIncidentWorkflowId, declaredIncidentWorkflowId, deployWorkflowId, drainWorkflowId, memberAccountOf } from '../common/workflow-ids';
import { clusterOfEcsName, clusterWorkflowPlacement, clustersAt, knownAccounts, placementOf, routesByAccount, workflowPlacement } from '../config/placement';
import type { AlarmRoute, FleetopsConfig } from '../config/schema';
import { capacityRequestSignal } from '../workflows/capacity/messages';
import { drainEventSignal } from '../workflows/spot-drain/messages';
import { ecsEventSignal } from '../workflows/canary-deploy/messages';
import { parseEcsServiceArn } from './events/ecs-service-arn';
import type { ParsedEvent, RoutableEvent } from './events';

/**
 * Routing: what each event becomes (docs/contract.md, Events). Pure — no I/O — so
 * every rule is testable without a server; router/dispatch.ts carries decisions out.
 */

/** Workflow type names the workers register (exported function names in workflows/). */
export const WorkflowType = {
  capacity: CAPACITY_WORKFLOW_TYPE,
  canaryDeploy: DEPLOY_WORKFLOW_TYPE,
  incident: INCIDENT_WORKFLOW_TYPE,
} as const;

export const SignalName = {
  capacityRequest: capacityRequestSignal.name,
  alarmEvent: alarmEventSignal.name,
  ecsEvent: ecsEventSignal.name,
} as const;

/** The options a `common/starts/<workflow>.ts` function returns, as far as the router dispatches them. */
interface StartOptions {
  workflowType: string;
  workflowId: string;
  taskQueue: string;
  args: WorkflowTarget['args'];
  typedSearchAttributes: SearchAttributePair[];
  staticSummary: string;
  /** Temporal's default (ALLOW_DUPLICATE) when unset. */
  workflowIdReusePolicy?: WorkflowIdReusePolicy;
}

interface WorkflowTarget {
  /** A `WorkflowType` entry or a start-options function's `workflowType`. */
  workflowType: string;
  taskQueue: string;
  workflowId: string;
  args: [SpotDrainInput] | [CapacityInput] | [DeployInput] | [IncidentInput] | [LaunchInput] | [DrainCoordinatorInput];
  searchAttributes: SearchAttributePair[];
  staticSummary: string;
  /** What happens when a closed workflow with this id exists. */
  reusePolicy: WorkflowIdReusePolicy;
}

interface SignalPayload {
  /** A `SignalName` entry or a message definition's `name` (e.g. drainEventSignal.name). */
  name: string;
  arg: DrainEvent | CapacityRequest | IncidentAlarmEvent | DeployEcsEvent | InterruptionNotice[];
}

export type RouteDecision =
  | { action: 'ignore'; reason: string; workflowId: string | null }
  /** Start; a workflow with this id already running makes the result `duplicate`. */
  | ({ action: 'start' } & WorkflowTarget)
  /** Start if not running, and deliver the signal either way. */
  | ({ action: 'signalWithStart'; signal: SignalPayload } & WorkflowTarget)
  /** Deliver the signal only to a running workflow; `ignored` when there is none. */
  | { action: 'signal'; workflowId: string; signal: SignalPayload };

/**
 * What one event becomes: one decision, or one per workflow it concerns (an AWS Health event naming
 * several instances starts a drain for each; each gets its own result under the event's id).
 */
export type RouteResult = RouteDecision | { action: 'each'; decisions: RouteDecision[] };

/** The decisions of a route result, in order. */
export const decisionsOf = (r: RouteResult): RouteDecision[] => (r.action === 'each' ? r.decisions : [r]);

export interface RouteOptions {
  /** Start every workflow with `dryRun: true` (the local demo, drills). */
  dryRun?: boolean;
  /**
   * Who requests a deploy, over the event's `requestedBy`: the HTTP edge sets its token's identity
   * (`token:<name>`), so a token cannot request in someone else's name. Unset on the events queue.
   */
  requestedBy?: string;
}

/** A detail that is well-formed but refers to something the config does not know; answered with 400. */
export class RouteValidationError extends Error {
  override readonly name = 'RouteValidationError';
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
  }
}

const INTERRUPTION_NOTICE_MS = 120_000;

/** A short id derived from the event id, so a redelivered Incident Declared maps to the same workflow. */
export function shortIdOf(eventId: string): string {
  return createHash('sha256').update(eventId).digest('hex').slice(0, 8);
}

const dryRunOf = (opts: RouteOptions, fromEvent?: boolean): { dryRun?: true } =>
  opts.dryRun || fromEvent ? { dryRun: true } : {};

/** The dispatcher's target, from the start options the SDK starters (CLI, activities) use too. */
export function targetOf(start: StartOptions): WorkflowTarget {
  return {
    workflowType: start.workflowType,
    taskQueue: start.taskQueue,
    workflowId: start.workflowId,
    args: start.args,
    searchAttributes: start.typedSearchAttributes,
    staticSummary: start.staticSummary,
    // Unset means the server's default, which is ALLOW_DUPLICATE.
    reusePolicy: start.workflowIdReusePolicy ?? 'ALLOW_DUPLICATE',
  };
}

/** Exact alarm names win over prefixes; among prefixes the longest (most specific) wins. */
export function matchAlarmRoute(routes: readonly AlarmRoute[], alarmName: string): AlarmRoute | undefined {
  const exact = routes.find((r) => r.alarmName === alarmName);
  if (exact) return exact;
  let best: AlarmRoute | undefined;
  for (const r of routes) {
    if (r.alarmPrefix && alarmName.startsWith(r.alarmPrefix) && (!best || r.alarmPrefix.length > (best.alarmPrefix ?? '').length)) {
      best = r;
    }
  }
  return best;
}

/**
 * Many accounts: the placement an AWS event's workflows carry (its envelope's account and region), or
 * why it is ignored: no configured cluster lives there, so nothing may act on it (and a drain for an
 * instance id known in another account is never joined from here: the id carries the account).
 * Single-account configs: no placement, nothing checked.
 */
function drainPlacement(event: RoutableEvent, config: FleetopsConfig): { placement?: AwsPlacement } | { ignore: RouteDecision } {
  const { account, region } = event.envelope;
  const placement = workflowPlacement(config, { account, region });
  if (!placement) return {};
  if (clustersAt(config, { account, region }).length === 0) {
    return { ignore: { action: 'ignore', reason: `no cluster in the config is in account ${account}, region ${region}`, workflowId: null } };
  }
  return { placement };
}

function drainRoute(event: Extract<RoutableEvent, { kind: 'spot-interruption-warning' | 'rebalance-recommendation' | 'lifecycle-terminate' }>, config: FleetopsConfig, opts: RouteOptions): RouteDecision {
  const where = drainPlacement(event, config);
  if ('ignore' in where) return where.ignore;
  const { envelope } = event;
  let signal: DrainEvent;
  let what: string;
  if (event.kind === 'spot-interruption-warning') {
    const instanceId = event.detail['instance-id'];
    const deadline = new Date(Date.parse(envelope.time) + INTERRUPTION_NOTICE_MS).toISOString();
    const action = event.detail['instance-action'];
    signal = { kind: 'interruption-warning', instanceId, eventId: envelope.id, eventTime: envelope.time, deadline, ...(action !== 'terminate' ? { instanceAction: action } : {}) };
    what = `spot interruption warning (${action}), deadline ${deadline}`;
  } else if (event.kind === 'rebalance-recommendation') {
    const instanceId = event.detail['instance-id'];
    signal = { kind: 'rebalance-recommendation', instanceId, eventId: envelope.id, eventTime: envelope.time };
    what = 'rebalance recommendation';
  } else {
    const d = event.detail;
    signal = {
      kind: 'lifecycle-terminate',
      instanceId: d.EC2InstanceId,
      eventId: envelope.id,
      eventTime: envelope.time,
      lifecycle: { hookName: d.LifecycleHookName, asgName: d.AutoScalingGroupName, actionToken: d.LifecycleActionToken },
    };
    what = `terminate lifecycle action of ${d.AutoScalingGroupName}`;
  }
  return {
    action: 'signalWithStart',
    ...targetOf(drainStartOptions({ instanceId: signal.instanceId, ...where, ...dryRunOf(opts) }, { why: what, lifecycleAction: signal.kind === 'lifecycle-terminate' })),
    signal: { name: drainEventSignal.name, arg: signal },
  };
}

/**
 * EC2 state changes ("State change events for Amazon EC2 instances"): stopping and shutting-down
 * mean the instance goes now, so its drain starts (or is joined) on the warning deadline; stopped and
 * terminated close a drain that is still running and start nothing; running is signalled to a drain
 * that waits for a stopped instance to come back (never starts one); pending is not ours.
 */
function stateChangeRoute(event: Extract<RoutableEvent, { kind: 'instance-state-change' }>, config: FleetopsConfig, opts: RouteOptions): RouteDecision {
  const { envelope, detail } = event;
  const where = drainPlacement(event, config);
  if ('ignore' in where) return where.ignore;
  const instanceId = detail['instance-id'];
  const { state } = detail;
  if (state === 'stopping' || state === 'shutting-down') {
    const deadline = new Date(Date.parse(envelope.time) + INTERRUPTION_NOTICE_MS).toISOString();
    const signal: DrainEvent = {
      kind: 'instance-stopping',
      instanceId,
      eventId: envelope.id,
      eventTime: envelope.time,
      deadline,
      ...(state === 'stopping' ? { instanceAction: 'stop' as const } : {}),
    };
    return {
      action: 'signalWithStart',
      ...targetOf(drainStartOptions({ instanceId, ...where, ...dryRunOf(opts) }, { why: `instance ${state}, deadline ${deadline}` })),
      signal: { name: drainEventSignal.name, arg: signal },
    };
  }
  if (state === 'stopped' || state === 'terminated') {
    const signal: DrainEvent = { kind: 'instance-gone', instanceId, eventId: envelope.id, eventTime: envelope.time, ...(state === 'stopped' ? { instanceAction: 'stop' as const } : {}) };
    return { action: 'signal', workflowId: drainWorkflowId(instanceId, memberAccountOf(where.placement)), signal: { name: drainEventSignal.name, arg: signal } };
  }
  if (state === 'running') {
    // A stopped (or hibernated) instance is back: the drain that waits for it sets it ACTIVE again.
    const signal: DrainEvent = { kind: 'instance-running', instanceId, eventId: envelope.id, eventTime: envelope.time };
    return { action: 'signal', workflowId: drainWorkflowId(instanceId), signal: { name: drainEventSignal.name, arg: signal } };
  }
  return { action: 'ignore', reason: `instance ${instanceId} is ${state}: only stopping, shutting-down, stopped, terminated and running concern a drain`, workflowId: null };
}

/**
 * AWS Health: an EC2 scheduled change (retirement, stop, reboot or network maintenance) drains each
 * affected instance now, replacement first, on the relaxed deadline or before `startTime`,
 * whichever is earlier. Other services and categories, and closed events, are not ours.
 */
function healthRoute(event: Extract<RoutableEvent, { kind: 'health-event' }>, config: FleetopsConfig, opts: RouteOptions): RouteResult {
  const { envelope, detail } = event;
  const what = `${detail.service} ${detail.eventTypeCategory} ${detail.eventTypeCode}`;
  if (detail.service !== 'EC2' || detail.eventTypeCategory !== 'scheduledChange') {
    return { action: 'ignore', reason: `AWS Health ${what}: only EC2 scheduled changes drain instances`, workflowId: null };
  }
  if (detail.statusCode === 'closed') return { action: 'ignore', reason: `AWS Health ${what} is closed`, workflowId: null };
  // affectedEntities names the instances; `resources` repeats them (and is all there is in some samples).
  const instances = [...new Set([...detail.affectedEntities.map((e) => e.entityValue), ...envelope.resources])].filter((v) => EC2_INSTANCE_ID.test(v));
  if (instances.length === 0) return { action: 'ignore', reason: `AWS Health ${what} names no EC2 instance`, workflowId: null };
  const where = drainPlacement(event, config);
  if ('ignore' in where) return where.ignore;
  const startMs = detail.startTime ? Date.parse(detail.startTime) : NaN;
  const deadline = Number.isFinite(startMs) ? new Date(startMs).toISOString() : undefined;
  return {
    action: 'each',
    decisions: instances.map((instanceId) => {
      const signal: DrainEvent = { kind: 'scheduled-change', instanceId, eventId: envelope.id, eventTime: envelope.time, ...(deadline ? { deadline } : {}) };
      return {
        action: 'signalWithStart',
        ...targetOf(drainStartOptions({ instanceId, ...where, ...dryRunOf(opts) }, { why: `${detail.eventTypeCode}${deadline ? ` at ${deadline}` : ''}` })),
        signal: { name: drainEventSignal.name, arg: signal },
      } satisfies RouteDecision;
    }),
  };
}

/**
 * An ASG launch lifecycle action for a group that is one of a cluster's `asg` pools: the launch
 * workflow completes it once the instance joins the cluster. Groups the config does not name are not ours.
 */
function launchRoute(event: Extract<RoutableEvent, { kind: 'lifecycle-launch' }>, config: FleetopsConfig, opts: RouteOptions): RouteDecision {
  const { envelope, detail: d } = event;
  // Many accounts: only a cluster in the event's account and region can own the group (group names repeat across accounts).
  const here = routesByAccount(config) ? new Set(clustersAt(config, envelope)) : undefined;
  const owner = Object.entries(config.clusters).find(
    ([name, c]) => (!here || here.has(name)) && c.pools.some((p) => p.kind === 'asg' && p.autoScalingGroupName === d.AutoScalingGroupName),
  );
  if (!owner) {
    const where = here ? ` in account ${envelope.account}, region ${envelope.region}` : '';
    return { action: 'ignore', reason: `no cluster in the config${where} has Auto Scaling group ${d.AutoScalingGroupName} as a pool`, workflowId: null };
  }
  const [cluster, settings] = owner;
  const input: LaunchInput = {
    instanceId: d.EC2InstanceId,
    cluster,
    lifecycle: { hookName: d.LifecycleHookName, asgName: d.AutoScalingGroupName, actionToken: d.LifecycleActionToken },
    eventId: envelope.id,
    eventTime: envelope.time,
    timeoutSeconds: settings.capacity.registrationTimeoutSeconds,
    heartbeatSeconds: settings.drain.lifecycleHeartbeatSeconds,
    ...dryRunOf(opts),
  };
  return { action: 'start', ...targetOf(launchStartOptions(input, workflowPlacement(config, envelope))) };
}

function alarmRoute(event: Extract<RoutableEvent, { kind: 'alarm-state-change' }>, config: FleetopsConfig, opts: RouteOptions): RouteDecision {
  const { alarmName, state } = event.detail;
  const route = matchAlarmRoute(config.alarmRoutes, alarmName);
  if (!route) return { action: 'ignore', reason: `no alarm route matches ${alarmName}`, workflowId: null };
  const { account, region } = event.envelope;
  const placement = workflowPlacement(config, { account, region });
  if (placement && route.cluster) {
    // An alarm scales (or scopes an incident to) its route's cluster only from where that cluster lives.
    const p = placementOf(config, route.cluster);
    if (p.account !== account || p.region !== region) {
      return {
        action: 'ignore',
        reason: `alarm ${alarmName} is from account ${account}, region ${region}; its route's cluster ${route.cluster} is in account ${p.account ?? '?'}, region ${p.region}`,
        workflowId: null,
      };
    }
  }

  if (route.action === 'incident') {
    const workflowId = alarmIncidentWorkflowId(alarmName, memberAccountOf(placement));
    const signal: SignalPayload = {
      name: SignalName.alarmEvent,
      arg: { alarmName, state: state.value, reason: state.reason, time: event.envelope.time, eventId: event.envelope.id },
    };
    // Recovery (OK) and missing data join an open incident but never open one.
    if (state.value !== 'ALARM') return { action: 'signal', workflowId, signal };
    const severity = route.severity ?? 'sev3';
    const start = incidentStartOptions(
      workflowId,
      {
        title: `Alarm ${alarmName}`,
        severity,
        summary: state.reason || undefined,
        source: { kind: 'alarm', alarmName, eventId: event.envelope.id },
        ...dryRunOf(opts),
      },
      {
        // A route that names a cluster scopes the incident to it, so a sev1/sev2 one freezes its deploys.
        cluster: route.cluster,
        ...(placement ? { placement } : {}),
        staticSummary: `${severity} incident from alarm ${alarmName}${route.cluster ? ` (cluster ${route.cluster})` : ''}`,
        // A resolved incident is closed; the next alarm opens a new one under the same id.
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      },
    );
    return { action: 'signalWithStart', ...targetOf(start), signal };
  }

  const cluster = route.cluster as string; // the schema requires a cluster on scale routes
  const start = capacityStartOptions(cluster, { ...dryRunOf(opts), ...(placement ? { placement: clusterWorkflowPlacement(config, cluster) } : {}) });
  if (state.value !== 'ALARM') return { action: 'ignore', reason: `alarm ${alarmName} is ${state.value}; only ALARM scales`, workflowId: start.workflowId };
  const direction = route.action === 'scale-out' ? 'out' : 'in';
  const units = route.units ?? config.clusters[cluster]?.capacity.stepUnits ?? 1;
  return {
    action: 'signalWithStart',
    ...targetOf(start),
    signal: {
      name: SignalName.capacityRequest,
      arg: {
        direction,
        units,
        reason: `alarm ${alarmName}: ${state.reason}`.slice(0, 1000),
        source: { kind: 'alarm', alarmName, eventId: event.envelope.id },
      },
    },
  };
}

/** The configured service a deploy runs for: `<service>-canary` is the canary a deploy of `<service>` made. */
function deployedService(cluster: string, service: string, config: FleetopsConfig): string {
  const configured = (name: string) => config.services.some((s) => s.cluster === cluster && s.name === name);
  const base = service.endsWith('-canary') ? service.slice(0, -'-canary'.length) : undefined;
  return !configured(service) && base && configured(base) ? base : service;
}

function ecsRoute(event: Extract<RoutableEvent, { kind: 'ecs-deployment-state-change' | 'ecs-service-action' }>, config: FleetopsConfig): RouteDecision {
  const service = event.envelope.resources.map(parseEcsServiceArn).find((s) => s !== undefined);
  if (!service) return { action: 'ignore', reason: 'no ECS service ARN with a cluster in resources', workflowId: null };
  const { envelope, detail } = event;
  // The ARN names the ECS cluster; the deploy is the configured cluster of that ECS name where the event came from.
  let cluster = service.cluster;
  if (routesByAccount(config)) {
    const configured = clusterOfEcsName(config, service.cluster, envelope);
    if (!configured) {
      const p = config.clusters[service.cluster] ? placementOf(config, service.cluster) : undefined;
      const where = p ? `; the configured ${service.cluster} is in account ${p.account ?? '?'}, region ${p.region}` : '';
      return { action: 'ignore', reason: `ECS event for cluster ${service.cluster} from account ${envelope.account}, region ${envelope.region}: no configured cluster of that ECS name there${where}`, workflowId: null };
    }
    cluster = configured;
  } else {
    cluster = clusterOfEcsName(config, service.cluster, envelope) ?? service.cluster;
  }
  const arg: DeployEcsEvent = {
    detailType: event.kind === 'ecs-deployment-state-change' ? 'ECS Deployment State Change' : 'ECS Service Action',
    eventName: detail.eventName,
    eventType: detail.eventType,
    resources: envelope.resources,
    time: envelope.time,
    ...(event.kind === 'ecs-deployment-state-change' ? { deploymentId: event.detail.deploymentId } : {}),
    ...(detail.reason ? { reason: detail.reason } : {}),
    eventId: envelope.id,
  };
  const workflowId = deployWorkflowId(cluster, deployedService(cluster, service.service, config));
  return { action: 'signal', workflowId, signal: { name: SignalName.ecsEvent, arg } };
}

function deployRoute(event: Extract<RoutableEvent, { kind: 'deploy-requested' }>, config: FleetopsConfig, opts: RouteOptions): RouteDecision {
  const d = event.detail;
  // The service and its image repositories are checked where every starter checks them; a refusal is a 400 naming the field.
  try {
    const start = deployStartFor(config, {
      cluster: d.cluster,
      service: d.service,
      ...(d.image !== undefined ? { image: d.image } : {}),
      ...(d.taskDefinition !== undefined ? { taskDefinition: d.taskDefinition } : {}),
      // Over HTTP the token's name (token:<name>); on the queue the event's own requestedBy.
      requestedBy: opts.requestedBy ?? d.requestedBy ?? `router:${event.envelope.id}`,
      ...(d.force ? { force: true } : {}),
      ...dryRunOf(opts, d.dryRun),
    });
    return { action: 'start', ...targetOf(start) };
  } catch (err) {
    if (err instanceof DeployRequestRefused) throw new RouteValidationError(`detail.${err.field}`, err.message);
    throw err;
  }
}

function declaredIncidentRoute(event: Extract<RoutableEvent, { kind: 'incident-declared' }>, opts: RouteOptions): RouteDecision {
  const d = event.detail;
  const start = incidentStartOptions(
    declaredIncidentWorkflowId(d.title, shortIdOf(event.envelope.id)),
    {
      title: d.title,
      severity: d.severity,
      ...(d.summary ? { summary: d.summary } : {}),
      source: { kind: 'event', eventId: event.envelope.id, ...(d.declaredBy ? { by: d.declaredBy } : {}) },
      ...(d.onCall ? { onCall: d.onCall } : {}),
      ...dryRunOf(opts, d.dryRun),
    },
    {
      // The id is per event: a closed incident must not be reopened by a late redelivery.
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    },
  );
  return { action: 'start', ...targetOf(start) };
}

/** What one validated event becomes. Throws RouteValidationError for details that name unknown config. */
export function routeEvent(event: ParsedEvent, config: FleetopsConfig, opts: RouteOptions = {}): RouteResult {
  // Many accounts: what AWS publishes in an account no cluster is in is not ours (fleetops' own events carry no AWS account meaning).
  if (event.envelope.source.startsWith('aws.') && routesByAccount(config) && !knownAccounts(config).has(event.envelope.account)) {
    return { action: 'ignore', reason: `event from account ${event.envelope.account}, which no cluster in the config is in`, workflowId: null };
  }
  switch (event.kind) {
    case 'spot-interruption-warning':
    case 'rebalance-recommendation':
    case 'lifecycle-terminate':
      return drainRoute(event, config, opts);
    case 'instance-state-change':
      return stateChangeRoute(event, config, opts);
    case 'health-event':
      return healthRoute(event, config, opts);
    case 'lifecycle-launch':
      return launchRoute(event, config, opts);
    case 'lifecycle-test-notification':
      return { action: 'ignore', reason: `autoscaling:TEST_NOTIFICATION for ${event.detail.AutoScalingGroupName ?? 'a lifecycle hook'} (sent when a hook is created)`, workflowId: null };
    case 'alarm-state-change':
      return alarmRoute(event, config, opts);
    case 'ecs-deployment-state-change':
    case 'ecs-service-action':
      return ecsRoute(event, config);
    case 'deploy-requested':
      return deployRoute(event, config, opts);
    case 'incident-declared':
      return declaredIncidentRoute(event, opts);
    case 'unknown':
      return { action: 'ignore', reason: `no route for ${event.envelope.source} / ${event.envelope['detail-type']}`, workflowId: null };
  }
}
