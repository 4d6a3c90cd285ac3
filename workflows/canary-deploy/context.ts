import type { WorkflowInfo } from '@temporalio/workflow';
import type { ChatThread } from '../../common/chat';
import type { DeployInput } from '../../contracts/canary-deploy/input';
import { recordDeployFinished } from '../lib/metrics';
import type { OperatorControls } from '../lib/operator-controls';
import { notifications } from './activity-options';
import { deployChatFacts } from './chat';
import { errorMessage } from './failures';
import type { DeployOutcome, DeployPhase, DeployResult } from '../../contracts/canary-deploy/messages';
import type { DeployState } from './state';

/**
 * What every phase of one deploy works with: its state, the operator controls, and the three moves
 * that have effects outside the state (enter a phase and say so, honour pause/abort, finish).
 */
export class DeployContext {
  readonly input: DeployInput;
  /** This run's chat thread, as the last notification returned it (activities/chat/post.ts). */
  private chat: ChatThread | undefined;

  constructor(
    readonly state: DeployState,
    readonly controls: OperatorControls,
    readonly info: WorkflowInfo,
  ) {
    this.input = state.input;
  }

  /** Sets the phase (and FleetopsPhase), records why, and notifies; a notification outage is recorded, not fatal. */
  async enterPhase(phase: DeployPhase, reason: string): Promise<void> {
    const { controls, state, input, info } = this;
    if (controls.phase === phase) return;
    controls.setPhase(phase);
    state.decide(`enter ${phase}`, reason);
    const seq = state.nextNotifySeq();
    try {
      const sent = await notifications.notify({
        kind: 'deploy',
        workflowId: info.workflowId,
        title: `${state.dryRun ? '[dry run] ' : ''}deploy ${input.cluster}/${input.service}: ${phase}`,
        text: reason,
        idempotencyKey: `${info.workflowId}/${info.runId}/phase/${seq}`,
        fields: {
          revision: state.canaryTaskDefinition ?? input.image ?? input.taskDefinition ?? '',
          ...(input.requestedBy ? { 'requested by': input.requestedBy } : {}),
        },
        ...(this.chat ? { chat: this.chat } : {}),
        deploy: deployChatFacts(state, controls.abortRequest, phase),
      });
      // `?.`: a notify that answers nothing (older workers, test doubles) leaves the thread as it was.
      this.chat = sent?.chat ?? this.chat;
    } catch (err) {
      // A webhook outage must not stop a deploy or a rollback; the miss is on the record instead.
      state.decide('notification failed', errorMessage(err));
    }
  }

  /** A step boundary: waits while paused, then leaves for rollback on an abort or a canary failure. */
  async checkpoint(): Promise<void> {
    await this.controls.checkpoint();
    this.state.throwIfInterrupted('canary');
  }

  async finish(outcome: DeployOutcome, reason: string): Promise<DeployResult> {
    this.state.outcome = outcome;
    this.state.finalReason = reason;
    await this.enterPhase(outcome, reason);
    recordDeployFinished(outcome, this.input.cluster);
    return this.state.result(outcome, reason);
  }
}
