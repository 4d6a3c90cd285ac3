import { z } from 'zod';
import { ecsRoute } from '../routing/ecs';
import { defineEventKind } from './kind';

/** `aws.ecs` / `ECS Deployment State Change`: IN_PROGRESS, COMPLETED, FAILED of a service deployment. */
export const ecsDeploymentStateChange = defineEventKind({
  kind: 'ecs-deployment-state-change',
  source: 'aws.ecs',
  detailType: 'ECS Deployment State Change',
  detail: z.looseObject({
    eventType: z.enum(['INFO', 'WARN', 'ERROR']),
    eventName: z.string().regex(/^[A-Z_]{1,64}$/, 'must be an ECS event name such as SERVICE_DEPLOYMENT_FAILED'),
    deploymentId: z.string().min(1).max(255),
    updatedAt: z.string().max(64).optional(),
    reason: z.string().max(4096).optional(),
  }),
  rule: { id: 'EcsDeploymentStateChangeRule', does: 'the running canary deploy', bus: 'default' },
  route: (event, config) => ecsRoute(event, config, { detailType: 'ECS Deployment State Change', deploymentId: event.detail.deploymentId }),
});
