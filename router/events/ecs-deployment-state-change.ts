import { z } from 'zod';
import { defineEventKind } from './envelope';

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
});
