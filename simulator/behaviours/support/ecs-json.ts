import type { SimResponse } from '../../protocol';
import type { ServiceSpec } from './ecs-model';

/**
 * Reading ECS JSON requests and answers, and writing changed answers back, for the ecs-deployments
 * behaviour. The service settings read here are the CreateService / UpdateService request fields of
 * the Amazon ECS API reference (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html).
 */

export function parseJson(buf: Buffer): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(buf.toString('utf8') || '{}');
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function jsonResponse(res: SimResponse, body: unknown): SimResponse {
  const text = JSON.stringify(body);
  return { ...res, headers: { ...res.headers, 'content-length': String(Buffer.byteLength(text)) }, body: Buffer.from(text) };
}

export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The service settings a CreateService (or UpdateService, over `base`) request sets. */
export function specOf(p: Record<string, unknown>, base?: ServiceSpec): ServiceSpec {
  const lbs = Array.isArray(p.loadBalancers) ? (p.loadBalancers as Record<string, unknown>[]) : undefined;
  return {
    deploymentConfiguration: (p.deploymentConfiguration as ServiceSpec['deploymentConfiguration']) ?? base?.deploymentConfiguration,
    placementStrategy: (p.placementStrategy as ServiceSpec['placementStrategy']) ?? base?.placementStrategy,
    placementConstraints: (p.placementConstraints as ServiceSpec['placementConstraints']) ?? base?.placementConstraints,
    healthCheckGracePeriodSeconds: typeof p.healthCheckGracePeriodSeconds === 'number' ? p.healthCheckGracePeriodSeconds : base?.healthCheckGracePeriodSeconds,
    networkConfiguration: (p.networkConfiguration as ServiceSpec['networkConfiguration']) ?? base?.networkConfiguration,
    capacityProviderStrategy: (p.capacityProviderStrategy as ServiceSpec['capacityProviderStrategy']) ?? base?.capacityProviderStrategy,
    loadBalancers: lbs
      ? lbs
          .filter((lb) => typeof lb.targetGroupArn === 'string')
          .map((lb) => ({ targetGroupArn: String(lb.targetGroupArn), containerName: String(lb.containerName ?? ''), containerPort: Number(lb.containerPort ?? 0) }))
      : (base?.loadBalancers ?? []),
  };
}
