import type { Action } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { DryRunCall } from '../../contracts/controls';
import type { StoppedCanaryTask } from '../../common/deploy';
import type { CanaryPlan, ListenerRuleConfig, MetricCheck } from '../../config/schema';

/**
 * What the deploy activities take and return. Workflow code imports these as types only, so this
 * file must stay free of runtime imports. The plan and the analysis types, which the workflow's
 * status shows, are in common/deploy.ts.
 */

export interface ResolvedPlan {
  plan: CanaryPlan;
  canaryService: string;
  /**
   * The repositories the service may run (`services[].images`; [] when it names none). Absent in plans
   * recorded before the list existed: those runs replay without the check.
   */
  images?: string[];
}

export interface BlockingIncident {
  workflowId: string;
  severity: string;
  phase: string;
}

export interface DeploymentSnapshot {
  id: string;
  /** PRIMARY (the one ECS is moving to), ACTIVE (being replaced) or INACTIVE. */
  status: string;
  taskDefinition: string;
  rolloutState?: string;
  rolloutStateReason?: string;
  desiredCount: number;
  runningCount: number;
  failedTasks: number;
}

export interface ServiceSnapshot {
  serviceName: string;
  serviceArn: string;
  status: string;
  taskDefinition: string;
  desiredCount: number;
  runningCount: number;
  pendingCount: number;
  deployments: DeploymentSnapshot[];
  targetGroupArns: string[];
}

export interface AnalyzeCanaryInput {
  cluster: string;
  service: string;
  canaryService: string;
  alarms: string[];
  metricChecks: MetricCheck[];
  /** Canary tasks that stopped before this instant are not counted again. */
  sinceMs: number;
  /** Metrics are read over this window ending now. */
  windowSeconds: number;
}

export interface CanaryTargetsInput {
  cluster: string;
  service: string;
  /** Tasks that stopped before this instant are not reported. */
  sinceMs: number;
}

export interface ServiceTargets {
  desiredCount: number;
  runningCount: number;
  /** Per target group of the service: its running tasks' targets and the state ELB reports for each. */
  groups: { targetGroupArn: string; healthy: number; states: { target: string; state: string; reason?: string }[] }[];
  stoppedTasks: StoppedCanaryTask[];
}

export interface RevisionInput {
  cluster: string;
  service: string;
  /** The stable service's task definition, the base for an image deploy. */
  currentTaskDefinition: string;
  image?: string;
  taskDefinition?: string;
  container?: string;
  dryRun?: boolean;
}

export interface RevisionResult {
  taskDefinitionArn: string;
  registered: boolean;
  dryRunCalls: DryRunCall[];
}

export interface CreateCanaryInput {
  cluster: string;
  service: string;
  canaryService: string;
  taskDefinition: string;
  desiredCount: number;
  /** Listener-rule mode: the canary registers in this target group instead of the stable one. */
  canaryTargetGroupArn?: string;
  /** Listener-rule mode: the stable target group the canary's group stands in for. */
  stableTargetGroupArn?: string;
  dryRun?: boolean;
}

export interface MutationResult {
  dryRunCalls: DryRunCall[];
}

export interface ScaleServiceInput {
  cluster: string;
  service: string;
  desiredCount: number;
  /**
   * Roll the new count out as an ECS deployment (forceNewDeployment): a scale-up of a service whose
   * deployment has COMPLETED is not watched by the deployment circuit breaker, a deployment is.
   */
  newDeployment?: boolean;
  dryRun?: boolean;
}

export interface DeleteCanaryInput {
  cluster: string;
  canaryService: string;
  dryRun?: boolean;
}

export interface UpdateRevisionInput {
  cluster: string;
  service: string;
  taskDefinition: string;
  dryRun?: boolean;
}

export interface TrafficWeightInput {
  /** The deploy's cluster: its account and region (the worker's own when unset). */
  cluster?: string;
  listenerRule: ListenerRuleConfig;
  canaryWeight: number;
  dryRun?: boolean;
}

/** A listener rule's actions as DescribeRules returned them before the deploy (no secrets: AWS returns none). */
export interface ListenerRuleSnapshot {
  ruleArn: string;
  actions: Action[];
}

export interface RestoreRuleInput {
  /** The deploy's cluster: its account and region (the worker's own when unset). */
  cluster?: string;
  listenerRule: ListenerRuleConfig;
  snapshot: ListenerRuleSnapshot;
  dryRun?: boolean;
}

export interface TrafficWeightResult extends MutationResult {
  /** Weights read back from the rule after the change (the requested ones in dryRun). */
  stableWeight: number;
  canaryWeight: number;
}

export interface DeployIncidentRequest {
  deployWorkflowId: string;
  deployRunId: string;
  cluster: string;
  service: string;
  title: string;
  summary: string;
  facts: Record<string, string>;
}
