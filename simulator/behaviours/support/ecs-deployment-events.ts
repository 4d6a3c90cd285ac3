import { randomUUID } from 'node:crypto';
import type { BehaviourContext } from '../../behaviour';
import type { SimDeployment, TrackedService } from './ecs-model';

/**
 * Starting a service deployment, and what ECS tells EventBridge about deployments and service
 * actions, as "Amazon ECS service deployment state change events"
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_deployment_events.html) and
 * "Amazon ECS service action events"
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_events.html) describe them.
 */

const isoOf = (ms: number) => new Date(ms).toISOString();

export function createDeploymentEvents(now: () => number) {
  function publish(ctx: BehaviourContext, svc: TrackedService, detailType: string, detail: Record<string, unknown>): void {
    void ctx.events.publish({ source: 'aws.ecs', detailType, detail, resources: [svc.serviceArn], region: svc.region }).catch(() => undefined);
  }

  function deploymentEvent(ctx: BehaviourContext, svc: TrackedService, d: SimDeployment, eventName: string, eventType: 'INFO' | 'ERROR', reason?: string): void {
    publish(ctx, svc, 'ECS Deployment State Change', { eventType, eventName, deploymentId: d.id, updatedAt: isoOf(now()), ...(reason ? { reason } : {}) });
  }

  function serviceAction(ctx: BehaviourContext, svc: TrackedService, eventName: string, reason: string): void {
    publish(ctx, svc, 'ECS Service Action', { eventType: 'WARN', eventName, clusterArn: svc.clusterArn, createdAt: isoOf(now()), reason });
  }

  function newDeployment(taskDefinition: string, desiredCount: number): SimDeployment {
    const id = `ecs-svc/${randomUUID().replace(/\D/g, '').padEnd(19, '7').slice(0, 19)}`;
    const t = now();
    return {
      id,
      status: 'PRIMARY',
      taskDefinition,
      desiredCount,
      failedTasks: 0,
      breakerFailures: 0,
      rolloutState: 'IN_PROGRESS',
      rolloutStateReason: `ECS deployment ${id} in progress.`,
      createdAtMs: t,
      updatedAtMs: t,
      impaired: false,
    };
  }

  /** The new deployment becomes PRIMARY; the ones before it are ACTIVE until their tasks are gone. */
  function startDeployment(ctx: BehaviourContext, svc: TrackedService, taskDefinition: string): void {
    for (const d of svc.deployments) d.status = 'ACTIVE';
    const d = newDeployment(taskDefinition, svc.desiredCount);
    svc.deployments = [d, ...svc.deployments];
    deploymentEvent(ctx, svc, d, 'SERVICE_DEPLOYMENT_IN_PROGRESS', 'INFO');
  }

  return { deploymentEvent, serviceAction, startDeployment };
}

export type DeploymentEvents = ReturnType<typeof createDeploymentEvents>;
