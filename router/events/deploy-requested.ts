import { deployRequestSchema } from '../../contracts/canary-deploy/input';
import { defineEventKind } from './envelope';

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
});
