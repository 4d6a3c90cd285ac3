import { deployRequestSchema } from '../../contracts/canary-deploy/input';
import { DeployRequestRefused, deployStartFor } from '../../contracts/canary-deploy/request';
import { dryRunOf, RouteValidationError, targetOf } from '../routing/decision';
import { defineEventKind } from './kind';

/**
 * `fleetops` / `Deploy Requested`: sent by the CLI, a chat bot or a schedule through EventBridge.
 * Its detail is a deploy request (the canary deploy's input without `approval`: who may approve comes
 * from config, and an event that names approvers is refused as malformed).
 */
export const deployRequested = defineEventKind({
  kind: 'deploy-requested',
  source: 'fleetops',
  detailType: 'Deploy Requested',
  detail: deployRequestSchema,
  rule: { id: 'DeployRequestedRule', does: 'canary deploy', bus: 'commands' },
  route: ({ envelope, detail: d }, config, opts) => {
    // The service and its image repositories are checked where every starter checks them; a refusal is a 400 naming the field.
    try {
      const start = deployStartFor(config, {
        cluster: d.cluster,
        service: d.service,
        ...(d.image !== undefined ? { image: d.image } : {}),
        ...(d.taskDefinition !== undefined ? { taskDefinition: d.taskDefinition } : {}),
        // Over HTTP the token's name (token:<name>); on the queue the event's own requestedBy.
        requestedBy: opts.requestedBy ?? d.requestedBy ?? `router:${envelope.id}`,
        ...(d.force ? { force: true } : {}),
        ...dryRunOf(opts, d.dryRun),
      });
      return { action: 'start', ...targetOf(start) };
    } catch (err) {
      if (err instanceof DeployRequestRefused) throw new RouteValidationError(`detail.${err.field}`, err.message);
      throw err;
    }
  },
});
