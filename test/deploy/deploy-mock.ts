import type { FreezingWindow } from '../../contracts/readiness/freeze';
import type { WorkflowHandle } from '@temporalio/client';
import type { Action } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { TestWorkflowEnvironment } from '@temporalio/testing';

import type { DeployActivities } from '../../activities/deploy';
import type { ServiceSnapshot, ServiceTargets } from '../../activities/deploy/types';
import type { Notification } from '../../activities/notifications';
import { statusQuery } from '../../contracts/controls';
import type { CanaryAnalysis } from '../../common/deploy';
import type { CanaryPlan } from '../../config/schema';
import { deployStartOptions } from '../../contracts/canary-deploy/start';
import { deployWorkflowId } from '../../common/workflow-ids';
import type { DeployInput } from '../../contracts/canary-deploy/input';
import { serviceSchema } from '../../config/schema';
import type { CanaryDeployWorkflow, DeployResult, DeployStatus } from '../../contracts/canary-deploy/messages';
import { until } from '../../testkit/poll';
import { bundledWorkflows, createTimeSkippingEnv, recordHistory, uniqueTaskQueue } from '../harness/temporal';
import { createWorker } from '../harness/workers';

/**
 * What the canary deploy's workflow tests share: a time-skipping server per suite (`useTimeSkippingEnv`),
 * a mocked world of deploy activities that keeps the main and canary services' state (`mock`), and
 * helpers to start a deploy, watch its phase and record its history.
 */

let env: TestWorkflowEnvironment;

/** A time-skipping server of this suite's own (time skipping is global to a server). */
export function useTimeSkippingEnv(): () => TestWorkflowEnvironment {
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });
  return () => env;
}

export const CLUSTER = 'demo';
export const OLD_TD = 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:1';
export const NEW_TD = 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:2';
export const RULE = {
  ruleArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/demo/1/2/3',
  stableTargetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/1',
  canaryTargetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-canary/2',
};

let serviceCounter = 0;

/** The rule as the deploy finds it: users authenticated, then forwarded to stable (sticky sessions). */
export const RULE_ACTIONS: Action[] = [
  { Type: 'authenticate-oidc', Order: 1, AuthenticateOidcConfig: { Issuer: 'https://idp.example', AuthorizationEndpoint: 'https://idp.example/a', TokenEndpoint: 'https://idp.example/t', UserInfoEndpoint: 'https://idp.example/u', ClientId: 'web' } },
  { Type: 'forward', Order: 2, ForwardConfig: { TargetGroups: [{ TargetGroupArn: RULE.stableTargetGroupArn, Weight: 100 }], TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 3600 } } },
];

export function planOf(canary: Record<string, unknown>): CanaryPlan {
  return serviceSchema.parse({ cluster: CLUSTER, name: 'web', canary }).canary;
}

export const BASIC_PLAN = planOf({
  alarms: ['web-5xx'],
  steps: [
    { kind: 'setWeight', weight: 10 },
    { kind: 'bake', seconds: 300 },
    { kind: 'setWeight', weight: 50 },
    { kind: 'bake', seconds: 300 },
    { kind: 'promote' },
  ],
});

export function snapshot(name: string, taskDefinition: string, desired: number, running = desired): ServiceSnapshot {
  return {
    serviceName: name,
    serviceArn: `arn:aws:ecs:us-east-1:123456789012:service/${CLUSTER}/${name}`,
    status: 'ACTIVE',
    taskDefinition,
    desiredCount: desired,
    runningCount: running,
    pendingCount: 0,
    deployments: [
      { id: `ecs-svc/${name}`, status: 'PRIMARY', taskDefinition, rolloutState: 'COMPLETED', desiredCount: desired, runningCount: running, failedTasks: 0 },
    ],
    targetGroupArns: [RULE.stableTargetGroupArn],
  };
}

export function healthyAnalysis(alarms: string[]): CanaryAnalysis {
  return {
    at: new Date().toISOString(),
    alarms: alarms.map((name) => ({ name, state: 'OK' })),
    metrics: [],
    stoppedTasks: [],
    canary: { runningCount: 1, desiredCount: 1, rolloutState: 'COMPLETED' },
  };
}

/** The canary's targets, `healthy` of `desired` healthy in the canary target group. */
export function healthyTargets(desired: number, healthy = desired, state = 'healthy'): ServiceTargets {
  const states = Array.from({ length: desired }, (_, i) => ({ target: `i-0${i}:3276${i}`, state: i < healthy ? 'healthy' : state }));
  return { desiredCount: desired, runningCount: desired, groups: [{ targetGroupArn: RULE.canaryTargetGroupArn, healthy, states }], stoppedTasks: [] };
}

export interface World {
  plan: CanaryPlan;
  stableDesired: number;
  stableRunning: number;
  /** Per analysis run (1-based) result; healthy when undefined. */
  analysis?: (run: number, plan: CanaryPlan) => CanaryAnalysis | undefined;
  blockingIncidents?: { workflowId: string; severity: string; phase: string }[];
  /** Readiness windows freezing deploys to the cluster now. */
  freezingWindows?: FreezingWindow[];
  /** Per readiness check (1-based) the canary's targets; all healthy when undefined. */
  targets?: (check: number, desired: number) => ServiceTargets | undefined;
  /** The stable service's target groups (default: the rule's stable group). */
  stableTargetGroups?: string[];
}

export interface Mock {
  activities: DeployActivities & { notify(n: Notification): Promise<{ sent: string[]; skipped: string[] }> };
  /** Activity names in call order, with a short argument note. */
  log: string[];
  notified: string[];
  calls: Record<string, unknown[]>;
}

export function mock(world: World, over: Partial<DeployActivities> = {}): Mock {
  const log: string[] = [];
  const notified: string[] = [];
  const calls: Record<string, unknown[]> = {};
  let mainTd = OLD_TD;
  let canary: ServiceSnapshot | null = null;
  let runs = 0;
  let targetChecks = 0;
  const dry = (dryRun: boolean | undefined, action: string, params: Record<string, unknown>) => (dryRun ? [{ action, params }] : []);

  const base: DeployActivities = {
    async resolveDeployPlan() {
      return { plan: world.plan, canaryService: 'web-canary' };
    },
    async findBlockingIncidents() {
      return world.blockingIncidents ?? [];
    },
    async findFreezingWindows() {
      return world.freezingWindows ?? [];
    },
    async describeDeployService({ service }) {
      if (service === 'web') {
        const s = snapshot('web', mainTd, world.stableDesired, world.stableRunning);
        return world.stableTargetGroups ? { ...s, targetGroupArns: world.stableTargetGroups } : s;
      }
      return canary;
    },
    async describeServiceTargets() {
      targetChecks += 1;
      const desired = canary?.desiredCount ?? 0;
      return world.targets?.(targetChecks, desired) ?? healthyTargets(desired);
    },
    async describeAlarmStates({ alarmNames }) {
      return alarmNames.map((name) => ({ name, state: 'OK' as const }));
    },
    async analyzeCanary() {
      runs += 1;
      return world.analysis?.(runs, world.plan) ?? healthyAnalysis(world.plan.alarms);
    },
    async resolveDeployRevision({ image, taskDefinition, dryRun }) {
      if (taskDefinition) return { taskDefinitionArn: taskDefinition, registered: false, dryRunCalls: [] };
      return { taskDefinitionArn: dryRun ? 'web:dry-run' : NEW_TD, registered: true, dryRunCalls: dry(dryRun, 'ecs:RegisterTaskDefinition', { image }) };
    },
    async createCanaryService({ taskDefinition, desiredCount, dryRun }) {
      if (!dryRun) canary = snapshot('web-canary', taskDefinition, desiredCount);
      return { dryRunCalls: dry(dryRun, 'ecs:CreateService', { serviceName: 'web-canary' }) };
    },
    async scaleService({ service, desiredCount, dryRun }) {
      if (!dryRun && service === 'web-canary' && canary) canary = snapshot('web-canary', canary.taskDefinition, desiredCount);
      return { dryRunCalls: dry(dryRun, 'ecs:UpdateService', { service, desiredCount }) };
    },
    async deleteCanaryService({ dryRun }) {
      if (!dryRun) canary = null;
      return { dryRunCalls: dry(dryRun, 'ecs:DeleteService', { service: 'web-canary' }) };
    },
    async updateServiceRevision({ taskDefinition, dryRun }) {
      if (!dryRun) mainTd = taskDefinition;
      return { dryRunCalls: dry(dryRun, 'ecs:UpdateService', { service: 'web', taskDefinition }) };
    },
    async readListenerRule({ listenerRule }) {
      return { ruleArn: listenerRule.ruleArn, actions: RULE_ACTIONS };
    },
    async setTrafficWeight({ canaryWeight, dryRun }) {
      return { stableWeight: 100 - canaryWeight, canaryWeight, dryRunCalls: dry(dryRun, 'elasticloadbalancing:ModifyRule', { canaryWeight }) };
    },
    async restoreListenerRule({ snapshot, dryRun }) {
      return { stableWeight: 100, canaryWeight: 0, dryRunCalls: dry(dryRun, 'elasticloadbalancing:ModifyRule', { restore: snapshot.actions.length }) };
    },
    async requestDeployIncident(req) {
      return { workflowId: `incident-deploy-rollback-failed-${req.deployRunId.slice(0, 8)}` };
    },
  };
  const merged = { ...base, ...over };
  const note = (name: string, arg: Record<string, unknown>): string => {
    switch (name) {
      case 'scaleService':
        return `scaleService:${String(arg.desiredCount)}`;
      case 'setTrafficWeight':
        return `setTrafficWeight:${String(arg.canaryWeight)}`;
      case 'describeServiceTargets':
        return 'describeServiceTargets';
      case 'updateServiceRevision':
        return `updateServiceRevision:${String(arg.taskDefinition).split('/').pop()}`;
      default:
        return name;
    }
  };
  const recorded = Object.fromEntries(
    Object.entries(merged).map(([name, fn]) => [
      name,
      (arg: Record<string, unknown>) => {
        log.push(note(name, arg));
        (calls[name] ??= []).push(arg);
        return (fn as (a: unknown) => Promise<unknown>)(arg);
      },
    ]),
  ) as unknown as DeployActivities;
  return {
    activities: {
      ...recorded,
      async notify(n: Notification) {
        notified.push(n.title.replace(/^.*: /, ''));
        return { sent: ['ops'], skipped: [] };
      },
    },
    log,
    notified,
    calls,
  };
}

export function newService(): string {
  serviceCounter += 1;
  return `web${serviceCounter}`;
}

/** Starts a deploy with the options every starter uses, on this test's task queue and under `workflowId`. */
export function startDeploy(args: DeployInput, workflowId: string, taskQueue: string): Promise<WorkflowHandle<CanaryDeployWorkflow>> {
  const { workflowType, ...options } = deployStartOptions(args);
  return env.client.workflow.start<CanaryDeployWorkflow>(workflowType, { ...options, workflowId, taskQueue });
}

export async function start(taskQueue: string, input: Partial<DeployInput> = {}): Promise<WorkflowHandle<CanaryDeployWorkflow>> {
  const args: DeployInput = { cluster: CLUSTER, service: 'web', image: 'registry.example/web:2', requestedBy: 'alice', ...input };
  // Each test gets its own workflow id; the mocks answer for service `web` whatever the id says.
  return startDeploy(args, deployWorkflowId(CLUSTER, newService()), taskQueue);
}

export async function statusOf(handle: WorkflowHandle): Promise<DeployStatus> {
  return (await handle.query(statusQuery)) as DeployStatus;
}

/**
 * Advances workflow time in 10 s steps until the status shows `phase`, for 120 steps (20 minutes of
 * workflow time). The limit is in steps, not wall time: each check advances the clock itself.
 */
export async function untilPhase(handle: WorkflowHandle, phase: string): Promise<DeployStatus> {
  let steps = 0;
  return until(
    `the deploy to reach ${phase}`,
    async () => {
      const s = await statusOf(handle);
      if (s.phase === phase) return s;
      if (steps === 120) throw new Error(`deploy never reached ${phase}; status: ${JSON.stringify(s)}`);
      steps += 1;
      await env.sleep('10 seconds');
      return undefined;
    },
    { timeoutMs: Number.POSITIVE_INFINITY, intervalMs: 0, failOnError: true },
  );
}

export async function run<T>(m: Mock, fn: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = uniqueTaskQueue('deploy');
  const worker = await createWorker({ connection: env.nativeConnection, taskQueue, ...bundledWorkflows(), activities: m.activities });
  return worker.runUntil(fn(taskQueue));
}

export async function finish(handle: WorkflowHandle<CanaryDeployWorkflow>, caseName: string): Promise<DeployResult> {
  const result = await handle.result();
  await recordHistory(handle, 'canary-deploy', caseName);
  return result;
}

export const mutations = (log: string[]) =>
  log.filter((l) => /^(createCanaryService|scaleService|setTrafficWeight|restoreListenerRule|updateServiceRevision|deleteCanaryService)/.test(l));
