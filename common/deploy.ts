/**
 * Canary deploy types that the deploy activities, the workflow and its clients (the status the CLI
 * prints) all read: what one canary analysis measures. Types only; the plan itself is the config's
 * (CanaryPlan, config/schema/services.ts).
 */

/** How the canary gets its traffic: a weighted ALB listener rule, or tasks in the stable target group. */
export type TrafficMode = 'listener-rule' | 'shared-target-group';

export type AlarmStateValue = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA' | 'MISSING';

export interface AlarmState {
  name: string;
  state: AlarmStateValue;
  reason?: string;
}

export interface MetricResult {
  name: string;
  verdict: 'pass' | 'fail' | 'inconclusive';
  value?: number;
  stableValue?: number;
  reason: string;
}

export interface StoppedCanaryTask {
  taskArn: string;
  taskDefinition: string;
  stopCode?: string;
  stoppedReason: string;
  stoppedAt?: string;
}

/** The canary service's ECS state; null when the service is gone. */
export type CanaryRollout = { runningCount: number; desiredCount: number; rolloutState?: string; rolloutStateReason?: string } | null;

/**
 * What one analysis run measures, one field per check kind. The `analyzeCanary` activity fills every
 * field (its return type makes the compiler ask for a new one); the workflow judges each field with
 * the check of the same kind (workflows/canary-deploy/checks/, a table the compiler makes complete).
 * Adding a kind: its field here, its measurement in activities/deploy/analysis.ts, its check in
 * workflows/canary-deploy/checks/<kind>.ts and that check's line in the table there (checks/index.ts);
 * the compiler asks for each once the field exists. Analyses recorded before the kind existed lack the
 * field; its check judges undefined as nothing to report.
 */
export interface CanaryChecks {
  /** The plan's alarms. */
  alarms: AlarmState[];
  /** The plan's metric checks, judged by the activity (`judgeMetric`). */
  metrics: MetricResult[];
  /** Canary tasks that stopped for a reason of their own (exit, failed start, failed health check). */
  stoppedTasks: StoppedCanaryTask[];
  canary: CanaryRollout;
}

export type CheckKind = keyof CanaryChecks;

export interface CanaryAnalysis extends CanaryChecks {
  at: string;
}
