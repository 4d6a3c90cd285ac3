import type { PlacementConstraint, PlacementStrategy, TaskNeeds } from './placement';

/**
 * The ECS service state the ecs-deployments behaviour keeps where moto keeps none (deployments,
 * task lifecycle, the service's deployment settings), and how it reads back through the API.
 */

export interface LoadBalancerRef {
  targetGroupArn: string;
  containerName: string;
  containerPort: number;
}

/** What CreateService/UpdateService set and ECS keeps (moto drops most of it from DescribeServices). */
export interface ServiceSpec {
  deploymentConfiguration?: {
    deploymentCircuitBreaker?: { enable?: boolean; rollback?: boolean };
    minimumHealthyPercent?: number;
    maximumPercent?: number;
  };
  placementStrategy?: PlacementStrategy[];
  placementConstraints?: PlacementConstraint[];
  healthCheckGracePeriodSeconds?: number;
  loadBalancers: LoadBalancerRef[];
  networkConfiguration?: { awsvpcConfiguration?: Record<string, unknown> };
  capacityProviderStrategy?: { capacityProvider?: string; weight?: number; base?: number }[];
}

export interface FailingRevision {
  match: string;
  /** `exit`: the essential container exits at start; `unhealthy`: the task runs but fails its load balancer health checks. */
  mode: 'exit' | 'unhealthy';
  stopCode: string;
  reason: string;
}

export interface Binding {
  containerName: string;
  containerPort: number;
  hostPort: number;
}

export interface SimTask {
  taskArn: string;
  taskDefinitionArn: string;
  deploymentId: string;
  startedBy: string;
  containerInstanceArn: string;
  /** EC2 instance id (instance targets) or the task's private IP (awsvpc, ip targets). */
  targetId: string;
  lastStatus: 'PENDING' | 'RUNNING' | 'STOPPED';
  createdAtMs: number;
  startedAtMs?: number;
  stoppedAtMs?: number;
  stopCode?: string;
  stoppedReason?: string;
  exitCode?: number;
  containerName: string;
  bindings: Binding[];
  /** Started by someone other than this service's scheduler (a fixture): its targets are theirs to register. */
  adopted: boolean;
  failing?: FailingRevision;
}

export interface SimDeployment {
  id: string;
  status: 'PRIMARY' | 'ACTIVE';
  taskDefinition: string;
  desiredCount: number;
  failedTasks: number;
  /** Failures the circuit breaker counts (reset when a task becomes healthy: resetOnHealthyTask). */
  breakerFailures: number;
  rolloutState: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  rolloutStateReason: string;
  createdAtMs: number;
  updatedAtMs: number;
  /** SERVICE_TASK_START_IMPAIRED was reported for it (no circuit breaker). */
  impaired: boolean;
  /** How its last failed task failed, in the circuit breaker's words. */
  lastFailure?: string;
}

export interface TrackedService {
  region: string;
  cluster: string;
  clusterArn: string;
  serviceName: string;
  serviceArn: string;
  desiredCount: number;
  spec: ServiceSpec;
  deployments: SimDeployment[];
  tasks: SimTask[];
  deleted: boolean;
  /** The last task definition a deployment of this service completed on (circuit breaker rollback target). */
  lastCompleted?: string;
  /** The placement failure being reported, until a task fits again. */
  placementFailure?: string;
  /** startedBy values of tasks adopted from others, listed when syncing with moto. */
  adoptedStartedBy: Set<string>;
  /** Serialises this service's updates (ticks and API calls both advance it). */
  lock: Promise<void>;
}

export interface ContainerInfo {
  name: string;
  image: string;
  portMappings: { containerPort: number; hostPort?: number }[];
}

export interface TaskDefinitionInfo {
  networkMode: string;
  containers: ContainerInfo[];
  needs: TaskNeeds;
}

export const live = (t: SimTask): boolean => t.lastStatus !== 'STOPPED';

/**
 * The circuit breaker's failure threshold (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceDeploymentCircuitBreaker.html):
 * half the desired count, at least 3 and at most 200.
 */
export function breakerThreshold(desired: number): number {
  return Math.min(200, Math.max(3, Math.ceil(desired * 0.5)));
}

export function describeDeployment(d: SimDeployment, svc: TrackedService) {
  const mine = svc.tasks.filter((k) => k.deploymentId === d.id);
  return {
    id: d.id,
    status: d.status,
    taskDefinition: d.taskDefinition,
    desiredCount: d.desiredCount,
    pendingCount: mine.filter((k) => k.lastStatus === 'PENDING').length,
    runningCount: mine.filter((k) => k.lastStatus === 'RUNNING').length,
    failedTasks: d.failedTasks,
    rolloutState: d.rolloutState,
    rolloutStateReason: d.rolloutStateReason,
    createdAt: d.createdAtMs / 1000,
    updatedAt: d.updatedAtMs / 1000,
    launchType: 'EC2',
  };
}

/** A task as DescribeTasks returns it: moto's record (attachments, overrides, tags) with ECS's lifecycle on top. */
export function describeTask(task: SimTask, svc: TrackedService, moto: Record<string, unknown> | undefined) {
  return {
    ...moto,
    taskArn: task.taskArn,
    clusterArn: svc.clusterArn,
    taskDefinitionArn: task.taskDefinitionArn,
    containerInstanceArn: task.containerInstanceArn,
    group: `service:${svc.serviceName}`,
    startedBy: task.startedBy,
    lastStatus: task.lastStatus,
    desiredStatus: task.lastStatus === 'STOPPED' ? 'STOPPED' : 'RUNNING',
    launchType: 'EC2',
    createdAt: task.createdAtMs / 1000,
    ...(task.startedAtMs ? { startedAt: task.startedAtMs / 1000 } : {}),
    ...(task.stoppedAtMs ? { stoppedAt: task.stoppedAtMs / 1000, stoppingAt: task.stoppedAtMs / 1000 } : {}),
    ...(task.stopCode ? { stopCode: task.stopCode, stoppedReason: task.stoppedReason } : {}),
    containers: [
      {
        name: task.containerName,
        lastStatus: task.lastStatus,
        taskArn: task.taskArn,
        networkBindings: task.lastStatus === 'STOPPED' ? [] : task.bindings.filter((b) => b.containerName === task.containerName).map((b) => ({ bindIP: '0.0.0.0', containerPort: b.containerPort, hostPort: b.hostPort, protocol: 'tcp' })),
        ...(task.exitCode !== undefined ? { exitCode: task.exitCode, reason: task.stoppedReason } : {}),
      },
    ],
  };
}

/** Service fields ECS returns that moto leaves out, from what CreateService/UpdateService set. */
export function specFields(spec: ServiceSpec): Record<string, unknown> {
  const dc = spec.deploymentConfiguration ?? {};
  return {
    deploymentConfiguration: {
      deploymentCircuitBreaker: { enable: dc.deploymentCircuitBreaker?.enable ?? false, rollback: dc.deploymentCircuitBreaker?.rollback ?? false },
      maximumPercent: dc.maximumPercent ?? 200,
      minimumHealthyPercent: dc.minimumHealthyPercent ?? 100,
    },
    placementStrategy: spec.placementStrategy ?? [],
    placementConstraints: spec.placementConstraints ?? [],
    ...(spec.healthCheckGracePeriodSeconds !== undefined ? { healthCheckGracePeriodSeconds: spec.healthCheckGracePeriodSeconds } : {}),
    ...(spec.networkConfiguration ? { networkConfiguration: spec.networkConfiguration } : {}),
    ...(spec.capacityProviderStrategy?.length ? { capacityProviderStrategy: spec.capacityProviderStrategy } : {}),
  };
}
