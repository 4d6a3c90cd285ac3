import { ecsEventSignal } from '../../contracts/canary-deploy/messages';
import type { DeployEcsEvent } from '../../contracts/canary-deploy/input';
import { deployWorkflowId } from '../../common/workflow-ids';
import { clusterOfEcsName, placementOf, routesByAccount } from '../../config/placement';
import type { FleetopsConfig } from '../../config/schema';
import type { EventEnvelope } from '../events/envelope';
import { parseEcsServiceArn } from '../events/ecs-service-arn';
import { ignore, type RouteDecision } from './decision';

/** What the ECS kinds share (deployment state changes and service actions): the running canary deploy of the service hears them. */

/** The configured service a deploy runs for: `<service>-canary` is the canary a deploy of `<service>` made. */
function deployedService(cluster: string, service: string, config: FleetopsConfig): string {
  const configured = (name: string) => config.services.some((s) => s.cluster === cluster && s.name === name);
  const base = service.endsWith('-canary') ? service.slice(0, -'-canary'.length) : undefined;
  return !configured(service) && base && configured(base) ? base : service;
}

/** Signals the deploy of the service the event's resources name (a deploy that is not running ignores it). */
export function ecsRoute(
  event: { envelope: EventEnvelope; detail: { eventName: string; eventType: DeployEcsEvent['eventType']; reason?: string } },
  config: FleetopsConfig,
  how: { detailType: DeployEcsEvent['detailType']; deploymentId?: string },
): RouteDecision {
  const service = event.envelope.resources.map(parseEcsServiceArn).find((s) => s !== undefined);
  if (!service) return ignore('no ECS service ARN with a cluster in resources');
  const { envelope, detail } = event;
  // The ARN names the ECS cluster; the deploy is the configured cluster of that ECS name where the event came from.
  let cluster = service.cluster;
  if (routesByAccount(config)) {
    const configured = clusterOfEcsName(config, service.cluster, envelope);
    if (!configured) {
      const p = config.clusters[service.cluster] ? placementOf(config, service.cluster) : undefined;
      const where = p ? `; the configured ${service.cluster} is in account ${p.account ?? '?'}, region ${p.region}` : '';
      return ignore(`ECS event for cluster ${service.cluster} from account ${envelope.account}, region ${envelope.region}: no configured cluster of that ECS name there${where}`);
    }
    cluster = configured;
  } else {
    cluster = clusterOfEcsName(config, service.cluster, envelope) ?? service.cluster;
  }
  const arg: DeployEcsEvent = {
    detailType: how.detailType,
    eventName: detail.eventName,
    eventType: detail.eventType,
    resources: envelope.resources,
    time: envelope.time,
    ...(how.deploymentId !== undefined ? { deploymentId: how.deploymentId } : {}),
    ...(detail.reason ? { reason: detail.reason } : {}),
    eventId: envelope.id,
  };
  const workflowId = deployWorkflowId(cluster, deployedService(cluster, service.service, config));
  return { action: 'signal', workflowId, signal: { name: ecsEventSignal.name, arg } };
}
