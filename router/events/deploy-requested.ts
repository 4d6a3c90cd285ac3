import { z } from 'zod';
import { defineEventKind } from './envelope';

const taskDefinitionArn = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition\/[A-Za-z0-9_-]+:\d+$/;

/** `fleetops` / `Deploy Requested`: sent by the CLI, a chat bot or a schedule through EventBridge. */
export const deployRequested = defineEventKind({
  kind: 'deploy-requested',
  source: 'fleetops',
  detailType: 'Deploy Requested',
  detail: z
    .object({
      cluster: z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, 'must be an ECS cluster name'),
      service: z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, 'must be an ECS service name'),
      image: z.string().min(1).max(1024).optional(),
      taskDefinition: z.string().regex(taskDefinitionArn, 'must be a task definition ARN').optional(),
      requestedBy: z.string().min(1).max(255).optional(),
      force: z.boolean().optional(),
      dryRun: z.boolean().optional(),
    })
    .strict()
    .refine((d) => (d.image === undefined) !== (d.taskDefinition === undefined), {
      message: 'set exactly one of image or taskDefinition',
      path: ['image'],
    }),
});
