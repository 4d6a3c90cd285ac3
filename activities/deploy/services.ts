import {
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeServicesCommand,
  UpdateServiceCommand,
  type CreateServiceCommandInput,
  type Service,
} from '@aws-sdk/client-ecs';
import { ApplicationFailure } from '@temporalio/common';
import type { DryRunCall } from '../../contracts/controls';
import { FailureType } from '../../common/failures';
import { mutatingAwsCall } from '../aws/dry-run';
import { awsCall } from '../aws/errors';
import { clientsFor, type ActivityDeps } from '../deps';
import type {
  CreateCanaryInput,
  DeleteCanaryInput,
  MutationResult,
  ScaleServiceInput,
  ServiceSnapshot,
  UpdateRevisionInput,
} from './types';

/** Tag on every canary service, so an operator (and the delete guard) can tell what made it. */
export const CANARY_OF_TAG = 'fleetops:canary-of';

/**
 * The canary's deployment settings: the stable service's percentages, and ECS's deployment circuit
 * breaker on (without it a canary whose tasks cannot start is retried forever, never FAILED and never
 * reported as SERVICE_DEPLOYMENT_FAILED). No automatic rollback: the deploy undoes the canary itself.
 */
export function canaryDeploymentConfiguration(stable: Service): NonNullable<CreateServiceCommandInput['deploymentConfiguration']> {
  const dc = stable.deploymentConfiguration;
  return {
    ...(dc?.minimumHealthyPercent !== undefined ? { minimumHealthyPercent: dc.minimumHealthyPercent } : {}),
    ...(dc?.maximumPercent !== undefined ? { maximumPercent: dc.maximumPercent } : {}),
    deploymentCircuitBreaker: { enable: true, rollback: false },
  };
}

export async function describeService(deps: ActivityDeps, cluster: string, service: string): Promise<Service | undefined> {
  const out = await awsCall('ecs:DescribeServices', () =>
    clientsFor(deps, cluster).ecs.send(new DescribeServicesCommand({ cluster, services: [service], include: ['TAGS'] })),
  );
  const found = out.services?.find((s) => s.serviceName === service);
  return found && found.status !== 'INACTIVE' ? found : undefined;
}

export function snapshotOf(s: Service): ServiceSnapshot {
  return {
    serviceName: s.serviceName ?? '',
    serviceArn: s.serviceArn ?? '',
    status: s.status ?? 'UNKNOWN',
    taskDefinition: s.taskDefinition ?? '',
    desiredCount: s.desiredCount ?? 0,
    runningCount: s.runningCount ?? 0,
    pendingCount: s.pendingCount ?? 0,
    deployments: (s.deployments ?? []).map((d) => ({
      id: d.id ?? '',
      status: d.status ?? 'UNKNOWN',
      taskDefinition: d.taskDefinition ?? '',
      rolloutState: d.rolloutState,
      rolloutStateReason: d.rolloutStateReason,
      desiredCount: d.desiredCount ?? 0,
      runningCount: d.runningCount ?? 0,
      failedTasks: d.failedTasks ?? 0,
    })),
    targetGroupArns: (s.loadBalancers ?? []).flatMap((lb) => (lb.targetGroupArn ? [lb.targetGroupArn] : [])),
  };
}

function collect<T>(calls: DryRunCall[], m: { dryRun: true; call: DryRunCall } | { dryRun: false; result: T }): void {
  if (m.dryRun) calls.push(m.call);
}

/** A request that can never succeed: not retried. */
export function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, FailureType.InvalidRequest);
}

export function createServiceActivities(deps: ActivityDeps) {
  return {
    /** The service's state as ECS reports it; null when it does not exist (or is INACTIVE). */
    async describeDeployService(input: { cluster: string; service: string }): Promise<ServiceSnapshot | null> {
      const s = await describeService(deps, input.cluster, input.service);
      return s ? snapshotOf(s) : null;
    },

    /**
     * `<service>-canary` with the stable service's network, placement and load balancer settings. In
     * listener-rule mode the canary registers in the canary target group. A canary that already exists
     * (a retried create, or one left by an earlier deploy) is moved to this revision instead.
     */
    async createCanaryService(input: CreateCanaryInput): Promise<MutationResult> {
      const calls: DryRunCall[] = [];
      const stable = await describeService(deps, input.cluster, input.service);
      if (!stable) throw ApplicationFailure.nonRetryable(`service ${input.service} not found in ${input.cluster}`, FailureType.AwsNotFound);
      const existing = await describeService(deps, input.cluster, input.canaryService);
      if (existing?.status === 'DRAINING') {
        throw ApplicationFailure.retryable(`${input.canaryService} is still draining from an earlier deploy`, FailureType.AwsUnavailable);
      }
      if (existing) {
        collect(
          calls,
          await mutatingAwsCall(
            input.dryRun,
            'ecs:UpdateService',
            { cluster: input.cluster, service: input.canaryService, taskDefinition: input.taskDefinition, desiredCount: input.desiredCount },
            () =>
              clientsFor(deps, input.cluster).ecs.send(
                new UpdateServiceCommand({
                  cluster: input.cluster,
                  service: input.canaryService,
                  taskDefinition: input.taskDefinition,
                  desiredCount: input.desiredCount,
                  deploymentConfiguration: canaryDeploymentConfiguration(stable),
                }),
              ),
          ),
        );
        return { dryRunCalls: calls };
      }
      // Listener-rule mode: the stable group the rule weights is replaced by the canary's; the workflow
      // refuses a service in any other group (a canary needs one per stable group).
      const loadBalancers = (stable.loadBalancers ?? []).map((lb) =>
        input.canaryTargetGroupArn && lb.targetGroupArn === input.stableTargetGroupArn ? { ...lb, targetGroupArn: input.canaryTargetGroupArn } : lb,
      );
      const params: CreateServiceCommandInput = {
        cluster: input.cluster,
        serviceName: input.canaryService,
        taskDefinition: input.taskDefinition,
        desiredCount: input.desiredCount,
        loadBalancers,
        // bridge/host network modes have none; an empty object would be rejected.
        ...(stable.networkConfiguration?.awsvpcConfiguration ? { networkConfiguration: stable.networkConfiguration } : {}),
        placementConstraints: stable.placementConstraints,
        placementStrategy: stable.placementStrategy,
        healthCheckGracePeriodSeconds: stable.healthCheckGracePeriodSeconds,
        deploymentConfiguration: canaryDeploymentConfiguration(stable),
        // A launch type and a capacity provider strategy exclude each other; keep whichever stable uses.
        ...(stable.capacityProviderStrategy && stable.capacityProviderStrategy.length > 0
          ? { capacityProviderStrategy: stable.capacityProviderStrategy }
          : { launchType: stable.launchType ?? 'EC2' }),
        enableECSManagedTags: stable.enableECSManagedTags,
        propagateTags: stable.propagateTags,
        tags: [...(stable.tags ?? []).filter((t) => t.key !== CANARY_OF_TAG), { key: CANARY_OF_TAG, value: input.service }],
      };
      collect(
        calls,
        await mutatingAwsCall(
          input.dryRun,
          'ecs:CreateService',
          {
            cluster: input.cluster,
            serviceName: input.canaryService,
            taskDefinition: input.taskDefinition,
            desiredCount: input.desiredCount,
            targetGroups: loadBalancers.map((lb) => lb.targetGroupArn ?? lb.loadBalancerName ?? '?'),
          },
          () => clientsFor(deps, input.cluster).ecs.send(new CreateServiceCommand(params)),
        ),
      );
      return { dryRunCalls: calls };
    },

    async scaleService(input: ScaleServiceInput): Promise<MutationResult> {
      const calls: DryRunCall[] = [];
      const force = input.newDeployment ? { forceNewDeployment: true } : {};
      collect(
        calls,
        await mutatingAwsCall(input.dryRun, 'ecs:UpdateService', { cluster: input.cluster, service: input.service, desiredCount: input.desiredCount, ...force }, () =>
          clientsFor(deps, input.cluster).ecs.send(new UpdateServiceCommand({ cluster: input.cluster, service: input.service, desiredCount: input.desiredCount, ...force })),
        ),
      );
      return { dryRunCalls: calls };
    },

    /** Promotion and its undo: the main service onto a task definition (ECS then rolls it out). */
    async updateServiceRevision(input: UpdateRevisionInput): Promise<MutationResult> {
      const calls: DryRunCall[] = [];
      collect(
        calls,
        await mutatingAwsCall(
          input.dryRun,
          'ecs:UpdateService',
          { cluster: input.cluster, service: input.service, taskDefinition: input.taskDefinition },
          () => clientsFor(deps, input.cluster).ecs.send(new UpdateServiceCommand({ cluster: input.cluster, service: input.service, taskDefinition: input.taskDefinition })),
        ),
      );
      return { dryRunCalls: calls };
    },

    /** Scales the canary to zero and deletes it; a canary that is already gone is success. */
    async deleteCanaryService(input: DeleteCanaryInput): Promise<MutationResult> {
      // The one delete fleetops makes: never let a wrong argument delete a real service.
      if (!input.canaryService.endsWith('-canary')) throw invalid(`refusing to delete ${input.canaryService}: not a canary service`);
      const calls: DryRunCall[] = [];
      const existing = input.dryRun ? undefined : await describeService(deps, input.cluster, input.canaryService);
      if (!input.dryRun && !existing) return { dryRunCalls: calls };
      if (input.dryRun || (existing?.desiredCount ?? 0) > 0) {
        collect(
          calls,
          await mutatingAwsCall(input.dryRun, 'ecs:UpdateService', { cluster: input.cluster, service: input.canaryService, desiredCount: 0 }, () =>
            clientsFor(deps, input.cluster).ecs.send(new UpdateServiceCommand({ cluster: input.cluster, service: input.canaryService, desiredCount: 0 })),
          ),
        );
      }
      collect(
        calls,
        await mutatingAwsCall(input.dryRun, 'ecs:DeleteService', { cluster: input.cluster, service: input.canaryService }, async () => {
          try {
            return await clientsFor(deps, input.cluster).ecs.send(new DeleteServiceCommand({ cluster: input.cluster, service: input.canaryService, force: true }));
          } catch (err) {
            // Deleted between our describe and this call (a retry after a lost answer): done.
            if ((err as { name?: string }).name === 'ServiceNotFoundException') return undefined;
            throw err;
          }
        }),
      );
      return { dryRunCalls: calls };
    },
  };
}
