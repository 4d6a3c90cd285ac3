import { defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ControlRequest, DryRunCall, WorkflowStatus } from '../controls';
import type { CanaryAnalysis, TrafficMode } from '../../common/deploy';
import type { CanaryStep } from '../../config/schema';
import type { DeployEcsEvent, DeployInput } from './input';

/**
 * The canary deploy's messages (beside the operator messages every workflow answers, contracts/controls.ts)
 * and what its clients read: the status, the result, the phases. The router, the CLI and tests import
 * them from here, the workflow (workflows/canary-deploy/) too; nothing of workflows/ is imported outside it.
 */

export type DeployPhase =
  | 'preflight'
  | 'creating-canary'
  | 'shifting-traffic'
  | 'baking'
  | 'inconclusive'
  | 'awaiting-approval'
  | 'promoting'
  | 'post-promotion-bake'
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
  trafficMode?: TrafficMode;
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

/**
 * Who approves (`by`: an identity such as `cli:alice` or `slack:U…`; required) and why. `viaGroup`: the
 * Slack user group through which the Slack app found `by` to be an approver; accepted only when the
 * group is on the deploy's approvers (workflows/canary-deploy/approval.ts).
 */
export interface ApproveRequest extends ControlRequest {
  viaGroup?: string;
}

/** Passes a gate or accepts an inconclusive analysis. Rejected (validator) in any other phase. */
export const approveUpdate = defineUpdate<DeployStatus, [ApproveRequest], 'approve'>('approve');
/** ECS Deployment State Change / ECS Service Action facts forwarded by the router. */
export const ecsEventSignal = defineSignal<[DeployEcsEvent], 'ecsEvent'>('ecsEvent');

/** The workflow as clients start it, for typed handles without importing workflow code. */
export type CanaryDeployWorkflow = (input: DeployInput) => Promise<DeployResult>;
