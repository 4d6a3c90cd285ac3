import { z } from 'zod';
import { ecsRoute } from '../routing/ecs';
import { defineEventKind } from './kind';

/** `aws.ecs` / `ECS Service Action`: steady state, placement failures, impaired task starts, ... */
export const ecsServiceAction = defineEventKind({
  kind: 'ecs-service-action',
  source: 'aws.ecs',
  detailType: 'ECS Service Action',
  detail: z.looseObject({
    eventType: z.enum(['INFO', 'WARN', 'ERROR']),
    eventName: z.string().regex(/^[A-Z_]{1,64}$/, 'must be an ECS event name such as SERVICE_STEADY_STATE'),
    clusterArn: z.string().max(2048).optional(),
    createdAt: z.string().max(64).optional(),
    reason: z.string().max(4096).optional(),
  }),
  rule: { id: 'EcsServiceActionRule', does: 'the running canary deploy', bus: 'default' },
  route: (event, config) => ecsRoute(event, config, { detailType: 'ECS Service Action' }),
});
