import type { WorkflowInfo } from '@temporalio/workflow';
import type { ChatThread } from '../../common/chat';
import type { ReleaseOutcome, ReleasePhase, ReleaseResult } from '../../contracts/release/messages';
import { failureMessage } from '../lib/failure-message';
import type { OperatorControls } from '../lib/operator-controls';
import { notify } from './activity-options';
import type { ReleaseState } from './state';
import { releaseResult, summary } from './status';

/** Phases that are routine: the rest are news for the people following the release. */
const QUIET: readonly ReleasePhase[] = ['deploying'];

/** What every step of one release run works with: its state, the operator controls, and the moves with effects outside the state. */
export class ReleaseContext {
  private chat: ChatThread | undefined;

  constructor(
    readonly state: ReleaseState,
    readonly controls: OperatorControls,
    readonly info: WorkflowInfo,
  ) {}

  /** Sets the phase (and FleetopsPhase), records why, and tells people; a notification outage is recorded, not fatal. */
  async enterPhase(phase: ReleasePhase, reason: string): Promise<void> {
    const { controls, state, info } = this;
    if (controls.phase === phase) return;
    controls.setPhase(phase);
    state.decide(`enter ${phase}`, reason);
    state.bump();
    if (QUIET.includes(phase)) return;
    state.notifySeq += 1;
    try {
      const sent = await notify({
        kind: 'release',
        workflowId: info.workflowId,
        title: `${state.dryRun ? '[dry run] ' : ''}release ${state.id}: ${phase}`,
        text: `${reason}\n${summary(state, controls.paused)}`,
        // The sequence is carried through continue-as-new, so keys stay unique over the whole release.
        idempotencyKey: `${info.workflowId}/${info.firstExecutionRunId}/phase/${state.notifySeq}`,
        fields: { change: state.input.change, ...(state.input.requestedBy ? { 'requested by': state.input.requestedBy } : {}) },
        ...(this.chat ? { chat: this.chat } : {}),
      });
      this.chat = sent?.chat ?? this.chat;
    } catch (err) {
      state.decide('notification failed', failureMessage(err));
    }
  }

  async finish(outcome: ReleaseOutcome, reason: string): Promise<ReleaseResult> {
    await this.enterPhase(outcome, reason);
    return releaseResult(this.state, outcome, reason);
  }
}
