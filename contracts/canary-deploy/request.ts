import { clusterWorkflowPlacement } from '../../config/placement';
import type { FleetopsConfig } from '../../config/schema';
import { deployApprovalFrom } from './approvers-from-config';
import { imageRefusal } from '../../common/images';
import type { DeployInput, DeployRequest } from './input';
import { deployStartOptions } from './start';

/** A deploy request the config does not allow; `field` names what was wrong (the router answers 400 with it). */
export class DeployRequestRefused extends Error {
  override readonly name = 'DeployRequestRefused';
  constructor(
    readonly field: 'service' | 'image',
    message: string,
  ) {
    super(message);
  }
}

/**
 * The one way a canary deploy is started from a request (the router's Deploy Requested route for HTTP
 * and EventBridge, `fleetops deploy`, Slack's `/fleetops deploy`): the service must be configured and an
 * image must be one of its repositories (common/images.ts), checked here before anything reaches Temporal
 * or AWS; then the input gets who may approve it from config (contracts/canary-deploy/approvers-from-config.ts), and the start
 * options of contracts/canary-deploy/start.ts. Throws DeployRequestRefused with the reason.
 */
/** `requireGate`: the deploy waits at a human gate before promotion whatever its plan (chat deploys). */
export function deployStartFor(config: FleetopsConfig, request: DeployRequest, opts: { requireGate?: boolean } = {}) {
  const svc = config.services.find((s) => s.cluster === request.cluster && s.name === request.service);
  if (!svc) throw new DeployRequestRefused('service', `no service "${request.service}" in cluster "${request.cluster}" in the config`);
  if (request.image !== undefined) {
    const why = imageRefusal(`${request.cluster}/${request.service}`, request.image, svc.images);
    if (why) throw new DeployRequestRefused('image', why);
  }
  const approval = deployApprovalFrom(config, request.cluster, request.service, request.requestedBy);
  // Field by field: whatever else the caller's object carries (an `approval` of its own) is not passed on.
  const { cluster, service, image, taskDefinition, requestedBy, force, dryRun } = request;
  const input: DeployInput = {
    cluster,
    service,
    ...(image !== undefined ? { image } : {}),
    ...(taskDefinition !== undefined ? { taskDefinition } : {}),
    ...(requestedBy !== undefined ? { requestedBy } : {}),
    ...(force ? { force: true } : {}),
    ...(dryRun ? { dryRun: true } : {}),
    ...(opts.requireGate ? { requireGate: true } : {}),
    ...(approval ? { approval } : {}),
  };
  return deployStartOptions(input, clusterWorkflowPlacement(config, request.cluster));
}
