import { defineUpdate } from '@temporalio/workflow';
import type { ControlRequest, WorkflowStatus } from '../controls';
import type { DeployOutcome } from '../canary-deploy/messages';
import type { ReleaseInput, WaveSize } from './input';

/**
 * The release's messages (beside the operator messages every workflow answers, contracts/controls.ts)
 * and what its clients read: the status, the result, the phases.
 */

/** What a release's input leaves unset means (plain values: the workflow reads them too). */
export const DEFAULT_WAVES: readonly WaveSize[] = [1, '10%', '25%', '100%'];
export const DEFAULT_MAX_CONCURRENT = 10;
export const DEFAULT_MAX_PER_CLUSTER = 5;

export type ReleasePhase =
  /** Waiting for `approveWave` before the next wave starts (the first one included). */
  | 'awaiting-approval'
  | 'deploying'
  /** A cluster the wave touches is frozen (an open sev1/sev2 incident, a readiness window): nothing new starts. */
  | 'frozen'
  /** The wave's failures went past its budget: nothing new starts until continue, skip, rollback or abort. */
  | 'halted'
  | 'rolling-back'
  | 'completed'
  | 'rolled-back'
  | 'aborted';

export const TERMINAL_RELEASE_PHASES: readonly ReleasePhase[] = ['completed', 'rolled-back', 'aborted'];

/**
 * Where one service of the release is:
 *  - `pending` not started; `waiting` for a deploy of the service running outside the release;
 *  - `running` its deploy runs; then `promoted`, `rolled-back` (its canary failed and was undone) or
 *    `failed` (refused, rollback failed, or the deploy workflow failed), or `skipped` by an operator
 *    or because its deploy id was taken (`onBusy: skip`);
 *  - a release rollback takes promoted services through `reverting` to `reverted` or `revert-failed`.
 */
export type ReleaseServiceState = 'pending' | 'waiting' | 'running' | 'promoted' | 'rolled-back' | 'failed' | 'skipped' | 'reverting' | 'reverted' | 'revert-failed';

export const RELEASE_SERVICE_STATES: readonly ReleaseServiceState[] = [
  'pending',
  'waiting',
  'running',
  'promoted',
  'rolled-back',
  'failed',
  'skipped',
  'reverting',
  'reverted',
  'revert-failed',
];

export interface ReleaseService {
  cluster: string;
  service: string;
  /** 1-based. */
  wave: number;
  state: ReleaseServiceState;
  /** The deploy running or last run for the service by the release. */
  workflowId?: string;
  runId?: string;
  /** The deploy's outcome. */
  outcome?: DeployOutcome;
  /** Why it is where it is (a rollback's or refusal's reason, what it waits for, who skipped it). */
  reason?: string;
  /** The task definition the service ran before the release, and the one it was promoted to. */
  previousTaskDefinition?: string;
  taskDefinition?: string;
  /** A deploy of the service running outside the release (its id taken), which the release waits for before starting its own. */
  blockedBy?: string;
  /** A deploy started by an earlier run of the release (continue-as-new): followed by polling, not as a child. */
  adopted?: boolean;
  /** Epoch ms the service's state last changed. */
  since?: number;
  /** Order of promotion (1-based), so a rollback goes newest first. */
  promotedSeq?: number;
}

/** One wave's outcome, as it stands. */
export interface WaveSummary {
  wave: number;
  size: number;
  approvedBy?: string;
  promoted: string[];
  rolledBack: { service: string; reason: string }[];
  failed: { service: string; reason: string }[];
  skipped: { service: string; reason: string }[];
}

export interface ReleaseDecision {
  at: string;
  phase: string;
  decision: string;
  reason: string;
}

export interface ReleaseStatus extends WorkflowStatus {
  phase: ReleasePhase;
  release: string;
  change: string;
  requestedBy?: string;
  /** The wave being approved or deployed (1-based), of `total`. */
  wave: { current: number; total: number };
  /** Services per state. */
  counts: Record<ReleaseServiceState, number>;
  /** The last wave that ended (or the current one while halted): promoted, rolled back and why. */
  lastWave?: WaveSummary;
  halted?: { reason: string; since: string };
  /** Why nothing new starts (a freeze, a pause, a deploy the release waits for). */
  waitingFor?: string;
  rollback?: { by: string; reason: string; at: string };
  services: ReleaseService[];
  decisions: ReleaseDecision[];
  /** Runs before this one (continue-as-new). */
  continuedRuns: number;
  outcome?: ReleaseOutcome;
}

export type ReleaseOutcome = 'completed' | 'rolled-back' | 'aborted';

export interface ReleaseResult {
  outcome: ReleaseOutcome;
  reason: string;
  release: string;
  counts: Record<ReleaseServiceState, number>;
  services: ReleaseService[];
}

/** Approves the next wave: `by` must be someone who may approve the deploy of every service in it. */
export interface ApproveWaveRequest extends ControlRequest {
  by: string;
  /** The wave meant (1-based); refused when another is waiting, so an approval never lands on the wrong one. */
  wave?: number;
  /** The Slack user group through which `by` is an approver (as a deploy's `approve` takes it). */
  viaGroup?: string;
}

export interface SkipRequest extends ControlRequest {
  by: string;
  /** `<cluster>/<service>`, or the service alone when one cluster has it. */
  service: string;
}

export interface RollbackRequest extends ControlRequest {
  by: string;
  reason: string;
}

export const approveWaveUpdate = defineUpdate<ReleaseStatus, [ApproveWaveRequest], 'approveWave'>('approveWave');
/** Resumes a halted release: the failures so far are accepted, the wave goes on. */
export const continueUpdate = defineUpdate<ReleaseStatus, [ControlRequest], 'continue'>('continue');
/** Skips a service that failed, waits or has not started; a halt ends when the wave is back within its budget. */
export const skipUpdate = defineUpdate<ReleaseStatus, [SkipRequest], 'skip'>('skip');
/** Starts nothing new, lets running deploys end, then deploys each promoted service's previous task definition, newest first. */
export const rollbackUpdate = defineUpdate<ReleaseStatus, [RollbackRequest], 'rollback'>('rollback');

/** What one run hands the next through continue-as-new (plain JSON), built by workflows/release/state.ts. */
export interface ReleaseCarried {
  phase: ReleasePhase;
  paused: boolean;
  /** 0-based. */
  waveIndex: number;
  services: ReleaseService[];
  approvals: ({ wave: number; at: string } & ApproveWaveRequest)[];
  /** Per wave (0-based), failures accepted by `continue`. */
  forgiven: number[];
  halted?: { reason: string; since: string };
  rollback?: { by: string; reason: string; at: string };
  decisions: ReleaseDecision[];
  promotions: number;
  notifySeq: number;
  continuedRuns: number;
}

export type ReleaseWorkflowInput = ReleaseInput & { carried?: ReleaseCarried };

/** The workflow as clients start it, for typed handles without importing workflow code. */
export type ReleaseWorkflow = (input: ReleaseWorkflowInput) => Promise<ReleaseResult>;
