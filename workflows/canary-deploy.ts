import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  defineSignal,
  defineUpdate,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { ControlRequest, DryRunCall, WorkflowStatus } from '../common/controls';
import { NON_RETRYABLE_FAILURE_TYPES } from '../common/failures';
import type { DeployEcsEvent, DeployInput } from '../common/workflow-inputs';
import type { DeployActivities } from '../activities/deploy';
import type {
  CanaryAnalysis,
  CanaryPlan,
  CanaryStep,
  ServiceSnapshot,
} from '../activities/deploy/types';
import type { NotificationActivities } from '../activities/notifications';
import { canaryTaskCount } from './lib/canary-sizing';
import { recordDeployFinished } from './lib/metrics';
import { installOperatorControls, type OperatorControls } from './lib/operator-controls';

/**
 * Canary deploy (issue 6): a new revision runs as `<service>-canary` on a slice of traffic, bakes under
 * alarm, metric and task checks, waits for a human at gates (and when analysis is inconclusive), then
 * the main service is promoted, or everything the deploy changed is undone in reverse order.
 *
 * Failure modes this guards against (Argo Rollouts / CodeDeploy field reports): a canary started while
 * the stable version is already unhealthy (preflight refuses), inconclusive analysis that hangs (a
 * human is asked, with a timeout that rolls back), and failure reasons nobody sees (every decision is
 * kept with its reason in `status`, in the notifications and in the workflow result).
 */

// ---- activity options (stated once) ----
const AWS_RETRY: ActivityOptions['retry'] = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '30 seconds',
  maximumAttempts: 8,
  nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES,
};
const aws = proxyActivities<DeployActivities>({ startToCloseTimeout: '1 minute', retry: AWS_RETRY });
/** Compensations get more patience: a rollback that gives up asks for an incident. */
const compensations = proxyActivities<DeployActivities>({
  startToCloseTimeout: '1 minute',
  retry: { ...AWS_RETRY, maximumAttempts: 12, maximumInterval: '1 minute' },
});
const notifications = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '2 seconds', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES },
});

/** How often the services' ECS state is polled while waiting on them, for plans resolved before `servicePollSeconds` existed (replayed histories). */
const DEFAULT_SERVICE_POLL_SECONDS = 10;
/** How long new canary tasks get to reach RUNNING after a scale-up before the canary fails. */
const CANARY_READY_TIMEOUT_SECONDS = 600;
const MAX_KEPT_ENTRIES = 100;

// ---- messages ----
export type DeployPhase =
  | 'preflight'
  | 'creating-canary'
  | 'shifting-traffic'
  | 'baking'
  | 'inconclusive'
  | 'awaiting-approval'
  | 'promoting'
  | 'rolling-back'
  | 'promoted'
  | 'rolled-back'
  | 'rollback-failed'
  | 'refused'
  | 'dry-run-complete';

export const TERMINAL_DEPLOY_PHASES: readonly DeployPhase[] = ['promoted', 'rolled-back', 'rollback-failed', 'refused', 'dry-run-complete'];
/** Phases in which `approve` is accepted. */
export const APPROVABLE_DEPLOY_PHASES: readonly DeployPhase[] = ['awaiting-approval', 'inconclusive'];

export type DeployOutcome = 'promoted' | 'rolled-back' | 'rollback-failed' | 'refused' | 'dry-run-complete';

export interface DeployDecision {
  at: string;
  phase: DeployPhase;
  /** What was decided: refuse, proceed, scale, shift, pass, fail, wait, approve, promote, rollback, ... */
  decision: string;
  reason: string;
}

export interface DeployTimelineEntry {
  at: string;
  /** `ecs` for forwarded ECS events, `analysis` for analysis runs. */
  source: 'ecs' | 'analysis';
  text: string;
}

export interface DeployStatus extends WorkflowStatus {
  phase: DeployPhase;
  cluster: string;
  service: string;
  canaryService: string;
  requestedBy?: string;
  trafficMode?: 'listener-rule' | 'shared-target-group';
  stableTaskDefinition?: string;
  canaryTaskDefinition?: string;
  /** Index (0-based) and kind of the plan step being run. */
  step?: { index: number; total: number; kind: CanaryStep['kind'] };
  /** Share of traffic the canary is meant to get (listener rule) or approximates (shared target group). */
  canaryWeight: number;
  canaryDesiredCount: number;
  analysis: { runs: number; metricFailures: number; failureLimit: number; last?: CanaryAnalysis };
  awaiting?: { kind: 'gate' | 'inconclusive'; since: string; timeoutAt: string; onTimeout: 'rollback' | 'promote' };
  decisions: DeployDecision[];
  timeline: DeployTimelineEntry[];
  outcome?: DeployOutcome;
  reason?: string;
  incidentWorkflowId?: string;
}

export interface DeployResult {
  outcome: DeployOutcome;
  reason: string;
  cluster: string;
  service: string;
  previousTaskDefinition?: string;
  taskDefinition?: string;
  decisions: DeployDecision[];
  incidentWorkflowId?: string;
  dryRunCalls?: DryRunCall[];
}

export type ApproveRequest = ControlRequest;

/** Passes a gate or accepts an inconclusive analysis. Rejected (validator) in any other phase. */
export const approveUpdate = defineUpdate<DeployStatus, [ApproveRequest]>('approve');
/** ECS Deployment State Change / ECS Service Action facts forwarded by the router. */
export const ecsEventSignal = defineSignal<[DeployEcsEvent]>('ecsEvent');

// ---- internals ----

/** Thrown inside the forward path to leave it for rollback; never escapes the workflow. */
class CanaryFailed extends Error {
  constructor(
    readonly reason: string,
    readonly decision = 'rollback',
  ) {
    super(reason);
  }
}

/** Thrown before anything was changed: the deploy ends as `refused`. */
class DeployRefused extends Error {}

interface Compensation {
  description: string;
  run: () => Promise<void>;
}

type HumanAnswer = 'approved' | 'aborted' | 'failed' | 'timeout';

function errorMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return `${err.activityType}: ${errorMessage(err.cause)}`;
  if (err instanceof Error) return err.message;
  return String(err);
}

function serviceOf(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

export async function canaryDeploy(input: DeployInput): Promise<DeployResult> {
  const info = workflowInfo();
  const canaryService = `${input.service}-canary`;
  const dryRun = input.dryRun === true;
  const decisions: DeployDecision[] = [];
  const timeline: DeployTimelineEntry[] = [];
  const dryRunCalls: DryRunCall[] = [];
  const undo: Compensation[] = [];
  const seenEventIds = new Set<string>();

  let plan: CanaryPlan | undefined;
  const servicePollMs = () => (plan?.servicePollSeconds ?? DEFAULT_SERVICE_POLL_SECONDS) * 1000;
  let stable: ServiceSnapshot | undefined;
  let canaryTaskDefinition: string | undefined;
  let trafficMode: DeployStatus['trafficMode'];
  let step: DeployStatus['step'];
  let canaryWeight = 0;
  let canaryDesiredCount = 0;
  let analysisRuns = 0;
  let metricFailures = 0;
  let lastAnalysis: CanaryAnalysis | undefined;
  let awaiting: DeployStatus['awaiting'];
  let approval: ApproveRequest | undefined;
  let canaryEventFailure: string | undefined;
  let mainEventFailure: string | undefined;
  let mainDeploymentEvent = 0;
  let outcome: DeployOutcome | undefined;
  let finalReason: string | undefined;
  let incidentWorkflowId: string | undefined;
  let notifySeq = 0;

  const now = (): string => new Date().toISOString();

  function summary(): string {
    const target = `${input.cluster}/${input.service}`;
    const what = input.image ?? input.taskDefinition ?? '?';
    const prefix = dryRun ? '[dry run] ' : '';
    switch (controls.phase) {
      case 'preflight':
        return `${prefix}${target}: checking incidents, stable health and alarms before deploying ${what}`;
      case 'creating-canary':
        return `${prefix}${target}: creating ${canaryService} on ${canaryTaskDefinition ?? what}`;
      case 'shifting-traffic':
      case 'baking':
        return `${prefix}${target}: canary at ${canaryWeight}% (${canaryDesiredCount} tasks), step ${(step?.index ?? 0) + 1}/${step?.total ?? '?'} ${step?.kind ?? ''}`;
      case 'inconclusive':
        return `${prefix}${target}: analysis inconclusive, waiting for approve or abort until ${awaiting?.timeoutAt ?? '?'}`;
      case 'awaiting-approval':
        return `${prefix}${target}: gate, waiting for approve or abort until ${awaiting?.timeoutAt ?? '?'} (then ${awaiting?.onTimeout ?? 'rollback'})`;
      case 'promoting':
        return `${prefix}${target}: promoting ${canaryTaskDefinition ?? what} to the main service`;
      case 'rolling-back':
        return `${prefix}${target}: rolling back: ${finalReason ?? ''}`;
      default:
        return `${prefix}${target}: ${controls.phase}: ${finalReason ?? ''}`;
    }
  }

  function status(): DeployStatus {
    return {
      phase: controls.phase as DeployPhase,
      summary: summary(),
      dryRun,
      dryRunCalls,
      cluster: input.cluster,
      service: input.service,
      canaryService,
      requestedBy: input.requestedBy,
      trafficMode,
      stableTaskDefinition: stable?.taskDefinition,
      canaryTaskDefinition,
      step,
      canaryWeight,
      canaryDesiredCount,
      analysis: { runs: analysisRuns, metricFailures, failureLimit: plan?.failureLimit ?? 0, last: lastAnalysis },
      awaiting,
      decisions: decisions.slice(-MAX_KEPT_ENTRIES),
      timeline: timeline.slice(-MAX_KEPT_ENTRIES),
      outcome,
      reason: finalReason,
      incidentWorkflowId,
    };
  }

  const controls: OperatorControls = installOperatorControls({
    initialPhase: 'preflight',
    status,
    rejectAbort: () => {
      const phase = controls.phase as DeployPhase;
      if (TERMINAL_DEPLOY_PHASES.includes(phase)) return `deploy already finished: ${phase}`;
      if (phase === 'rolling-back') return 'deploy is already rolling back';
      return undefined;
    },
  });

  setHandler(
    approveUpdate,
    (req: ApproveRequest): DeployStatus => {
      approval = req ?? {};
      return status();
    },
    {
      description: 'Pass the current gate, or accept an inconclusive analysis and continue baking.',
      validator: (_req: ApproveRequest): void => {
        const phase = controls.phase as DeployPhase;
        if (!APPROVABLE_DEPLOY_PHASES.includes(phase)) {
          throw new Error(`nothing to approve: deploy ${input.cluster}/${input.service} is ${phase}, not waiting at a gate`);
        }
        if (controls.abortRequest) throw new Error(`deploy is being aborted: ${controls.abortRequest.reason}`);
        if (approval) throw new Error('already approved');
      },
    },
  );

  setHandler(
    ecsEventSignal,
    (ev) => {
      if (ev.eventId) {
        if (seenEventIds.has(ev.eventId)) return;
        seenEventIds.add(ev.eventId);
      }
      const services = ev.resources.map(serviceOf);
      const about = services.includes(canaryService) ? canaryService : services.includes(input.service) ? input.service : services.join(',');
      timeline.push({ at: ev.time, source: 'ecs', text: `${about}: ${ev.eventName}${ev.reason ? ` (${ev.reason})` : ''}` });
      const phase = controls.phase as DeployPhase;
      if (about === canaryService && ['SERVICE_DEPLOYMENT_FAILED', 'SERVICE_TASK_START_IMPAIRED'].includes(ev.eventName)) {
        if (['shifting-traffic', 'baking', 'inconclusive', 'awaiting-approval'].includes(phase)) {
          canaryEventFailure ??= `ECS reported ${ev.eventName} for ${canaryService}${ev.reason ? `: ${ev.reason}` : ''}`;
        }
      }
      if (about === input.service && phase === 'promoting') {
        if (ev.eventName === 'SERVICE_DEPLOYMENT_FAILED') {
          mainEventFailure ??= `ECS reported SERVICE_DEPLOYMENT_FAILED for ${input.service}${ev.reason ? `: ${ev.reason}` : ''}`;
        }
        if (ev.eventName === 'SERVICE_DEPLOYMENT_COMPLETED') mainDeploymentEvent += 1;
      }
    },
    { description: 'ECS deployment and service events for this deploy (timeline, failure detection).' },
  );

  function decide(decision: string, reason: string): void {
    decisions.push({ at: now(), phase: controls.phase as DeployPhase, decision, reason });
  }

  async function enterPhase(phase: DeployPhase, reason: string): Promise<void> {
    if (controls.phase === phase) return;
    controls.setPhase(phase);
    decide(`enter ${phase}`, reason);
    notifySeq += 1;
    try {
      await notifications.notify({
        kind: 'deploy',
        workflowId: info.workflowId,
        title: `${dryRun ? '[dry run] ' : ''}deploy ${input.cluster}/${input.service}: ${phase}`,
        text: reason,
        idempotencyKey: `${info.workflowId}/${info.runId}/phase/${notifySeq}`,
        fields: {
          revision: canaryTaskDefinition ?? input.image ?? input.taskDefinition ?? '',
          ...(input.requestedBy ? { 'requested by': input.requestedBy } : {}),
        },
      });
    } catch (err) {
      // A webhook outage must not stop a deploy or a rollback; the miss is on the record instead.
      decide('notification failed', errorMessage(err));
    }
  }

  function recordCalls(calls: DryRunCall[]): void {
    dryRunCalls.push(...calls);
  }

  /** Throws CanaryFailed when an abort or a failure event is pending. */
  function throwIfInterrupted(): void {
    if (controls.abortRequest) {
      const by = controls.abortRequest.by ? ` by ${controls.abortRequest.by}` : '';
      throw new CanaryFailed(`aborted${by}: ${controls.abortRequest.reason}`, 'abort');
    }
    if (canaryEventFailure) throw new CanaryFailed(canaryEventFailure);
  }

  async function checkpoint(): Promise<void> {
    await controls.checkpoint();
    throwIfInterrupted();
  }

  /** Waits on a human for approve/abort, with a timeout. */
  async function waitForHuman(kind: 'gate' | 'inconclusive', timeoutSeconds: number, onTimeout: 'rollback' | 'promote'): Promise<HumanAnswer> {
    approval = undefined;
    awaiting = {
      kind,
      since: now(),
      timeoutAt: new Date(Date.now() + timeoutSeconds * 1000).toISOString(),
      onTimeout,
    };
    await enterPhase(
      kind === 'gate' ? 'awaiting-approval' : 'inconclusive',
      kind === 'gate'
        ? `gate: approve or abort within ${timeoutSeconds} s, then ${onTimeout}`
        : `analysis inconclusive (${describeInconclusive(lastAnalysis)}): approve to continue or abort within ${timeoutSeconds} s, then rollback`,
    );
    const answered = await condition(
      () => approval !== undefined || controls.abortRequest !== undefined || canaryEventFailure !== undefined,
      timeoutSeconds * 1000,
    );
    awaiting = undefined;
    if (!answered) return 'timeout';
    if (controls.abortRequest) return 'aborted';
    if (canaryEventFailure) return 'failed';
    const given = approval as ApproveRequest | undefined;
    const by = given?.by ? ` by ${given.by}` : '';
    decide('approve', `approved${by}${given?.reason ? `: ${given.reason}` : ''}`);
    return 'approved';
  }

  function describeInconclusive(a: CanaryAnalysis | undefined): string {
    if (!a) return 'no analysis yet';
    const parts = [
      ...a.metrics.filter((m) => m.verdict === 'inconclusive').map((m) => `${m.name}: ${m.reason}`),
      ...a.alarms.filter((al) => al.state === 'INSUFFICIENT_DATA' || al.state === 'MISSING').map((al) => `alarm ${al.name} ${al.state}`),
    ];
    return parts.join('; ') || 'inconclusive';
  }

  /** One analysis run: fails the canary, asks a human, or lets the bake go on. */
  async function analyse(sinceMs: number): Promise<void> {
    if (!plan) return;
    const result = await aws.analyzeCanary({
      cluster: input.cluster,
      service: input.service,
      canaryService,
      alarms: plan.alarms,
      metricChecks: plan.metricChecks,
      sinceMs,
      windowSeconds: plan.analysisIntervalSeconds,
    });
    analysisRuns += 1;
    lastAnalysis = result;
    const firing = result.alarms.filter((a) => a.state === 'ALARM');
    const failed = result.metrics.filter((m) => m.verdict === 'fail');
    const inconclusive =
      result.metrics.some((m) => m.verdict === 'inconclusive') || result.alarms.some((a) => a.state === 'INSUFFICIENT_DATA' || a.state === 'MISSING');
    timeline.push({
      at: result.at,
      source: 'analysis',
      text: `run ${analysisRuns}: alarms ${result.alarms.map((a) => `${a.name}=${a.state}`).join(', ') || 'none'}; metrics ${
        result.metrics.map((m) => `${m.name}=${m.verdict}`).join(', ') || 'none'
      }; stopped canary tasks ${result.stoppedTasks.length}`,
    });
    if (firing.length > 0) {
      throw new CanaryFailed(`alarm ${firing.map((a) => `${a.name} in ALARM${a.reason ? ` (${a.reason})` : ''}`).join(', ')}`);
    }
    if (result.stoppedTasks.length > 0) {
      const t = result.stoppedTasks[0]!;
      throw new CanaryFailed(
        `${result.stoppedTasks.length} canary task(s) stopped unexpectedly: ${t.stopCode ?? 'stopped'}: ${t.stoppedReason}`,
      );
    }
    if (result.canary?.rolloutState === 'FAILED') {
      throw new CanaryFailed(`canary deployment FAILED: ${result.canary.rolloutStateReason ?? 'no reason given'}`);
    }
    if (failed.length > 0) {
      metricFailures += failed.length;
      const what = failed.map((m) => `${m.name}: ${m.reason}`).join('; ');
      if (metricFailures > plan.failureLimit) {
        throw new CanaryFailed(`metric checks failed ${metricFailures} times (limit ${plan.failureLimit}): ${what}`);
      }
      decide('tolerate', `metric failure ${metricFailures} of ${plan.failureLimit} tolerated: ${what}`);
    }
    if (inconclusive) {
      const answer = await waitForHuman('inconclusive', plan.inconclusiveTimeoutSeconds, 'rollback');
      if (answer === 'timeout') {
        throw new CanaryFailed(`inconclusive analysis not judged within ${plan.inconclusiveTimeoutSeconds} s (${describeInconclusive(result)})`);
      }
      throwIfInterrupted();
      await enterPhase('baking', 'inconclusive analysis accepted by a human; baking continues');
      return;
    }
    if (failed.length === 0) decide('pass', `analysis run ${analysisRuns} passed`);
  }

  async function bake(seconds: number): Promise<void> {
    if (!plan) return;
    if (dryRun) {
      decide('skip', `dry run: bake of ${seconds} s with analysis skipped`);
      return;
    }
    const startedAt = Date.now();
    const endAt = startedAt + seconds * 1000;
    const intervalMs = plan.analysisIntervalSeconds * 1000;
    let nextAnalysisAt = Math.min(startedAt + intervalMs, endAt);
    let sinceMs = startedAt;
    for (;;) {
      const waitMs = Math.max(0, nextAnalysisAt - Date.now());
      const pastEnd = Date.now() >= endAt;
      if (waitMs > 0) {
        await condition(
          () => controls.abortRequest !== undefined || canaryEventFailure !== undefined || (pastEnd && !controls.paused),
          waitMs,
        );
      }
      throwIfInterrupted();
      if (Date.now() >= nextAnalysisAt) {
        const runStartedAt = Date.now();
        await analyse(sinceMs);
        sinceMs = runStartedAt;
        nextAnalysisAt = Date.now() + intervalMs;
        if (Date.now() < endAt) nextAnalysisAt = Math.min(nextAnalysisAt, endAt);
      }
      // A paused deploy keeps analysing but does not leave the bake.
      if (Date.now() >= endAt && !controls.paused) return;
    }
  }

  /** Waits until the canary service runs what it should, or fails the canary. */
  async function waitForCanaryReady(desired: number): Promise<void> {
    if (dryRun) return;
    const deadline = Date.now() + CANARY_READY_TIMEOUT_SECONDS * 1000;
    for (;;) {
      const snap = await aws.describeDeployService({ cluster: input.cluster, service: canaryService });
      if (!snap) throw new CanaryFailed(`${canaryService} disappeared`);
      const primary = snap.deployments.find((d) => d.status === 'PRIMARY');
      if (primary?.rolloutState === 'FAILED') {
        throw new CanaryFailed(`canary deployment FAILED: ${primary.rolloutStateReason ?? 'no reason given'}`);
      }
      if (snap.runningCount >= desired && snap.desiredCount === desired) return;
      if (Date.now() >= deadline) {
        throw new CanaryFailed(`canary reached ${snap.runningCount} of ${desired} running tasks in ${CANARY_READY_TIMEOUT_SECONDS} s`);
      }
      await condition(() => controls.abortRequest !== undefined || canaryEventFailure !== undefined, servicePollMs());
      throwIfInterrupted();
    }
  }

  async function setWeight(weight: number): Promise<void> {
    if (!plan || !stable || !canaryTaskDefinition) return;
    await enterPhase('shifting-traffic', `setWeight ${weight}`);
    const mode = trafficMode ?? 'shared-target-group';
    const desired = canaryTaskCount(stable.desiredCount, weight, mode);
    if (desired !== canaryDesiredCount) {
      const scaled = await aws.scaleService({ cluster: input.cluster, service: canaryService, desiredCount: desired, dryRun });
      recordCalls(scaled.dryRunCalls);
      decide('scale', `${canaryService} to ${desired} task(s) for ${weight}% (${mode}, stable has ${stable.desiredCount})`);
      canaryDesiredCount = desired;
      if (desired > 0) await waitForCanaryReady(desired);
    }
    if (plan.listenerRule) {
      const rule = plan.listenerRule;
      if (!undo.some((c) => c.description.startsWith('listener rule'))) {
        undo.push({
          description: `listener rule ${rule.ruleArn} back to 100% stable`,
          run: async () => {
            const back = await compensations.setTrafficWeight({ listenerRule: rule, canaryWeight: 0, dryRun });
            recordCalls(back.dryRunCalls);
          },
        });
      }
      const set = await aws.setTrafficWeight({ listenerRule: rule, canaryWeight: weight, dryRun });
      recordCalls(set.dryRunCalls);
      decide('shift', `listener rule weights stable ${set.stableWeight} / canary ${set.canaryWeight} (read back)`);
      canaryWeight = set.canaryWeight;
    } else {
      const total = stable.desiredCount + desired;
      canaryWeight = total > 0 ? Math.round((desired * 100) / total) : 0;
      decide('shift', `canary tasks share the stable target group: about ${canaryWeight}% of traffic (asked ${weight}%)`);
    }
  }

  async function gate(timeoutSeconds: number): Promise<void> {
    if (!plan) return;
    if (dryRun) {
      decide('skip', `dry run: gate (timeout ${timeoutSeconds} s) skipped`);
      return;
    }
    const answer = await waitForHuman('gate', timeoutSeconds, plan.gateTimeoutAction);
    if (answer === 'timeout') {
      if (plan.gateTimeoutAction === 'promote') {
        decide('promote', `gate not answered within ${timeoutSeconds} s; config says promote`);
        return;
      }
      throw new CanaryFailed(`gate not answered within ${timeoutSeconds} s; config says rollback`);
    }
    throwIfInterrupted();
  }

  /** Polls the main service until ECS finished moving it to `taskDefinition`; returns a failure reason or undefined. */
  async function waitForMainDeployment(taskDefinition: string, timeoutSeconds: number, watchEvents: boolean): Promise<string | undefined> {
    if (dryRun) return undefined;
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (;;) {
      const snap = await aws.describeDeployService({ cluster: input.cluster, service: input.service });
      if (!snap) return `${input.service} not found`;
      const primary = snap.deployments.find((d) => d.status === 'PRIMARY');
      if (primary && primary.taskDefinition === taskDefinition) {
        if (primary.rolloutState === 'FAILED') return `ECS deployment ${primary.id} FAILED: ${primary.rolloutStateReason ?? 'no reason given'}`;
        const others = snap.deployments.filter((d) => d.status !== 'PRIMARY' && d.status !== 'INACTIVE');
        if (primary.rolloutState === 'COMPLETED' && others.length === 0 && snap.runningCount === snap.desiredCount) return undefined;
      }
      if (Date.now() >= deadline) {
        return `ECS deployment of ${taskDefinition} did not complete within ${timeoutSeconds} s (${snap.runningCount}/${snap.desiredCount} running, rollout ${primary?.rolloutState ?? 'unknown'})`;
      }
      const seen = mainDeploymentEvent;
      await condition(
        () => (watchEvents && (controls.abortRequest !== undefined || mainEventFailure !== undefined)) || mainDeploymentEvent !== seen,
        servicePollMs(),
      );
      if (watchEvents && controls.abortRequest) {
        throw new CanaryFailed(`aborted during promotion: ${controls.abortRequest.reason}`, 'abort');
      }
      if (watchEvents && mainEventFailure) return mainEventFailure;
    }
  }

  async function promote(): Promise<void> {
    if (!plan || !stable || !canaryTaskDefinition) return;
    const previous = stable.taskDefinition;
    const next = canaryTaskDefinition;
    await enterPhase('promoting', `moving ${input.service} from ${previous} to ${next}`);
    const updated = await aws.updateServiceRevision({ cluster: input.cluster, service: input.service, taskDefinition: next, dryRun });
    recordCalls(updated.dryRunCalls);
    undo.push({
      description: `${input.service} back to ${previous}`,
      run: async () => {
        const back = await compensations.updateServiceRevision({ cluster: input.cluster, service: input.service, taskDefinition: previous, dryRun });
        recordCalls(back.dryRunCalls);
        const failure = await waitForMainDeployment(previous, plan?.promoteTimeoutSeconds ?? 1800, false);
        if (failure) throw new Error(`main service did not settle back on ${previous}: ${failure}`);
      },
    });
    const failure = await waitForMainDeployment(next, plan.promoteTimeoutSeconds, true);
    if (failure) throw new CanaryFailed(`promotion failed: ${failure}`);
    decide('promote', `${input.service} runs ${next}; removing the canary`);

    // Traffic goes back to the stable target group (now on the new revision) before the canary
    // goes, so no request is routed to a target group that is being emptied.
    const cleanupErrors: string[] = [];
    if (plan.listenerRule) {
      try {
        const set = await compensations.setTrafficWeight({ listenerRule: plan.listenerRule, canaryWeight: 0, dryRun });
        recordCalls(set.dryRunCalls);
        canaryWeight = set.canaryWeight;
      } catch (err) {
        cleanupErrors.push(`restore weights: ${errorMessage(err)}`);
      }
    }
    try {
      const deleted = await compensations.deleteCanaryService({ cluster: input.cluster, canaryService, dryRun });
      recordCalls(deleted.dryRunCalls);
      canaryDesiredCount = 0;
      if (!plan.listenerRule) canaryWeight = 0;
    } catch (err) {
      cleanupErrors.push(`delete ${canaryService}: ${errorMessage(err)}`);
    }
    undo.length = 0;
    if (cleanupErrors.length > 0) decide('cleanup failed', `promoted, but cleanup failed (left for an operator): ${cleanupErrors.join('; ')}`);
  }

  async function rollback(reason: string): Promise<DeployResult> {
    finalReason = reason;
    await enterPhase('rolling-back', reason);
    const failures: string[] = [];
    while (undo.length > 0) {
      const c = undo.pop()!;
      try {
        await c.run();
        decide('undo', c.description);
      } catch (err) {
        // Keep going: every other compensation still makes AWS safer than stopping here.
        failures.push(`${c.description}: ${errorMessage(err)}`);
        decide('undo failed', `${c.description}: ${errorMessage(err)}`);
      }
    }
    canaryWeight = 0;
    if (failures.length === 0) {
      return finish(dryRun ? 'dry-run-complete' : 'rolled-back', `rolled back: ${reason}`);
    }
    try {
      const incident = await compensations.requestDeployIncident({
        deployWorkflowId: info.workflowId,
        deployRunId: info.runId,
        cluster: input.cluster,
        service: input.service,
        title: `Deploy rollback failed: ${input.cluster}/${input.service}`,
        summary: `Rolling back ${canaryTaskDefinition ?? input.image ?? input.taskDefinition ?? ''} (${reason}) left work undone.`,
        facts: {
          reason,
          ...(stable ? { 'stable task definition': stable.taskDefinition } : {}),
          ...(canaryTaskDefinition ? { 'canary task definition': canaryTaskDefinition } : {}),
          'undo failures': failures.join(' | '),
        },
      });
      incidentWorkflowId = incident.workflowId;
      decide('incident', `asked for incident ${incident.workflowId}`);
    } catch (err) {
      decide('incident failed', `could not open an incident: ${errorMessage(err)}`);
    }
    return finish('rollback-failed', `rollback incomplete after: ${reason}; ${failures.join('; ')}`);
  }

  async function finish(result: DeployOutcome, reason: string): Promise<DeployResult> {
    outcome = result;
    finalReason = reason;
    await enterPhase(result, reason);
    recordDeployFinished(result, input.cluster);
    return {
      outcome: result,
      reason,
      cluster: input.cluster,
      service: input.service,
      previousTaskDefinition: stable?.taskDefinition,
      taskDefinition: canaryTaskDefinition,
      decisions,
      incidentWorkflowId,
      ...(dryRun ? { dryRunCalls } : {}),
    };
  }

  async function preflight(): Promise<CanaryPlan> {
    if ((input.image === undefined) === (input.taskDefinition === undefined)) {
      throw new DeployRefused('set exactly one of image or taskDefinition');
    }
    let resolved;
    try {
      resolved = await aws.resolveDeployPlan({ cluster: input.cluster, service: input.service });
    } catch (err) {
      throw new DeployRefused(errorMessage(err));
    }
    const p = resolved.plan;
    plan = p;
    trafficMode = p.listenerRule ? 'listener-rule' : 'shared-target-group';

    if (input.force) {
      decide('skip', 'forced: open incidents not checked');
    } else {
      let incidents;
      try {
        incidents = await aws.findBlockingIncidents({ cluster: input.cluster });
      } catch (err) {
        throw new DeployRefused(`cannot tell whether an incident is open (deploy with force to skip the check): ${errorMessage(err)}`);
      }
      if (incidents.length > 0) {
        throw new DeployRefused(
          `deploys to ${input.cluster} are frozen while incidents are open: ${incidents.map((i) => `${i.workflowId} (${i.severity}, ${i.phase})`).join(', ')}; use force to override`,
        );
      }
      decide('proceed', `no sev1/sev2 incident open for ${input.cluster}`);
    }

    const snap = await aws.describeDeployService({ cluster: input.cluster, service: input.service });
    if (!snap) throw new DeployRefused(`service ${input.service} not found in cluster ${input.cluster}`);
    if (snap.runningCount !== snap.desiredCount) {
      throw new DeployRefused(`stable ${input.service} is not healthy: ${snap.runningCount} running of ${snap.desiredCount} desired`);
    }
    const inFlight = snap.deployments.filter((d) => d.status !== 'INACTIVE');
    if (inFlight.length > 1 || inFlight.some((d) => d.rolloutState === 'IN_PROGRESS' || d.rolloutState === 'FAILED')) {
      throw new DeployRefused(
        `stable ${input.service} has a deployment that is not complete: ${inFlight.map((d) => `${d.id} ${d.status} ${d.rolloutState ?? ''}`).join(', ')}`,
      );
    }
    stable = snap;
    const alarms = await aws.describeAlarmStates({ alarmNames: p.alarms });
    const bad = alarms.filter((a) => a.state === 'ALARM' || a.state === 'MISSING');
    if (bad.length > 0) {
      throw new DeployRefused(`stable ${input.service} is not healthy: ${bad.map((a) => `alarm ${a.name} ${a.state}`).join(', ')}`);
    }
    decide('proceed', `stable ${input.service} healthy: ${snap.runningCount}/${snap.desiredCount} running on ${snap.taskDefinition}; alarms ${alarms.map((a) => `${a.name}=${a.state}`).join(', ') || 'none configured'}`);
    return p;
  }

  async function forward(p: CanaryPlan): Promise<DeployResult> {
    if (!stable) throw new DeployRefused('no stable service snapshot');
    const base = stable;
    await checkpoint();
    await enterPhase('creating-canary', `deploying ${input.image ?? input.taskDefinition} as ${canaryService}`);
    const revision = await aws.resolveDeployRevision({
      cluster: input.cluster,
      service: input.service,
      currentTaskDefinition: base.taskDefinition,
      image: input.image,
      taskDefinition: input.taskDefinition,
      container: p.container,
      dryRun,
    });
    recordCalls(revision.dryRunCalls);
    canaryTaskDefinition = revision.taskDefinitionArn;
    decide(revision.registered ? 'register' : 'use', `canary revision ${revision.taskDefinitionArn}`);
    if (revision.taskDefinitionArn === base.taskDefinition) {
      throw new DeployRefused(`${input.service} already runs ${revision.taskDefinitionArn}`);
    }

    // Registered before the call: a create that succeeded but whose answer was lost must still be undone.
    undo.push({
      description: `${canaryService} scaled to zero and deleted`,
      run: async () => {
        const deleted = await compensations.deleteCanaryService({ cluster: input.cluster, canaryService, dryRun });
        recordCalls(deleted.dryRunCalls);
        canaryDesiredCount = 0;
      },
    });
    const created = await aws.createCanaryService({
      cluster: input.cluster,
      service: input.service,
      canaryService,
      taskDefinition: revision.taskDefinitionArn,
      desiredCount: 0,
      canaryTargetGroupArn: p.listenerRule?.canaryTargetGroupArn,
      dryRun,
    });
    recordCalls(created.dryRunCalls);
    decide('create', `${canaryService} created with 0 tasks (${trafficMode})`);

    let promoted = false;
    for (let i = 0; i < p.steps.length; i++) {
      const s = p.steps[i]!;
      step = { index: i, total: p.steps.length, kind: s.kind };
      await checkpoint();
      switch (s.kind) {
        case 'setWeight':
          await setWeight(s.weight);
          break;
        case 'bake':
          await enterPhase('baking', `bake ${s.seconds} s at ${canaryWeight}%`);
          await bake(s.seconds);
          decide('pass', `bake of ${s.seconds} s passed`);
          break;
        case 'gate':
          await gate(s.timeoutSeconds ?? p.gateTimeoutSeconds);
          break;
        case 'promote':
          await promote();
          promoted = true;
          break;
      }
      if (promoted) {
        if (i < p.steps.length - 1) decide('skip', `${p.steps.length - 1 - i} step(s) after promote ignored`);
        break;
      }
    }
    if (!promoted) {
      await checkpoint();
      await promote();
    }
    return finish(dryRun ? 'dry-run-complete' : 'promoted', `${input.service} promoted to ${canaryTaskDefinition}`);
  }

  try {
    let p: CanaryPlan;
    try {
      p = await preflight();
    } catch (err) {
      if (err instanceof DeployRefused) return await finish('refused', err.message);
      throw err;
    }
    return await forward(p);
  } catch (err) {
    if (err instanceof DeployRefused && undo.length === 0) return await finish('refused', err.message);
    // A step that failed before anything was created (e.g. an ambiguous container) changed nothing.
    if (err instanceof ActivityFailure && undo.length === 0 && !isCancellation(err)) {
      return await finish('refused', `deploy step failed before any change: ${errorMessage(err)}`);
    }
    let reason: string;
    if (err instanceof CanaryFailed) {
      decide(err.decision, err.reason);
      reason = err.reason;
    } else if (err instanceof DeployRefused) {
      reason = err.message;
    } else if (isCancellation(err)) {
      reason = 'workflow cancelled';
    } else if (err instanceof ActivityFailure || err instanceof ApplicationFailure) {
      reason = `deploy step failed: ${errorMessage(err)}`;
    } else {
      throw err;
    }
    // Compensations run even when the workflow itself is being cancelled.
    const result = await CancellationScope.nonCancellable(() => rollback(reason));
    if (isCancellation(err)) throw err;
    return result;
  }
}
