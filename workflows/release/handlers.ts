import type { ControlRequest } from '../../contracts/controls';
import { TERMINAL_RELEASE_PHASES, type ApproveWaveRequest, type ReleaseStatus, type RollbackRequest, type SkipRequest } from '../../contracts/release/messages';
import { approvalRefusal } from '../canary-deploy/approval';
import type { ReleaseState } from './state';

/**
 * What operators send a release, checked (validators: a refusal leaves no trace in history) and then
 * recorded. Authority is the deploy's own (workflows/canary-deploy/approval.ts), applied to every
 * service concerned: a release passes its deploys' gates, so whoever lets it go on must be someone who
 * could have approved each of those deploys, and never its requester.
 */

const byOf = (req: ControlRequest | undefined): string => (typeof req?.by === 'string' ? req.by.trim() : '');

/** The first refusals of `req` for the deploys of `members` (up to three, and how many more). */
export function authorityRefusal(state: ReleaseState, members: number[], req: { by?: string; viaGroup?: string }): string | undefined {
  const refusals = [...new Set(members.map((i) => approvalRefusal(state.deployInput(i, undefined), req)).filter((r): r is string => r !== undefined))];
  if (refusals.length === 0) return undefined;
  const more = refusals.length > 3 ? ` (and ${refusals.length - 3} more)` : '';
  return `${refusals.slice(0, 3).join('; ')}${more}`;
}

function refuseWhenOver(state: ReleaseState, abortReason: string | undefined): void {
  if (TERMINAL_RELEASE_PHASES.includes(state.phase)) throw new Error(`release ${state.id} already finished: ${state.phase}`);
  if (abortReason !== undefined) throw new Error(`release ${state.id} is being aborted: ${abortReason}`);
}

export class ReleaseHandlers {
  constructor(
    private readonly state: ReleaseState,
    private readonly abortReason: () => string | undefined,
    private readonly status: () => ReleaseStatus,
  ) {}

  validateApproveWave(req: ApproveWaveRequest | undefined): void {
    const { state } = this;
    refuseWhenOver(state, this.abortReason());
    const wave = state.waveIndex + 1;
    if (state.phase !== 'awaiting-approval') throw new Error(`nothing to approve: release ${state.id} is ${state.phase}, not waiting for a wave's approval`);
    if (state.rollback) throw new Error(`release ${state.id} is rolling back`);
    if (byOf(req) === '') throw new Error(`an approval must say who approves (by): nobody approves wave ${wave} of ${state.id} anonymously`);
    if (req?.wave !== undefined && req.wave !== wave) throw new Error(`wave ${wave} waits for approval, not wave ${req.wave}`);
    const given = state.approvalOf(state.waveIndex);
    if (given) throw new Error(`wave ${wave} is already approved (by ${given.by}); it starts when the release is resumed`);
    const refusal = authorityRefusal(state, state.waveMembers(), req ?? {});
    if (refusal) throw new Error(`${byOf(req)} may not approve wave ${wave}: ${refusal}`);
  }

  approveWave(req: ApproveWaveRequest): ReleaseStatus {
    this.state.recordApproval({ ...req, by: req.by.trim() });
    return this.status();
  }

  /** Continue after a halt: allowed to someone who may approve every service the wave has yet to deploy. */
  validateContinue(req: ControlRequest | undefined): void {
    const { state } = this;
    refuseWhenOver(state, this.abortReason());
    if (!state.halted) throw new Error(`release ${state.id} is not halted (${state.phase})`);
    if (state.rollback) throw new Error(`release ${state.id} is rolling back`);
    if (byOf(req) === '') throw new Error('continue must say who continues (by)');
    // Nothing left to deploy in the wave: continuing accepts its failures, so it takes an approver of the whole wave.
    const left = state.inState(['pending', 'waiting'], state.waveMembers());
    const refusal = authorityRefusal(state, left.length > 0 ? left : state.waveMembers(), req ?? {});
    if (refusal) throw new Error(`${byOf(req)} may not continue wave ${state.waveIndex + 1}: ${refusal}`);
  }

  continueRelease(req: ControlRequest): ReleaseStatus {
    const { state } = this;
    const w = state.waveIndex;
    state.forgiven[w] = state.failuresIn(w).length;
    state.decide('continue', `${byOf(req)} continues wave ${w + 1} after: ${state.halted?.reason ?? ''}${req.reason ? ` (${req.reason})` : ''}`);
    state.halted = undefined;
    state.bump();
    return this.status();
  }

  /** The service a skip names: `<cluster>/<service>`, or a service name only one cluster has. */
  private serviceOf(name: string): number {
    const { state } = this;
    const matches = state.services.map((s, i) => (`${s.cluster}/${s.service}` === name || (!name.includes('/') && s.service === name) ? i : -1)).filter((i) => i >= 0);
    if (matches.length === 0) throw new Error(`release ${state.id} has no service ${name}`);
    if (matches.length > 1) throw new Error(`${name} is in ${matches.length} clusters of release ${state.id}: name it <cluster>/<service>`);
    return matches[0]!;
  }

  validateSkip(req: SkipRequest | undefined): void {
    const { state } = this;
    refuseWhenOver(state, this.abortReason());
    if (byOf(req) === '') throw new Error('skip must say who skips (by)');
    if (typeof req?.service !== 'string') throw new Error('skip must name a service');
    const i = this.serviceOf(req.service);
    const s = state.services[i]!;
    if (!['pending', 'waiting', 'rolled-back', 'failed'].includes(s.state)) {
      throw new Error(`${state.name(i)} is ${s.state}: only a service that failed, waits or has not started can be skipped`);
    }
    // A skip can lift a halt as continue does, so it takes an approver of the service, as continue does.
    const refusal = authorityRefusal(state, [i], req ?? {});
    if (refusal) throw new Error(`${byOf(req)} may not skip ${state.name(i)}: ${refusal}`);
  }

  skip(req: SkipRequest): ReleaseStatus {
    const { state } = this;
    const i = this.serviceOf(req.service);
    const was = state.services[i]!;
    const why = `skipped by ${byOf(req)}${req.reason ? `: ${req.reason}` : ''} (was ${was.state}${was.reason ? `: ${was.reason}` : ''})`;
    state.set(i, 'skipped', { reason: why });
    state.decide('skip', `${state.name(i)} ${why}`);
    state.checkBudget();
    return this.status();
  }

  /**
   * Rolling back what the release promoted: its requester may always undo their own change; anyone else
   * must be someone who may approve every service the rollback could deploy (promoted, or running now),
   * or every service of the release when there is none.
   */
  validateRollback(req: RollbackRequest | undefined): void {
    const { state } = this;
    refuseWhenOver(state, this.abortReason());
    if (state.rollback) throw new Error(`release ${state.id} is already rolling back (by ${state.rollback.by})`);
    const by = byOf(req);
    if (by === '') throw new Error('rollback must say who asks (by)');
    if (typeof req?.reason !== 'string' || req.reason.trim() === '') throw new Error('rollback needs a reason');
    const requester = new Set([...(state.input.requestedBy !== undefined ? [state.input.requestedBy] : []), ...state.input.approvals.flatMap((a) => a.requester ?? [])]);
    if (requester.has(by)) return;
    // With nothing promoted or running, a rollback only ends the release: then it takes an approver of
    // every service in it, or anyone could stop a release they have no say over.
    const touched = state.inState(['promoted', 'running']);
    const refusal = authorityRefusal(state, touched.length > 0 ? touched : state.services.map((_, i) => i), req);
    if (refusal) throw new Error(`${by} may not roll back release ${state.id}: ${refusal}`);
  }

  rollback(req: RollbackRequest): ReleaseStatus {
    const { state } = this;
    state.rollback = { by: byOf(req), reason: req.reason.trim(), at: new Date(state.nowMs()).toISOString() };
    state.decide('rollback', `asked by ${state.rollback.by}: ${state.rollback.reason}`);
    state.bump();
    return this.status();
  }

  rejectAbort(): string | undefined {
    if (TERMINAL_RELEASE_PHASES.includes(this.state.phase)) return `release already finished: ${this.state.phase}`;
    return undefined;
  }
}
