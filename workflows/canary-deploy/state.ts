import type { AbortRequest, DryRunCall } from '../../contracts/controls';
import type { CanaryAnalysis, TrafficMode } from '../../common/deploy';
import type { CanaryPlan } from '../../config/schema';
import type { DeployEcsEvent, DeployInput } from '../../contracts/canary-deploy/input';
import type { ListenerRuleSnapshot, ServiceSnapshot } from '../../activities/deploy/types';
import { approvalRefusal } from './approval';
import { CanaryFailed } from './failures';
import { deploySummary } from './summary';
import {
  APPROVABLE_DEPLOY_PHASES,
  TERMINAL_DEPLOY_PHASES,
  type ApproveRequest,
  type DeployDecision,
  type DeployOutcome,
  type DeployPhase,
  type DeployResult,
  type DeployStatus,
  type DeployTimelineEntry,
} from '../../contracts/canary-deploy/messages';

const MAX_KEPT_ENTRIES = 100;
/** How often the services' ECS state is polled while waiting on them, for plans resolved before `servicePollSeconds` existed (replayed histories). */
const DEFAULT_SERVICE_POLL_SECONDS = 10;

/** What the state reads of the operator controls (workflows/lib/operator-controls.ts); a plain object in tests. */
export interface ControlsView {
  readonly phase: string;
  readonly paused: boolean;
  readonly abortRequest: AbortRequest | undefined;
}

/** One change to undo on rollback, registered as the forward path makes it. */
export interface Compensation {
  description: string;
  run: () => Promise<void>;
}

/**
 * Where a wait is, which decides what ends it early:
 *  - `canary`: an abort, or ECS reporting that the canary cannot run (creating, shifting, baking, gates);
 *  - `promotion`: an abort, or ECS reporting that the main service's deployment failed (promoting, and
 *    the post-promotion bake);
 *  - `compensation`: nothing (an undo runs to its end; only its own timeout stops it).
 */
export type WaitScope = 'canary' | 'promotion' | 'compensation';

export interface Interruption {
  reason: string;
  decision: 'abort' | 'rollback';
}

export type HumanAnswer = 'approved' | 'aborted' | 'failed' | 'timeout';

function serviceOf(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

/**
 * The deploy's long-lived state and its message handlers, free of Temporal calls so a plain unit test
 * can drive it (test/deploy/canary-deploy-state.test.ts). The workflow's phases change it; its
 * handlers (approve, ecsEvent, status, the abort check) only read it or record what arrived.
 */
export class DeployState {
  readonly canaryService: string;
  readonly dryRun: boolean;
  readonly decisions: DeployDecision[] = [];
  readonly timeline: DeployTimelineEntry[] = [];
  readonly dryRunCalls: DryRunCall[] = [];
  /** Compensations in the order their changes were made; rollback runs them in reverse. */
  readonly undo: Compensation[] = [];
  private readonly seenEventIds = new Set<string>();

  plan: CanaryPlan | undefined;
  stable: ServiceSnapshot | undefined;
  /** The listener rule as preflight read it: what rollback and promotion put back. */
  ruleSnapshot: ListenerRuleSnapshot | undefined;
  canaryTaskDefinition: string | undefined;
  trafficMode: TrafficMode | undefined;
  step: DeployStatus['step'];
  canaryWeight = 0;
  canaryDesiredCount = 0;
  analysisRuns = 0;
  metricFailures = 0;
  lastAnalysis: CanaryAnalysis | undefined;
  awaiting: DeployStatus['awaiting'];
  approval: ApproveRequest | undefined;
  /** The last thing ECS said about the canary service (event name and reason), for a timeout's reason. */
  lastCanaryEvent: string | undefined;
  /** A canary failure ECS reported (ecsEvent) while the canary runs; ends every canary wait. */
  canaryEventFailure: string | undefined;
  /** A failed main-service deployment ECS reported while promoting. */
  mainEventFailure: string | undefined;
  /** Promotion is done and the main service bakes on the new revision (the previous one kept to go back to). */
  postPromotion = false;
  /** SERVICE_DEPLOYMENT_COMPLETED events for the main service while promoting; each ends a poll wait early. */
  mainDeploymentEvents = 0;
  outcome: DeployOutcome | undefined;
  finalReason: string | undefined;
  incidentWorkflowId: string | undefined;
  private notifySeq = 0;

  constructor(
    readonly input: DeployInput,
    private readonly controls: ControlsView,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.canaryService = `${input.service}-canary`;
    this.dryRun = input.dryRun === true;
  }

  get phase(): DeployPhase {
    return this.controls.phase as DeployPhase;
  }

  servicePollMs(): number {
    return (this.plan?.servicePollSeconds ?? DEFAULT_SERVICE_POLL_SECONDS) * 1000;
  }

  decide(decision: string, reason: string): void {
    this.decisions.push({ at: this.now().toISOString(), phase: this.phase, decision, reason });
  }

  recordCalls(calls: DryRunCall[]): void {
    this.dryRunCalls.push(...calls);
  }

  nextNotifySeq(): number {
    this.notifySeq += 1;
    return this.notifySeq;
  }

  /**
   * What ends a wait early, in one place: every wait in the deploy includes `interrupted(scope) !==
   * undefined` in its condition, and throws it (`throwIfInterrupted`) when it wakes.
   */
  interrupted(scope: WaitScope): Interruption | undefined {
    if (scope === 'compensation') return undefined;
    const abort = this.controls.abortRequest;
    if (scope === 'promotion') {
      // After promotion (its bake) the same two end the wait; the reason says which side of it they came.
      const after = this.postPromotion;
      if (abort) return { reason: after ? `aborted after promotion${abort.by ? ` by ${abort.by}` : ''}: ${abort.reason}` : `aborted during promotion: ${abort.reason}`, decision: 'abort' };
      if (this.mainEventFailure) return { reason: `${after ? 'after promotion' : 'promotion failed'}: ${this.mainEventFailure}`, decision: 'rollback' };
      return undefined;
    }
    if (abort) return { reason: `aborted${abort.by ? ` by ${abort.by}` : ''}: ${abort.reason}`, decision: 'abort' };
    if (this.canaryEventFailure) return { reason: this.canaryEventFailure, decision: 'rollback' };
    return undefined;
  }

  /** Throws CanaryFailed when an abort or a failure event is pending. */
  throwIfInterrupted(scope: WaitScope = 'canary'): void {
    const i = this.interrupted(scope);
    if (i) throw new CanaryFailed(i.reason, i.decision);
  }

  /** Starts a wait for a human (gate or inconclusive analysis): approve or abort until the timeout. */
  startAwaiting(kind: 'gate' | 'inconclusive', timeoutSeconds: number, onTimeout: 'rollback' | 'promote'): void {
    this.approval = undefined;
    const now = this.now();
    this.awaiting = {
      kind,
      since: now.toISOString(),
      timeoutAt: new Date(now.getTime() + timeoutSeconds * 1000).toISOString(),
      onTimeout,
    };
  }

  /** Ends the wait for a human; `answered` is false when it timed out. Records an approval. */
  endAwaiting(answered: boolean, scope: WaitScope = 'canary'): HumanAnswer {
    this.awaiting = undefined;
    if (!answered) return 'timeout';
    const interruption = this.interrupted(scope);
    if (interruption) return interruption.decision === 'abort' ? 'aborted' : 'failed';
    const given = this.approval;
    const by = given?.by ? ` by ${given.by}${given.viaGroup ? ` (user group ${given.viaGroup})` : ''}` : '';
    this.decide('approve', `approved${by}${given?.reason ? `: ${given.reason}` : ''}`);
    return 'approved';
  }

  // ---- handlers ----

  /** `abort` validator: a reason to reject the abort, or undefined to accept it. */
  rejectAbort(): string | undefined {
    const phase = this.phase;
    if (TERMINAL_DEPLOY_PHASES.includes(phase)) return `deploy already finished: ${phase}`;
    if (phase === 'rolling-back') return 'deploy is already rolling back';
    return undefined;
  }

  /**
   * `approve` validator: throws when there is nothing to approve, or when the approval names nobody, the
   * requester, or someone not on the service's approvers (approval.ts). Checked here, not only in the
   * Slack app, so every client (CLI, Slack, SDK) is held to it.
   */
  validateApprove(req?: ApproveRequest): void {
    const phase = this.phase;
    if (!APPROVABLE_DEPLOY_PHASES.includes(phase)) {
      throw new Error(`nothing to approve: deploy ${this.input.cluster}/${this.input.service} is ${phase}, not waiting at a gate`);
    }
    if (this.controls.abortRequest) throw new Error(`deploy is being aborted: ${this.controls.abortRequest.reason}`);
    if (this.approval) throw new Error('already approved');
    const refusal = approvalRefusal(this.input, req);
    if (refusal) throw new Error(refusal);
  }

  approve(req: ApproveRequest | undefined): DeployStatus {
    this.approval = req ?? {};
    return this.status();
  }

  /** `ecsEvent`: recorded once per event id; a canary or promotion failure is kept for the wait that watches it. */
  onEcsEvent(ev: DeployEcsEvent): void {
    if (ev.eventId) {
      if (this.seenEventIds.has(ev.eventId)) return;
      this.seenEventIds.add(ev.eventId);
    }
    const { canaryService } = this;
    const { service } = this.input;
    const services = ev.resources.map(serviceOf);
    const about = services.includes(canaryService) ? canaryService : services.includes(service) ? service : services.join(',');
    this.timeline.push({ at: ev.time, source: 'ecs', text: `${about}: ${ev.eventName}${ev.reason ? ` (${ev.reason})` : ''}` });
    const phase = this.phase;
    if (about === canaryService) this.lastCanaryEvent = `${ev.eventName}${ev.reason ? ` (${ev.reason})` : ''}`;
    if (about === canaryService && ['SERVICE_DEPLOYMENT_FAILED', 'SERVICE_TASK_START_IMPAIRED'].includes(ev.eventName)) {
      if (['shifting-traffic', 'baking', 'inconclusive', 'awaiting-approval'].includes(phase)) {
        this.canaryEventFailure ??= `ECS reported ${ev.eventName} for ${canaryService}${ev.reason ? `: ${ev.reason}` : ''}`;
      }
    }
    if (about === service && (phase === 'promoting' || this.postPromotion)) {
      if (ev.eventName === 'SERVICE_DEPLOYMENT_FAILED') {
        this.mainEventFailure ??= `ECS reported SERVICE_DEPLOYMENT_FAILED for ${service}${ev.reason ? `: ${ev.reason}` : ''}`;
      }
      if (ev.eventName === 'SERVICE_DEPLOYMENT_COMPLETED') this.mainDeploymentEvents += 1;
    }
  }

  status(): DeployStatus {
    return {
      phase: this.phase,
      summary: deploySummary(this),
      dryRun: this.dryRun,
      dryRunCalls: this.dryRunCalls,
      cluster: this.input.cluster,
      service: this.input.service,
      canaryService: this.canaryService,
      requestedBy: this.input.requestedBy,
      trafficMode: this.trafficMode,
      stableTaskDefinition: this.stable?.taskDefinition,
      canaryTaskDefinition: this.canaryTaskDefinition,
      step: this.step,
      canaryWeight: this.canaryWeight,
      canaryDesiredCount: this.canaryDesiredCount,
      analysis: { runs: this.analysisRuns, metricFailures: this.metricFailures, failureLimit: this.plan?.failureLimit ?? 0, last: this.lastAnalysis },
      awaiting: this.awaiting,
      decisions: this.decisions.slice(-MAX_KEPT_ENTRIES),
      timeline: this.timeline.slice(-MAX_KEPT_ENTRIES),
      outcome: this.outcome,
      reason: this.finalReason,
      incidentWorkflowId: this.incidentWorkflowId,
    };
  }

  /** The workflow's result once `outcome` is set. */
  result(outcome: DeployOutcome, reason: string): DeployResult {
    return {
      outcome,
      reason,
      cluster: this.input.cluster,
      service: this.input.service,
      previousTaskDefinition: this.stable?.taskDefinition,
      taskDefinition: this.canaryTaskDefinition,
      decisions: this.decisions,
      incidentWorkflowId: this.incidentWorkflowId,
      ...(this.dryRun ? { dryRunCalls: this.dryRunCalls } : {}),
    };
  }
}
