import { deployInputSchema } from '../../common/workflow-inputs';
import { defineEventKind } from './envelope';

/**
 * `fleetops` / `Deploy Requested`: sent by the CLI, a chat bot or a schedule through EventBridge.
 * Its detail is the canary deploy's input, validated by the same schema the workflow's callers use.
 */
export const deployRequested = defineEventKind({
  kind: 'deploy-requested',
  source: 'fleetops',
  detailType: 'Deploy Requested',
  detail: deployInputSchema,
});
