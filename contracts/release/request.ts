import { imageRefusal } from '../../common/images';
import { clusterWorkflowPlacement } from '../../config/placement';
import type { FleetopsConfig, ServiceConfig } from '../../config/schema';
import { deployApprovalFrom } from '../canary-deploy/approvers-from-config';
import type { DeployApproval } from '../canary-deploy/input';
import type { ReleaseInput, ReleaseRequest, ReleaseSelector, ReleaseTarget } from './input';
import { releaseStartOptions } from './start';

/** A release request the config does not allow; `field` names what was wrong (the router answers 400 with it). */
export class ReleaseRequestRefused extends Error {
  override readonly name = 'ReleaseRequestRefused';
  constructor(
    readonly field: 'manifest' | 'selector',
    message: string,
  ) {
    super(message);
  }
}

const TASK_DEFINITION_ARN = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition\/[A-Za-z0-9_-]+:\d+$/;

/** A service name glob (`*` any run, `?` one character) as a whole-name pattern. */
export function globPattern(glob: string): RegExp {
  const body = [...glob].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\-]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`);
}

/** The configured services a selector picks, in config order. */
export function selectServices(config: Pick<FleetopsConfig, 'services'>, selector: Omit<ReleaseSelector, 'image'>): ServiceConfig[] {
  const name = selector.service !== undefined ? globPattern(selector.service) : undefined;
  const [key, value] = selector.tag !== undefined ? [selector.tag.slice(0, selector.tag.indexOf('=')), selector.tag.slice(selector.tag.indexOf('=') + 1)] : [];
  return config.services.filter(
    (s) =>
      (selector.cluster === undefined || s.cluster === selector.cluster) &&
      (name === undefined || name.test(s.name)) &&
      (key === undefined || s.tags?.[key] === value),
  );
}

/** Each service with what it gets: an image, or a task definition ARN (manifests may name either). */
function wanted(config: FleetopsConfig, request: ReleaseRequest): { svc: ServiceConfig; change: string; field: 'manifest' | 'selector' }[] {
  if (request.selector) {
    const picked = selectServices(config, request.selector);
    if (picked.length === 0) throw new ReleaseRequestRefused('selector', 'the selector picks no configured service');
    return picked.map((svc) => ({ svc, change: request.selector!.image, field: 'selector' }));
  }
  const out: { svc: ServiceConfig; change: string; field: 'manifest' }[] = [];
  for (const [cluster, services] of Object.entries(request.manifest ?? {})) {
    for (const [service, change] of Object.entries(services)) {
      const svc = config.services.find((s) => s.cluster === cluster && s.name === service);
      if (!svc) throw new ReleaseRequestRefused('manifest', `no service "${service}" in cluster "${cluster}" in the config`);
      out.push({ svc, change, field: 'manifest' });
    }
  }
  if (out.length === 0) throw new ReleaseRequestRefused('manifest', 'the manifest names no service');
  return out;
}

/**
 * The one way a release is started from a request (`fleetops release start`, the router's Release
 * Requested route): every service must be configured and every image one of its repositories (the
 * deploy's own rule, common/images.ts), checked here before anything reaches Temporal; each service
 * gets who may approve its deploy from config, as `deployStartFor` gives a single deploy. Throws
 * ReleaseRequestRefused naming every service refused (up to five).
 */
export function releaseStartFor(config: FleetopsConfig, request: ReleaseRequest) {
  const approvals: DeployApproval[] = [];
  const approvalIndex = new Map<string, number>();
  const refusals: string[] = [];
  let field: 'manifest' | 'selector' = 'manifest';
  const targets: ReleaseTarget[] = [];
  for (const w of wanted(config, request)) {
    field = w.field;
    const { cluster, name: service } = w.svc;
    const isTaskDefinition = TASK_DEFINITION_ARN.test(w.change);
    if (!isTaskDefinition) {
      const why = imageRefusal(`${cluster}/${service}`, w.change, w.svc.images);
      if (why) {
        refusals.push(why);
        continue;
      }
    }
    const approval = deployApprovalFrom(config, cluster, service, request.requestedBy);
    let index: number | undefined;
    if (approval) {
      // Services with the same approvers share one entry: a release of hundreds stays small in history.
      const key = JSON.stringify(approval);
      index = approvalIndex.get(key);
      if (index === undefined) {
        index = approvals.push(approval) - 1;
        approvalIndex.set(key, index);
      }
    }
    const placement = clusterWorkflowPlacement(config, cluster);
    targets.push({
      cluster,
      service,
      ...(isTaskDefinition ? { taskDefinition: w.change } : { image: w.change }),
      ...(index !== undefined ? { approval: index } : {}),
      ...(placement ? { placement } : {}),
    });
  }
  if (refusals.length > 0) {
    const more = refusals.length > 5 ? ` (and ${refusals.length - 5} more)` : '';
    throw new ReleaseRequestRefused(field, `${refusals.slice(0, 5).join('; ')}${more}`);
  }
  // Field by field: whatever else the caller's object carries is not passed on.
  const { id, change, waves, maxConcurrent, maxPerCluster, failureBudget, onBusy, requestedBy, dryRun } = request;
  const input: ReleaseInput = {
    id,
    change,
    targets,
    approvals,
    ...(waves !== undefined ? { waves } : {}),
    ...(maxConcurrent !== undefined ? { maxConcurrent } : {}),
    ...(maxPerCluster !== undefined ? { maxPerCluster } : {}),
    ...(failureBudget !== undefined ? { failureBudget } : {}),
    ...(onBusy !== undefined ? { onBusy } : {}),
    ...(requestedBy !== undefined ? { requestedBy } : {}),
    ...(dryRun ? { dryRun: true } : {}),
  };
  return releaseStartOptions(input);
}
