import type { AbortRequest } from '../../contracts/controls';
import type { DeployInput, ReleaseApproval } from '../../contracts/canary-deploy/input';
import type { DeployResult } from '../../contracts/canary-deploy/messages';
import {
  DEFAULT_WAVES,
  type ApproveWaveRequest,
  type ReleaseCarried,
  type ReleaseDecision,
  type ReleasePhase,
  type ReleaseService,
  type ReleaseServiceState,
  type ReleaseWorkflowInput,
} from '../../contracts/release/messages';
import { failuresAllowed, planWaves, waveRanges } from './waves';

const MAX_KEPT_DECISIONS = 100;
const FAILED: readonly ReleaseServiceState[] = ['rolled-back', 'failed'];

/** What the state reads of the operator controls (workflows/lib/operator-controls.ts); a plain object in tests. */
export interface ControlsView {
  readonly phase: string;
  readonly paused: boolean;
  readonly abortRequest: AbortRequest | undefined;
}

/** The approval of one wave, as given. */
export type WaveApproval = ReleaseCarried['approvals'][number];

/**
 * The release's long-lived state, free of Temporal calls so a plain unit test can drive it: the
 * services and where each is, the waves, the approvals, a halt, a rollback asked for. The run loop
 * (run.ts) and the children (children.ts) change it; the handlers (handlers.ts) check and record what
 * operators send. Every change bumps `version`, which is what the run loop waits on.
 */
export class ReleaseState {
  readonly services: ReleaseService[];
  readonly waves: { start: number; end: number }[];
  readonly approvals: WaveApproval[];
  readonly forgiven: number[];
  readonly decisions: ReleaseDecision[];
  readonly dryRun: boolean;
  waveIndex: number;
  halted: { reason: string; since: string } | undefined;
  rollback: { by: string; reason: string; at: string } | undefined;
  /** The last look at the wave's clusters (which, when in epoch ms, and those frozen); not carried: a new run looks again. */
  freeze: { frozen: { cluster: string; reason: string }[]; checked: string[]; at: number } | undefined;
  promotions: number;
  notifySeq: number;
  readonly continuedRuns: number;
  version = 0;

  constructor(
    readonly input: ReleaseWorkflowInput,
    private readonly controls: ControlsView,
    private readonly now: () => Date = () => new Date(),
  ) {
    const c = input.carried;
    this.dryRun = input.dryRun === true;
    this.waves = waveRanges(planWaves(input.targets.length, input.waves ?? DEFAULT_WAVES));
    const wave = (i: number) => this.waves.findIndex((w) => i >= w.start && i < w.end) + 1;
    this.services = c ? c.services.map((s) => ({ ...s })) : input.targets.map((t, i) => ({ cluster: t.cluster, service: t.service, wave: wave(i), state: 'pending' as const }));
    this.approvals = c ? [...c.approvals] : [];
    this.forgiven = c ? [...c.forgiven] : this.waves.map(() => 0);
    this.decisions = c ? [...c.decisions] : [];
    this.waveIndex = c?.waveIndex ?? 0;
    this.halted = c?.halted;
    this.rollback = c?.rollback;
    this.promotions = c?.promotions ?? 0;
    this.notifySeq = c?.notifySeq ?? 0;
    this.continuedRuns = c ? c.continuedRuns + 1 : 0;
  }

  get phase(): ReleasePhase {
    return this.controls.phase as ReleasePhase;
  }

  get id(): string {
    return this.input.id;
  }

  bump(): void {
    this.version += 1;
  }

  decide(decision: string, reason: string): void {
    this.decisions.push({ at: this.now().toISOString(), phase: this.phase, decision, reason });
    if (this.decisions.length > MAX_KEPT_DECISIONS) this.decisions.splice(0, this.decisions.length - MAX_KEPT_DECISIONS);
  }

  nowMs(): number {
    return this.now().getTime();
  }

  // ---- services ----

  name(i: number): string {
    const s = this.services[i]!;
    return `${s.cluster}/${s.service}`;
  }

  /** Indices of the wave's services (0-based wave). */
  waveMembers(w = this.waveIndex): number[] {
    const r = this.waves[w];
    return r ? Array.from({ length: r.end - r.start }, (_, k) => r.start + k) : [];
  }

  inState(states: readonly ReleaseServiceState[], among?: number[]): number[] {
    return (among ?? this.services.map((_, i) => i)).filter((i) => states.includes(this.services[i]!.state));
  }

  /** Deploys of the release running now (forward or rollback). */
  active(): number[] {
    return this.inState(['running', 'reverting']).filter((i) => this.services[i]!.workflowId !== undefined);
  }

  /** The deploy input of service `i`: its change forward, or its previous task definition for a rollback. */
  deployInput(i: number, releaseApproval: ReleaseApproval | undefined, revert = false): DeployInput {
    const t = this.input.targets[i]!;
    const s = this.services[i]!;
    const approval = t.approval !== undefined ? this.input.approvals[t.approval] : undefined;
    const change = revert ? { taskDefinition: s.previousTaskDefinition ?? '' } : t.image !== undefined ? { image: t.image } : { taskDefinition: t.taskDefinition ?? '' };
    return {
      cluster: t.cluster,
      service: t.service,
      ...change,
      ...(this.input.requestedBy !== undefined ? { requestedBy: this.input.requestedBy } : {}),
      // A rollback returns to what ran before the release: a freeze, which holds new changes back, must not hold it.
      ...(revert ? { force: true } : {}),
      ...(this.dryRun ? { dryRun: true } : {}),
      ...(approval ? { approval } : {}),
      ...(releaseApproval ? { releaseApproval } : {}),
    };
  }

  /** The approval the deploys of the current wave carry, as their gates read it. */
  waveApproval(): ReleaseApproval | undefined {
    const a = this.approvalOf(this.waveIndex);
    if (!a) return undefined;
    return { release: `release-${this.id}`, wave: this.waveIndex + 1, by: a.by, ...(a.viaGroup ? { viaGroup: a.viaGroup } : {}), ...(a.reason ? { reason: a.reason } : {}) };
  }

  approvalOf(w: number): WaveApproval | undefined {
    return this.approvals.find((a) => a.wave === w + 1);
  }

  set(i: number, state: ReleaseServiceState, fields: Partial<ReleaseService> = {}): void {
    Object.assign(this.services[i]!, fields, { state, since: this.nowMs() });
    this.bump();
  }

  /** A deploy of the release ended with `r`. */
  recordResult(i: number, r: DeployResult): void {
    const s = this.services[i]!;
    // A deploy refused because the service runs its revision already has nothing to do: there already.
    const there = r.outcome === 'refused' && r.taskDefinition !== undefined && r.taskDefinition === r.previousTaskDefinition;
    if (s.state === 'reverting') {
      const ok = r.outcome === 'promoted' || r.outcome === 'dry-run-complete' || there;
      this.set(i, ok ? 'reverted' : 'revert-failed', { outcome: r.outcome, reason: r.reason, adopted: false });
      this.decide(ok ? 'reverted' : 'revert failed', `${this.name(i)}: ${r.reason}`);
      return;
    }
    const fields = { outcome: r.outcome, reason: r.reason, adopted: false, previousTaskDefinition: r.previousTaskDefinition, taskDefinition: r.taskDefinition };
    if (there) {
      // The service runs the change already (an earlier release, a deploy of its own): nothing to do, nothing to undo.
      this.set(i, 'skipped', { ...fields, reason: `already runs ${r.taskDefinition}: nothing to deploy` });
    } else if (r.outcome === 'promoted' || r.outcome === 'dry-run-complete') {
      this.promotions += 1;
      this.set(i, 'promoted', { ...fields, promotedSeq: this.promotions });
    } else {
      this.set(i, r.outcome === 'rolled-back' ? 'rolled-back' : 'failed', fields);
      this.decide(r.outcome, `${this.name(i)}: ${r.reason}`);
    }
    this.checkBudget();
  }

  /** A deploy of the release ended without a result (failed, cancelled, terminated, timed out). */
  recordEnded(i: number, reason: string): void {
    const s = this.services[i]!;
    this.set(i, s.state === 'reverting' ? 'revert-failed' : 'failed', { reason, adopted: false });
    this.decide('deploy ended', `${this.name(i)}: ${reason}`);
    this.checkBudget();
  }

  // ---- waves, budget, halt ----

  failuresIn(w: number): number[] {
    return this.inState(FAILED, this.waveMembers(w));
  }

  overBudget(w = this.waveIndex): boolean {
    const members = this.waveMembers(w);
    const allowed = failuresAllowed(this.input.failureBudget ?? 0, members.length);
    return this.failuresIn(w).length - (this.forgiven[w] ?? 0) > allowed;
  }

  /** Halts when the current wave is past its budget; lifts a halt a skip brought back within it. */
  checkBudget(): void {
    // A rollback or an abort ends the forward path: deploys ending then are no reason to halt.
    if (this.rollback || this.controls.abortRequest) return;
    const w = this.waveIndex;
    if (!this.halted && this.overBudget(w)) {
      const failed = this.failuresIn(w).map((i) => `${this.name(i)} ${this.services[i]!.state}: ${this.services[i]!.reason ?? ''}`);
      const allowed = failuresAllowed(this.input.failureBudget ?? 0, this.waveMembers(w).length);
      this.halted = { reason: `wave ${w + 1}: ${failed.length} failed (budget ${allowed}): ${failed.slice(0, 3).join('; ')}`, since: this.now().toISOString() };
      this.decide('halt', this.halted.reason);
      this.bump();
    } else if (this.halted && !this.overBudget(w)) {
      this.decide('resume', `wave ${w + 1} is within its failure budget again`);
      this.halted = undefined;
      this.bump();
    }
  }

  /** Nothing of the wave is left to start or to end. */
  waveOver(w = this.waveIndex): boolean {
    return this.inState(['pending', 'waiting', 'running'], this.waveMembers(w)).length === 0;
  }

  isLastWave(): boolean {
    return this.waveIndex >= this.waves.length - 1;
  }

  /** Promoted services a rollback still has to revert, newest promotion first. */
  toRevert(): number[] {
    return this.inState(['promoted']).sort((a, b) => (this.services[b]!.promotedSeq ?? 0) - (this.services[a]!.promotedSeq ?? 0));
  }

  /** What the next run starts from: deploys running now are followed there by polling (`adopted`). */
  carry(phase: ReleasePhase, paused: boolean): ReleaseCarried {
    return {
      phase,
      paused,
      waveIndex: this.waveIndex,
      services: this.services.map((s) => (s.workflowId !== undefined && (s.state === 'running' || s.state === 'reverting') ? { ...s, adopted: true } : { ...s })),
      approvals: [...this.approvals],
      forgiven: [...this.forgiven],
      ...(this.halted ? { halted: this.halted } : {}),
      ...(this.rollback ? { rollback: this.rollback } : {}),
      decisions: this.decisions.slice(-MAX_KEPT_DECISIONS),
      promotions: this.promotions,
      notifySeq: this.notifySeq,
      continuedRuns: this.continuedRuns,
    };
  }

  recordApproval(req: ApproveWaveRequest): void {
    this.approvals.push({ ...req, wave: this.waveIndex + 1, at: this.now().toISOString() });
    this.decide('approve', `wave ${this.waveIndex + 1} approved by ${req.by}${req.viaGroup ? ` (user group ${req.viaGroup})` : ''}${req.reason ? `: ${req.reason}` : ''}`);
    this.bump();
  }
}
